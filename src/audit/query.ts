import { formatDuration } from '../model/duration.js';
import type { AuditEvent, AuditHistory, GrantLifecycle, GrantVersion } from './lifecycle.js';

export interface AuditFilter {
  user?: string;
  target?: string;
  role?: string;
  since?: Date;
  until?: Date;
}

const matches = (x: { user: string; target: string; role: string }, f: AuditFilter) =>
  (!f.user || x.user.toLowerCase() === f.user.toLowerCase()) &&
  (!f.target || x.target === f.target) &&
  (!f.role || x.role === f.role);

export function filterEvents(events: readonly AuditEvent[], f: AuditFilter): AuditEvent[] {
  return events.filter(
    (e) => matches(e, f) && (!f.since || e.time >= f.since) && (!f.until || e.time <= f.until),
  );
}

export interface ActiveAccess {
  grant: string;
  user: string;
  target: string;
  role: string;
  /** When this version of the grant took effect (landed on main, or its startsAt). */
  since: Date;
  expiresAt?: Date;
  commit: string;
  pr?: number;
  approvers?: string[];
  reason: string;
}

/** Who had access at instant `t`, and under which grant (the version in force then). */
export function activeAt(history: AuditHistory, t: Date, f: AuditFilter = {}): ActiveAccess[] {
  const out: ActiveAccess[] = [];
  const when = t.getTime();
  for (const life of history.lifecycles) {
    if (life.ended && life.ended.time.getTime() <= when) continue;
    const version = versionAt(life, when);
    if (!version || !matches(version, f)) continue;
    if (version.startsAt && version.startsAt.getTime() > when) continue;
    if (version.expiresAt && version.expiresAt.getTime() <= when) continue;
    out.push({
      grant: version.id,
      user: version.user,
      target: version.target,
      role: version.role,
      since: new Date(Math.max(version.time.getTime(), version.startsAt?.getTime() ?? 0)),
      ...(version.expiresAt ? { expiresAt: version.expiresAt } : {}),
      commit: version.commit,
      ...(version.pr !== undefined ? { pr: version.pr } : {}),
      ...(version.approval ? { approvers: version.approval.approvers } : {}),
      reason: version.reason,
    });
  }
  return out.sort((a, b) => (a.grant < b.grant ? -1 : 1));
}

function versionAt(life: GrantLifecycle, when: number): GrantVersion | undefined {
  let found: GrantVersion | undefined;
  for (const v of life.versions) if (v.time.getTime() <= when) found = v;
  return found;
}

export type ViolationKind = 'unapproved' | 'overdue' | 'max-duration';

export interface Violation {
  kind: ViolationKind;
  grant: string;
  user: string;
  target: string;
  role: string;
  commit: string;
  message: string;
}

export interface VerifyOptions {
  now: Date;
  /** How long access may outlive expiresAt before it is a finding (the reaper's schedule). */
  toleranceMs: number;
  /** maxDuration (ms) of `role` on `target` under policy snapshot `n`, or undefined if unknown. */
  maxDurationAt(snapshot: number, target: string, role: string): number | undefined;
}

/**
 * The compliance check an auditor runs: every grant applied without recorded approval, every grant
 * whose access outlived expiresAt by more than the tolerance, every grant longer than the maxDuration
 * of the policy in force when it was merged.
 */
export function verifyHistory(history: AuditHistory, opts: VerifyOptions, f: AuditFilter = {}): Violation[] {
  const out: Violation[] = [];
  for (const life of history.lifecycles) {
    const inRange = (t: Date) => (!f.since || t >= f.since) && (!f.until || t <= f.until);
    for (const v of life.versions) {
      if (!matches(v, f) || !inRange(v.time)) continue;
      const who = { grant: v.id, user: v.user, target: v.target, role: v.role, commit: v.commit };
      const wouldApply = !v.expiresAt || v.expiresAt.getTime() > v.time.getTime();
      if (wouldApply && !v.approval) {
        out.push({
          kind: 'unapproved',
          ...who,
          message: `no approval evidence recorded for commit ${v.commit.slice(0, 7)}${v.pr ? ` (PR #${v.pr})` : ' (no PR)'}`,
        });
      }
      const max = opts.maxDurationAt(v.policySnapshot, v.target, v.role);
      if (v.expiresAt && max !== undefined) {
        const length = v.expiresAt.getTime() - Math.max(v.time.getTime(), v.startsAt?.getTime() ?? 0);
        if (length > max) {
          out.push({
            kind: 'max-duration',
            ...who,
            message: `lasted ${formatDuration(length)}, over the ${formatDuration(max)} maximum of the policy in force when it was merged`,
          });
        }
      }
    }
    const last = life.versions[life.versions.length - 1];
    if (!last?.expiresAt || !matches(last, f)) continue;
    const end = life.ended?.time ?? opts.now;
    if (!inRange(end)) continue;
    const over = end.getTime() - last.expiresAt.getTime();
    if (over > opts.toleranceMs) {
      out.push({
        kind: 'overdue',
        grant: life.id,
        user: last.user,
        target: last.target,
        role: last.role,
        commit: life.ended?.commit ?? last.commit,
        message: life.ended
          ? `${life.ended.type} ${formatDuration(over)} after expiresAt (tolerance ${formatDuration(opts.toleranceMs)})`
          : `still present ${formatDuration(over)} after expiresAt (tolerance ${formatDuration(opts.toleranceMs)})`,
      });
    }
  }
  // Stable by grant, so one grant's findings read together, in history order.
  return out
    .map((v, i) => ({ v, i }))
    .sort((a, b) => (a.v.grant < b.v.grant ? -1 : a.v.grant > b.v.grant ? 1 : a.i - b.i))
    .map((x) => x.v);
}
