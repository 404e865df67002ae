import type { TargetConfig } from '../model/policy.js';

/**
 * One unit of access on a target: a user holding an entitlement. The entitlement is what the
 * system itself knows: a team role (`member`), a repo permission (`push`), a database role
 * (`pg_read_all_data`), or the exec script's role name.
 */
export interface Access {
  /** GitHub login (targets map their own account names back to logins). */
  user: string;
  entitlement: string;
  /** When the system itself ends this access (postgres VALID UNTIL), if it does. */
  expiresAt?: Date;
  /** An invitation not yet accepted (github-repo): access that will exist unless cancelled. */
  pending?: boolean;
  /**
   * The holder is an account grantops does not manage and will not grant to, and why (postgres: a
   * role it did not create that the policy's `users` does not name). Such access never counts as a
   * grant's: a grant for the user is still sent, so the target refuses it with this reason at every
   * apply, and an ended grant does not revoke it (it is drift; only enforcement removes it).
   */
  unmanaged?: string;
  /**
   * The system does not end this access at `expiresAt` by itself, even on a native-expiry target
   * (postgres: a role that is not grantops' own, whose VALID UNTIL grantops leaves alone).
   */
  noNativeExpiry?: boolean;
}

/** What a grant operation needs to know. */
export interface AccessChange {
  user: string;
  entitlement: string;
  /** The latest expiresAt among the grants behind this access (for native expiry and exec). */
  expiresAt?: Date;
  /** Grant ids behind the change, for logs and exec scripts. */
  grantIds: string[];
  /** The grantops role of the first grant (exec scripts receive it). */
  role?: string;
}

/**
 * A system grantops manages. Every method is idempotent: granting what exists or revoking what
 * does not is success, so a crashed run can always be run again.
 */
export interface Target {
  readonly config: TargetConfig;
  /** The system ends access at `expiresAt` by itself (postgres VALID UNTIL on managed logins). */
  readonly nativeExpiry: boolean;
  /**
   * How grantops roles map to entitlements. A single-valued target (a team, a repo) holds at most one
   * entitlement per user, ranked from least to most access; a multi-valued one holds any set.
   */
  readonly model: EntitlementModel;
  /** Access that exists now in the scope grantops manages. */
  observe(): Promise<Access[]>;
  grant(change: AccessChange): Promise<void>;
  revoke(change: AccessChange): Promise<void>;
  /**
   * What grantops lacks to manage this target (privileges, scripts, tokens): one line per problem,
   * none when all is in place. Never changes anything; never throws for an unreachable system.
   */
  check(): Promise<string[]>;
  /** Releases connections. */
  close?(): Promise<void>;
}

export interface EntitlementModel {
  /** Entitlements a grantops role confers. */
  entitlements(role: string): string[];
  /** For single-valued targets: entitlements from least to most access. */
  ranking?: readonly string[];
}
