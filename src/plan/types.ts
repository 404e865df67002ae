import type { Grant } from '../model/grant.js';
import type { Policy } from '../model/policy.js';
import type { GrantFileHistory } from '../ports/git.js';
import type { Access, EntitlementModel } from '../ports/target.js';
export type ActionReason =
  | 'new' // a grant is active and its access is missing
  | 'change-role' // single-valued target: the user holds another entitlement
  | 'update-expiry' // native expiry (VALID UNTIL) differs from the grant's expiresAt
  | 'expired' // every grant behind it has expired
  | 'removed' // grantops granted it, and that grant (or that version of it) is no longer on main
  | 'invalid' // its grant file is on main but no longer a valid grant
  | 'withdrawn' // its grant is on main, was approved and applied, and is refused now (approval withdrawn)
  | 'enforce'; // no grant behind it, and the policy enforces

export interface PlannedAction {
  kind: 'grant' | 'revoke';
  target: string;
  user: string;
  entitlement: string;
  reason: ActionReason;
  /** Grants behind the action (for revokes: the ended ones, if known). */
  grantIds: string[];
  role?: string;
  expiresAt?: Date;
  /** The target listed this access when the plan was made (an explicit revoke may find none). */
  present?: boolean;
  /**
   * A grant that moves a single-valued target down (a team maintainer back to member): the expired
   * grants whose higher role it takes away. The reaper carries these out.
   */
  ends?: string[];
}

/** Expired grants whose access needs no revoke call: another live grant justifies it, or it was never grantops'. */
export interface Settled {
  target: string;
  user: string;
  entitlement: string;
  grantIds: string[];
  why: string;
}

/** Access found in a managed scope that no grant explains. */
export interface Drift {
  target: string;
  user: string;
  entitlement: string;
  /** `enforce: true` planned its revocation. */
  enforced: boolean;
  /** Enforcement held back by the guard (too large a share of the scope in one run). */
  heldByGuard: boolean;
}

export interface Guard {
  target: string;
  wouldRevoke: number;
  scope: number;
  maxFraction: number;
}

/**
 * Access an ended grant explains that is left in place this run: a live grant on main whose approval
 * could not be decided may justify it, or the target could not be set up to know its entitlements.
 */
export interface Held {
  target: string;
  user: string;
  /** Empty when the target's entitlements are unknown. */
  entitlement: string;
  /** The ended grants whose revocation waits. */
  grantIds: string[];
  reason: string;
}

export interface Plan {
  at: Date;
  actions: PlannedAction[];
  drift: Drift[];
  guards: Guard[];
  held: Held[];
  settled: Settled[];
  /** Targets whose state could not be observed: nothing is planned for them. */
  unobserved: { target: string; error: string }[];
}

export interface TargetState {
  policy: Policy;
  /** Undefined when the target's adapter could not be built (missing credentials): why, in `observed`. */
  model: EntitlementModel | undefined;
  nativeExpiry: boolean;
  /** What exists, or why it could not be read. */
  observed: { ok: true; access: Access[] } | { ok: false; error: string };
}

export interface PlanInput {
  now: Date;
  /** Every valid grant in the repo. */
  grants: readonly Grant[];
  /** Grants allowed to take effect (approval verified). */
  approved: ReadonlySet<string>;
  /**
   * Live grants whose approval could not be decided this run (GitHub unreachable, no token): not
   * applied, and the access they would give is not revoked either.
   */
  undecided?: ReadonlySet<string>;
  /**
   * Live grants that were approved and applied before and are refused now (a review dismissed, an
   * approver gone): what they gave is revoked as the target shows it.
   */
  withdrawn?: ReadonlySet<string>;
  /**
   * Every grant file main's history has held (state-based revocation): versions no longer on main
   * explain access as `removed`, files on main that are no longer valid as `invalid` (and, once their
   * expiresAt has passed, as `expired`, with an explicit revoke).
   */
  history?: readonly GrantFileHistory[];
  targets: ReadonlyMap<string, TargetState>;
  /** Lift the enforcement guard for this run. */
  overrideGuard?: boolean;
}
