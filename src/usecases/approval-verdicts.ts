import { formatDuration } from '../model/duration.js';
import type { Grant } from '../model/grant.js';
import type { Policy, Role } from '../model/policy.js';
import type { ApprovalVerdict } from '../policy/approval.js';

/** One request per key and run, however many grants ask (concurrent askers share the promise). */
export function cached<K, V>(cache: Map<K, Promise<V>>, key: K, load: () => Promise<V>): Promise<V> {
  let p = cache.get(key);
  if (!p) {
    p = load();
    cache.set(key, p);
  }
  return p;
}

/** GitHub could not be asked: the grant is not applied, and what it may justify is not taken away. */
export function undecided(reason: string): ApprovalVerdict {
  return { approved: false, reason, approvers: [], undecided: true };
}

/** A verdict on the grant: not approved. */
export function refused(reason: string, pr?: number): ApprovalVerdict {
  return { approved: false, reason, approvers: [], ...(pr !== undefined ? { pr } : {}) };
}

/** Whether a target's policy is the same in two trees (undefined when either has none). */
export function samePolicy(a: Policy | undefined, b: Policy | undefined): boolean | undefined {
  if (!a || !b) return undefined;
  const shape = (p: Policy) =>
    JSON.stringify([p.target, [...p.roles], p.grantSchema ?? null, p.alertsBeforeMs]);
  return shape(a) === shape(b);
}

/**
 * Why a grant is too long for its role at the pull request's base (a break-glass grant: for the
 * role's breakGlass rule, which must exist), or undefined.
 */
export function durationProblem(grant: Grant, role: Role, commit: string, now: Date): string | undefined {
  if (grant.breakGlass && !role.breakGlass)
    return `break-glass: the policy at the base of ${commit.slice(0, 7)} does not allow it`;
  const bound = grant.breakGlass && role.breakGlass ? role.breakGlass : role;
  const length = grant.expiresAt.getTime() - Math.max(now.getTime(), grant.startsAt?.getTime() ?? 0);
  if (length <= bound.maxDurationMs) return undefined;
  return `lasts ${formatDuration(length)}, over the ${bound === role ? '' : 'break-glass '}maxDuration ${bound.maxDuration} of the policy at the pull request's base`;
}
