import type { Grant } from '../model/grant.js';
import type { ChangeStatus } from '../ports/git.js';
import type { Policy } from '../model/policy.js';

/** One row of the plan a pull request shows: what merging it would grant or take away. */
export interface GrantChangeRow {
  id: string;
  file: string;
  /** `extended`: a modification that adds to the file's `extensions` (grantops extend). */
  change: ChangeStatus | 'unchanged' | 'extended';
  user: string;
  target: string;
  role: string;
  reason: string;
  ticket?: string;
  /** Undefined: from the moment it is applied (merge). */
  startsAt?: Date;
  expiresAt: Date;
  /** expiresAt - max(now, startsAt). */
  durationMs: number;
  approvals: number;
  approvers: string[];
  /** A break-glass grant: who may use it, and how soon an approver must review it after merge. */
  breakGlass?: { allowed: string[]; reviewWithin: string };
}

/** Describes a valid, added or changed grant as a plan row at `now`. Pure. */
export function describeGrantChange(
  grant: Grant,
  change: GrantChangeRow['change'],
  policy: Policy | undefined,
  now: Date,
): GrantChangeRow {
  const role = policy?.roles.get(grant.role);
  const from = Math.max(now.getTime(), grant.startsAt?.getTime() ?? 0);
  return {
    id: grant.id,
    file: grant.file,
    change,
    user: grant.user,
    target: grant.target,
    role: grant.role,
    reason: grant.reason,
    ...(grant.ticket !== undefined ? { ticket: grant.ticket } : {}),
    ...(grant.startsAt ? { startsAt: grant.startsAt } : {}),
    expiresAt: grant.expiresAt,
    durationMs: Math.max(0, grant.expiresAt.getTime() - from),
    approvals: role?.approvals ?? 0,
    approvers: role?.approvers ?? [],
    ...(grant.breakGlass && role?.breakGlass
      ? { breakGlass: { allowed: role.breakGlass.allowed, reviewWithin: role.breakGlass.reviewWithin } }
      : {}),
  };
}
