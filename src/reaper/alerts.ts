import { formatDuration } from '../model/duration.js';
import type { Grant } from '../model/grant.js';
import { alertWindowsMs, type Policy } from '../model/policy.js';
import type { ReapReport } from './reap-expired.js';

export interface ExpiryWarning {
  grant: Grant;
  /** The alert window this warning belongs to, e.g. `1h`: at most one warning per grant and window. */
  window: string;
  remainingMs: number;
  /** The PR that brought the grant, where the warning is posted. */
  pr?: number;
}

export interface Overdue {
  grant: Grant;
  reason: string;
}

/**
 * A break-glass grant past its review deadline whose retro review could not be read from GitHub:
 * neither kept nor revoked (a read failure is never taken for "not reviewed"), alerted every run.
 */
export interface ReviewUnread {
  grant: Grant;
  /** When its review was due: the deadline passed at that time. */
  due: Date;
  reason: string;
}

/**
 * Which warnings are due at `now`: for each live grant, the narrowest alert window (policy
 * `alerts.before`, default 24h and 1h, each at most a quarter of the role's maxDuration, as `status`'s
 * `expiring`) that its remaining time falls in. Pure; the sender makes them
 * idempotent by marker, so a window is warned about once however often the reaper runs.
 */
export function dueWarnings(
  now: Date,
  grants: readonly Grant[],
  policies: ReadonlyMap<string, Policy>,
  prOf: (grant: Grant) => number | undefined,
): ExpiryWarning[] {
  const out: ExpiryWarning[] = [];
  for (const grant of grants) {
    const remaining = grant.expiresAt.getTime() - now.getTime();
    if (remaining <= 0) continue;
    const policy = policies.get(grant.target);
    const windows = policy ? alertWindowsMs(policy, grant.role) : [];
    const window = windows.find((w) => remaining <= w);
    if (window === undefined) continue;
    const pr = prOf(grant);
    out.push({
      grant,
      window: formatDuration(window).replace(/ /g, ''),
      remainingMs: remaining,
      ...(pr ? { pr } : {}),
    });
  }
  return out;
}

/**
 * The alerts a finished reap calls for: warnings for live grants, overdue for failed revocations,
 * and break-glass grants left undecided past their review deadline because GitHub failed.
 */
export function alertsAfterReap(
  now: Date,
  report: ReapReport,
): { warnings: ExpiryWarning[]; overdue: Overdue[]; reviewUnread: ReviewUnread[] } {
  const live = report.apply.grants.filter((g) => g.expiresAt.getTime() > now.getTime());
  const prOf = (g: Grant) => {
    const v = report.apply.approved.get(g.id);
    return v?.approved ? v.evidence.pr : undefined;
  };
  return {
    warnings: dueWarnings(now, live, report.apply.policies, prOf),
    overdue: report.failed.map((f) => ({ grant: f.grant, reason: f.reason })),
    reviewUnread: report.apply.refused.flatMap((r) =>
      r.reviewUnread && r.reviewDue ? [{ grant: r.grant, due: r.reviewDue, reason: r.reason }] : [],
    ),
  };
}
