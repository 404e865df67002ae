import type { GrantLifecycle, GrantVersion } from '../audit/lifecycle-model.js';
import type { ApprovalEvidence } from '../policy/approval.js';

/**
 * The dashboard's facts at one instant, from the audit's lifecycles alone (no I/O): who has access,
 * what expires soon, what is overdue, what the targets hold against the grants (when they were read),
 * and every grant's span over the days around now. The renderers (render/report-*.ts) only show it.
 */

export const DAY_MS = 86_400_000;
/** The timeline covers this many days before and after now. */
export const TIMELINE_DAYS = 14;

/** A grant on main at `now`, as the dashboard shows it. */
export interface ReportGrant {
  grant: string;
  user: string;
  target: string;
  role: string;
  reason: string;
  ticket: string | undefined;
  state: 'active' | 'expiring' | 'pending' | 'overdue';
  /** ms: when this access began (landed on main, or its startsAt). */
  since: number;
  /** ms: expiresAt; undefined when the file never said (an invalid grant still on main). */
  until: number | undefined;
  /** Approvers the apply workflow recorded for this version (a git note). */
  approvers: readonly string[];
  /** The recorded approval's signature checked out with the evidence key (undefined: no record). */
  approvalVerified: boolean | undefined;
  pr: number | undefined;
  commit: string;
}

/** Access found on a target that no grant explains. */
export interface UnexplainedAccess {
  target: string;
  user: string;
  entitlement: string;
  /** The policy enforces: the next apply revokes it. */
  enforced: boolean;
}

/** What reading the targets found (`--observe`). */
export interface ObservedTargets {
  unexplained: readonly UnexplainedAccess[];
  /** Approved, started grants whose target lacks the access. */
  missing: ReadonlySet<string>;
  /** Expired grants whose access the target still holds: how long (ms) it has outlived them. */
  outlives: ReadonlyMap<string, number>;
  unreadable: readonly { target: string; error: string }[];
}

export type DriftReport =
  | { checked: false }
  | {
      checked: true;
      unexplained: UnexplainedAccess[];
      missing: ReportGrant[];
      unreadable: { target: string; error: string }[];
    };

/** One grant's span on the timeline (clipped by the renderer to the window). */
export interface TimelineBar {
  grant: string;
  user: string;
  target: string;
  role: string;
  /** ms */
  start: number;
  /** ms; undefined: no end known (no expiresAt). */
  end: number | undefined;
  kind: 'past' | 'active' | 'pending' | 'overdue';
}

/** A grant expiry, one calendar event each. */
export interface Expiry {
  grant: string;
  user: string;
  target: string;
  role: string;
  reason: string;
  /** ms */
  expiresAt: number;
  pr: number | undefined;
}

export interface ReportModel {
  /** ms */
  now: number;
  /** Active and expiring grants: who has access now, by target, user, grant. */
  access: ReportGrant[];
  /** Subset of access ending within its policy's expiring window, soonest first. */
  expiring: ReportGrant[];
  /** Grants on main whose startsAt has not come. */
  pending: ReportGrant[];
  /** Grants still on main past their expiresAt, most overdue first; with observe, whether access remains. */
  overdue: (ReportGrant & { overdueMs: number; accessPresent: boolean | undefined })[];
  drift: DriftReport;
  /** Every grant whose span meets [now - 14 d, now + 14 d], by target then start. */
  timeline: TimelineBar[];
  /** Expiries of grants on main, and of grants whose expiry fell in the last 14 days. */
  expiries: Expiry[];
  totals: { lifecycles: number; onMain: number; targets: number; users: number };
}

export interface ReportInput {
  now: Date;
  lifecycles: readonly GrantLifecycle[];
  /** The status window in which a grant counts as expiring (its policy's first alert). */
  expiringWindowMs(target: string, role: string): number;
  /** Checks recorded approval evidence; absent: every record is unverified. */
  verifyEvidence?: (grantId: string, evidence: ApprovalEvidence) => boolean;
  observed?: ObservedTargets;
}

const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The dashboard's model at `input.now`: the versions and ends that had landed by then. */
export function buildReport(input: ReportInput): ReportModel {
  const now = input.now.getTime();
  const from = now - TIMELINE_DAYS * DAY_MS;
  const to = now + TIMELINE_DAYS * DAY_MS;
  const access: ReportGrant[] = [];
  const pending: ReportGrant[] = [];
  const overdue: ReportModel['overdue'] = [];
  const timeline: TimelineBar[] = [];
  const expiries: Expiry[] = [];
  const onMainById = new Map<string, ReportGrant>();
  const targets = new Set<string>();
  const users = new Set<string>();
  let lifecycles = 0;
  for (const life of input.lifecycles) {
    const first = life.versions[0];
    if (!first || first.landed.time > now) continue;
    lifecycles++;
    let last = first;
    for (const v of life.versions) if (v.landed.time <= now) last = v;
    const ended = life.ended && life.ended.landed.time <= now ? life.ended : undefined;
    const start = Math.max(first.landed.time, first.startsAt ?? 0);
    targets.add(last.target);
    users.add(last.user.toLowerCase());
    if (ended) {
      if (ended.landed.time >= from && start <= to)
        timeline.push(bar(last, start, Math.max(start, ended.landed.time), 'past'));
      if (last.expiresAt !== undefined && last.expiresAt >= from && last.expiresAt <= now)
        expiries.push(expiry(last, last.expiresAt));
      continue;
    }
    const row = grantRow(last, now, input);
    onMainById.set(row.grant, row);
    if (row.state === 'pending') pending.push(row);
    else if (row.state === 'overdue') {
      const accessPresent = input.observed ? input.observed.outlives.has(row.grant) : undefined;
      overdue.push({ ...row, overdueMs: now - (row.until ?? now), accessPresent });
    } else access.push(row);
    if (last.expiresAt !== undefined) expiries.push(expiry(last, last.expiresAt));
    const end = row.state === 'overdue' ? now : row.until;
    if ((end === undefined || end >= from) && row.since <= to)
      timeline.push(bar(last, row.since, end, row.state === 'expiring' ? 'active' : row.state));
  }
  access.sort(
    (a, b) =>
      byText(a.target, b.target) ||
      byText(a.user.toLowerCase(), b.user.toLowerCase()) ||
      byText(a.grant, b.grant),
  );
  pending.sort((a, b) => a.since - b.since || byText(a.grant, b.grant));
  overdue.sort((a, b) => b.overdueMs - a.overdueMs || byText(a.grant, b.grant));
  timeline.sort((a, b) => byText(a.target, b.target) || a.start - b.start || byText(a.grant, b.grant));
  expiries.sort((a, b) => a.expiresAt - b.expiresAt || byText(a.grant, b.grant));
  const expiring = access
    .filter((r) => r.state === 'expiring')
    .sort((a, b) => (a.until ?? 0) - (b.until ?? 0) || byText(a.grant, b.grant));
  const o = input.observed;
  const drift: DriftReport = o
    ? {
        checked: true,
        unexplained: [...o.unexplained].sort(
          (a, b) =>
            byText(a.target, b.target) || byText(a.user, b.user) || byText(a.entitlement, b.entitlement),
        ),
        missing: [...o.missing].sort(byText).flatMap((id) => {
          const row = onMainById.get(id);
          return row ? [row] : [];
        }),
        unreadable: [...o.unreadable].sort((a, b) => byText(a.target, b.target)),
      }
    : { checked: false };
  return {
    now,
    access,
    expiring,
    pending,
    overdue,
    drift,
    timeline,
    expiries,
    totals: { lifecycles, onMain: onMainById.size, targets: targets.size, users: users.size },
  };
}

function grantRow(v: GrantVersion, now: number, input: ReportInput): ReportGrant {
  const since = Math.max(v.landed.time, v.startsAt ?? 0);
  let state: ReportGrant['state'];
  if (v.expiresAt !== undefined && v.expiresAt <= now) state = 'overdue';
  else if (v.startsAt !== undefined && v.startsAt > now) state = 'pending';
  else if (v.expiresAt !== undefined && v.expiresAt - now <= input.expiringWindowMs(v.target, v.role))
    state = 'expiring';
  else state = 'active';
  return {
    grant: v.id,
    user: v.user,
    target: v.target,
    role: v.role,
    reason: v.reason,
    ticket: v.ticket,
    state,
    since,
    until: v.expiresAt,
    approvers: v.approval?.approvers ?? [],
    approvalVerified: v.approval ? (input.verifyEvidence?.(v.id, v.approval) ?? false) : undefined,
    pr: v.landed.pr,
    commit: v.landed.commit,
  };
}

function bar(
  v: GrantVersion,
  start: number,
  end: number | undefined,
  kind: TimelineBar['kind'],
): TimelineBar {
  return { grant: v.id, user: v.user, target: v.target, role: v.role, start, end, kind };
}

function expiry(v: GrantVersion, expiresAt: number): Expiry {
  return {
    grant: v.id,
    user: v.user,
    target: v.target,
    role: v.role,
    reason: v.reason,
    expiresAt,
    pr: v.landed.pr,
  };
}
