import { formatDuration } from '../model/duration.js';
import type { ApprovalEvidence } from '../policy/approval.js';
import { EVIDENCE_KEY_PATH } from '../policy/evidence-signature.js';
import type {
  HistoryEvent,
  AuditHistory,
  GrantLifecycle,
  GrantVersion,
  PolicySnapshot,
} from './lifecycle-model.js';

export interface AuditFilter {
  user?: string;
  target?: string;
  role?: string;
  since?: Date;
  until?: Date;
}

/** Whether a grant version is one the filter selects (user, target, role). */
export const matches = (x: { user: string; target: string; role: string }, f: AuditFilter) =>
  (!f.user || x.user.toLowerCase() === f.user.toLowerCase()) &&
  (!f.target || x.target === f.target) &&
  (!f.role || x.role === f.role);

export function filterEvents(events: readonly HistoryEvent[], f: AuditFilter): HistoryEvent[] {
  const since = f.since?.getTime() ?? -Infinity;
  const until = f.until?.getTime() ?? Infinity;
  return events.filter((e) => matches(e.version, f) && e.time >= since && e.time <= until);
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
    if (life.ended && life.ended.landed.time <= when) continue;
    const version = versionAt(life, when);
    if (!version || !matches(version, f)) continue;
    if (version.startsAt !== undefined && version.startsAt > when) continue;
    if (version.expiresAt !== undefined && version.expiresAt <= when) continue;
    out.push({
      grant: version.id,
      user: version.user,
      target: version.target,
      role: version.role,
      since: new Date(Math.max(version.landed.time, version.startsAt ?? 0)),
      expiresAt: version.expiresAt !== undefined ? new Date(version.expiresAt) : undefined,
      commit: version.landed.commit,
      pr: version.landed.pr,
      approvers: version.approval?.approvers,
      reason: version.reason,
    });
  }
  return out.sort((a, b) => (a.grant < b.grant ? -1 : 1));
}

function versionAt(life: GrantLifecycle, when: number): GrantVersion | undefined {
  let found: GrantVersion | undefined;
  for (const v of life.versions) if (v.landed.time <= when) found = v;
  return found;
}

export type ViolationKind =
  | 'unapproved'
  | 'overdue'
  | 'max-duration'
  | 'max-total'
  | 'forged-evidence'
  | 'unverified-evidence'
  | 'break-glass-unreviewed'
  | 'break-glass-replaced-unreviewed'
  | 'break-glass-never-reviewed'
  | 'extension-history';

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
  maxDurationAt(policies: PolicySnapshot, target: string, role: string): number | undefined;
  /** maxTotal (ms) of a role under policy snapshot `n`; undefined: none or unknown. */
  maxTotalAt?(policies: PolicySnapshot, target: string, role: string): number | undefined;
  /**
   * Checks a note's signature with the evidence key. Without one, recorded evidence cannot be told
   * from a note any writer of the repo could push: every approval is then an `unverified-evidence`
   * finding.
   */
  verifyEvidence?: (grantId: string, evidence: ApprovalEvidence) => boolean;
}

/**
 * The compliance check an auditor runs: every grant applied without recorded approval, every grant
 * whose access outlived expiresAt by more than the tolerance, every grant longer than the maxDuration
 * of the policy in force when it was merged.
 */
export function verifyHistory(history: AuditHistory, opts: VerifyOptions, f: AuditFilter = {}): Violation[] {
  const out: Violation[] = [];
  const origins = chainOrigins(history.lifecycles);
  for (const life of history.lifecycles) {
    const inRange = (t: number) =>
      (!f.since || t >= f.since.getTime()) && (!f.until || t <= f.until.getTime());
    for (const v of life.versions) {
      if (!matches(v, f) || !inRange(v.landed.time)) continue;
      const wouldApply = v.expiresAt === undefined || v.expiresAt > v.landed.time;
      if (v.approval) {
        const valid = opts.verifyEvidence?.(v.id, v.approval);
        if (valid !== true) {
          const where = `approval evidence on ${v.landed.commit.slice(0, 7)} (PR #${v.approval.pr}, by ${v.approval.approvers.join(', ') || 'nobody'})`;
          out.push(
            valid === false
              ? violation(
                  'forged-evidence',
                  v,
                  v.landed.commit,
                  `${where} is not signed by the evidence key: it was not written by the apply workflow`,
                )
              : violation(
                  'unverified-evidence',
                  v,
                  v.landed.commit,
                  `${where} cannot be verified: no evidence key (${EVIDENCE_KEY_PATH} or --evidence-key)`,
                ),
          );
        }
      }
      if (wouldApply && !v.approval) {
        out.push(
          violation(
            'unapproved',
            v,
            v.landed.commit,
            `no approval evidence recorded for commit ${v.landed.commit.slice(0, 7)}${v.landed.pr ? ` (PR #${v.landed.pr})` : ' (no PR)'}`,
          ),
        );
      }
      const max = opts.maxDurationAt(v.policies, v.target, v.role);
      if (v.expiresAt !== undefined && max !== undefined) {
        const length = v.expiresAt - Math.max(v.landed.time, v.startsAt ?? 0);
        if (length > max) {
          out.push(
            violation(
              'max-duration',
              v,
              v.landed.commit,
              `lasted ${formatDuration(length)}, over the ${formatDuration(max)} maximum of the policy in force when it was merged`,
            ),
          );
        }
      }
    }
    // maxTotal, for every version (extended, or moved by hand): its chain runs from when the file's
    // continuous history first landed and from the earliest startsAt any version had (chainOrigins).
    let earliest = origins.get(life)?.earliest ?? Infinity;
    for (const v of life.versions) {
      earliest = Math.min(earliest, v.startsAt ?? -Infinity);
      if (v.expiresAt === undefined || !matches(v, f) || !inRange(v.landed.time)) continue;
      const cap = opts.maxTotalAt?.(v.policies, v.target, v.role);
      const start = Math.max(origins.get(life)?.landed ?? v.landed.time, earliest);
      const total = v.expiresAt - start;
      if (cap !== undefined && total > cap)
        out.push(
          violation(
            'max-total',
            v,
            v.landed.commit,
            `${v.extension ? 'with its extensions ' : ''}lasted ${formatDuration(total)} since ${new Date(start).toISOString()} (when its file first landed on main, or its earliest startsAt), over the ${formatDuration(cap)} maxTotal of the policy in force when it was merged`,
          ),
        );
    }
    const last = life.versions[life.versions.length - 1];
    if (last?.expiresAt === undefined || !matches(last, f)) continue;
    const end = life.ended?.landed.time ?? opts.now.getTime();
    if (!inRange(end)) continue;
    const over = end - last.expiresAt;
    if (over > opts.toleranceMs) {
      out.push({
        kind: 'overdue',
        grant: life.id,
        user: last.user,
        target: last.target,
        role: last.role,
        commit: life.ended?.landed.commit ?? last.landed.commit,
        message: life.ended
          ? `${life.ended.type} ${formatDuration(over)} after expiresAt (tolerance ${formatDuration(opts.toleranceMs)})`
          : `still present ${formatDuration(over)} after expiresAt (tolerance ${formatDuration(opts.toleranceMs)})`,
      });
    }
  }
  // Stable by grant, so one grant's findings read together, in history order.
  // Array.prototype.sort is stable: equal grants keep history order.
  return out.sort((a, b) => (a.grant < b.grant ? -1 : a.grant > b.grant ? 1 : 0));
}

/**
 * Where each lifecycle's maxTotal chain starts: when its first version landed, and the earliest
 * startsAt before it (-Infinity: a version without one). A file deleted and added again while the
 * deleted version still held access (its expiresAt after the re-add, or unreadable: a delete and
 * re-add in one rebase-merged pull request) goes on with the chain of the deleted one, as at apply.
 */
function chainOrigins(
  lifecycles: readonly GrantLifecycle[],
): Map<GrantLifecycle, { landed: number; earliest: number }> {
  const origins = new Map<GrantLifecycle, { landed: number; earliest: number }>();
  const ended = new Map<string, { life: GrantLifecycle; last: GrantVersion }>();
  const byLanding = [...lifecycles].sort(
    (a, b) => (a.versions[0]?.landed.seq ?? 0) - (b.versions[0]?.landed.seq ?? 0),
  );
  for (const life of byLanding) {
    const first = life.versions[0];
    const last = life.versions[life.versions.length - 1];
    if (!first || !last) continue;
    const before = ended.get(first.file);
    const goesOn =
      before &&
      before.life.ended &&
      before.life.ended.landed.seq <= first.landed.seq &&
      (before.last.expiresAt === undefined || before.last.expiresAt > first.landed.time);
    const from = goesOn ? origins.get(before.life) : undefined;
    origins.set(life, from ?? { landed: first.landed.time, earliest: Infinity });
    if (from) {
      let earliest = from.earliest;
      for (const v of before!.life.versions) earliest = Math.min(earliest, v.startsAt ?? -Infinity);
      origins.set(life, { landed: from.landed, earliest });
    }
    if (life.ended) ended.set(last.file, { life, last });
  }
  return origins;
}

/** A finding with every key in one order (one shape for all of them). */
function violation(kind: ViolationKind, v: GrantVersion, commit: string, message: string): Violation {
  return { kind, grant: v.id, user: v.user, target: v.target, role: v.role, commit, message };
}
