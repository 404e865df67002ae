import { formatDuration } from '../model/duration.js';
import { formatTimestamp } from '../model/time.js';
import type { ApprovalEvidence } from '../policy/approval.js';
import { reviewEvidence } from '../policy/evidence-signature.js';
import type { AuditHistory, PolicySnapshot } from './lifecycle-model.js';
import type { AuditFilter, Violation } from './query.js';

/** One break-glass use, as `audit --verify` lists it. */
export interface BreakGlassRow {
  grant: string;
  user: string;
  target: string;
  role: string;
  commit: string;
  pr: number;
  /** The PR's author, as the evidence recorded it. */
  author: string;
  /** When it landed on main (git): the review clock starts there. */
  appliedAt: string;
  /** landed + reviewWithin of the policy in force then; empty when that policy has no breakGlass. */
  reviewBy: string;
  reviewedBy: string;
  reviewedAt: string;
  /**
   * yes (a review in time whose signature verifies) | no | pending (deadline not reached, grant
   * live) | unknown (no reviewWithin to judge by) | unverified (a review is recorded, but no key
   * to check its signature: it may be a writer's).
   */
  inTime: 'yes' | 'no' | 'pending' | 'unknown' | 'unverified';
  /** Its file left main in a revocation before its expiresAt. */
  revokedEarly: boolean;
  /**
   * How far the use's record can be trusted: `signed` (by the evidence key), `unsigned` (no key to
   * check), `forged` (does not verify).
   */
  evidence: 'signed' | 'unsigned' | 'forged';
  /** The recorded review's own signature, as `evidence`; empty when no review is recorded. */
  review: '' | 'signed' | 'unsigned' | 'forged';
}

export interface BreakGlassAuditOptions {
  now: Date;
  /** How long access may outlive its review deadline before it is a finding (the reaper's schedule). */
  toleranceMs: number;
  /** reviewWithin (ms) of `role` on `target` under a policy snapshot, if it allows break-glass. */
  reviewWithinAt(policies: PolicySnapshot, target: string, role: string): number | undefined;
  verifyEvidence?: (grantId: string, evidence: ApprovalEvidence) => boolean;
}

const matches = (x: { user: string; target: string; role: string }, f: AuditFilter) =>
  (!f.user || x.user.toLowerCase() === f.user.toLowerCase()) &&
  (!f.target || x.target === f.target) &&
  (!f.role || x.role === f.role);

/**
 * Every break-glass use the notes record, with what history says of it: when it landed, when its
 * review was due, whether a review in time was recorded, whether it was revoked early. A use whose
 * access outlived its deadline (plus the tolerance) with no review in time is a finding. Notes are
 * untrusted: each row says whether its record verifies.
 */
export function auditBreakGlass(
  history: AuditHistory,
  opts: BreakGlassAuditOptions,
  f: AuditFilter = {},
): { rows: BreakGlassRow[]; violations: Violation[] } {
  const rows: BreakGlassRow[] = [];
  const violations: Violation[] = [];
  const now = opts.now.getTime();
  for (const life of history.lifecycles) {
    life.versions.forEach((v, i) => {
      const use = v.approval?.breakGlass;
      if (!use || !v.approval || !matches(v, f)) return;
      const last = i === life.versions.length - 1;
      // The version ended when the next one landed, or when the file left main.
      const endedAt = last ? life.ended?.landed.time : life.versions[i + 1]!.landed.time;
      const within = opts.reviewWithinAt(v.policies, v.target, v.role);
      const due = within === undefined ? undefined : v.landed.time + within;
      // A review counts only when its own signature verifies: the reaper signs what it saw on
      // GitHub, while a writer can push a note saying "reviewed" (unsigned, or signed for another).
      const review = use.review;
      const reviewValid = review
        ? opts.verifyEvidence?.(v.id, reviewEvidence(v.approval, review))
        : undefined;
      const reviewedAt = review && reviewValid === true ? Date.parse(review.at) : undefined;
      const expires = v.expiresAt ?? Infinity;
      const live = endedAt === undefined && now < expires;
      const inTime: BreakGlassRow['inTime'] =
        due === undefined
          ? 'unknown'
          : reviewedAt !== undefined && reviewedAt <= due
            ? 'yes'
            : now < due && live
              ? 'pending'
              : review && reviewValid === undefined
                ? 'unverified'
                : 'no';
      const revokedEarly = last && life.ended?.type === 'revoked' && life.ended.landed.time < expires;
      const valid = opts.verifyEvidence?.(v.id, v.approval);
      rows.push({
        grant: v.id,
        user: v.user,
        target: v.target,
        role: v.role,
        commit: v.landed.commit,
        pr: v.approval.pr,
        author: use.author,
        appliedAt: formatTimestamp(new Date(v.landed.time)),
        reviewBy: due === undefined ? '' : formatTimestamp(new Date(due)),
        reviewedBy: review?.by ?? '',
        reviewedAt: review?.at ?? '',
        review: !review
          ? ''
          : reviewValid === true
            ? 'signed'
            : reviewValid === false
              ? 'forged'
              : 'unsigned',
        inTime,
        revokedEarly,
        evidence: valid === true ? 'signed' : valid === false ? 'forged' : 'unsigned',
      });
      // Replaced by a later version of its file before any review: how uses were chained to move
      // the deadline (an edit now needs ordinary approval, but history may hold older chains).
      const replacedAt = last ? undefined : endedAt;
      if (replacedAt !== undefined && !(reviewedAt !== undefined && reviewedAt <= replacedAt)) {
        violations.push({
          kind: 'break-glass-replaced-unreviewed',
          grant: v.id,
          user: v.user,
          target: v.target,
          role: v.role,
          commit: v.landed.commit,
          message: `break-glass use (PR #${v.approval.pr}) was replaced by a new version of its file at ${formatTimestamp(new Date(replacedAt))}, before it was reviewed`,
        });
      }
      // Its access ended (at its own expiresAt, or its file removed sooner) before its deadline,
      // which has passed with no review in time: the emergency access was never reviewed, and the
      // reaper, which asks GitHub only of a file still on main, may never have said so. A removal
      // with a `Revoked-Grant:` trailer is no excuse: the reaper revokes an unreviewed use only
      // once its deadline has passed, and anyone who can push can write that trailer.
      const accessEnded = Math.min(endedAt ?? Infinity, expires);
      if (last && inTime === 'no' && due !== undefined && accessEnded < due && now >= due) {
        violations.push({
          kind: 'break-glass-never-reviewed',
          grant: v.id,
          user: v.user,
          target: v.target,
          role: v.role,
          commit: v.landed.commit,
          message: `break-glass use (PR #${v.approval.pr}) ended at ${formatTimestamp(new Date(accessEnded))}, used and never reviewed (review was due by ${formatTimestamp(new Date(due))})`,
        });
      }
      // Access held past the deadline without a review in time: the control did not act.
      const heldUntil = Math.min(endedAt ?? now, expires);
      if (inTime === 'no' && due !== undefined && heldUntil - due > opts.toleranceMs) {
        violations.push({
          kind: 'break-glass-unreviewed',
          grant: v.id,
          user: v.user,
          target: v.target,
          role: v.role,
          commit: v.landed.commit,
          message: `break-glass use (PR #${v.approval.pr}) not reviewed by ${formatTimestamp(new Date(due))}, yet its access was kept ${formatDuration(heldUntil - due)} longer (tolerance ${formatDuration(opts.toleranceMs)})`,
        });
      }
    });
  }
  rows.sort((a, b) => (a.appliedAt < b.appliedAt ? -1 : a.appliedAt > b.appliedAt ? 1 : 0));
  return { rows, violations };
}
