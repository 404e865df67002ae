export type TargetType = 'github-team' | 'github-repo' | 'postgres' | 'exec';

interface TargetBase {
  name: string;
  enforce: boolean;
  enforceMaxFraction: number;
  /** Logins grantops never touches or reports on this target (break-glass accounts, bots). */
  exempt: string[];
}
export interface GithubTeamTarget extends TargetBase {
  type: 'github-team';
  org: string;
  team: string;
}
export interface GithubRepoTarget extends TargetBase {
  type: 'github-repo';
  repo: string;
}
export interface PostgresTarget extends TargetBase {
  type: 'postgres';
  urlEnv: string;
  /** GitHub login (compared without regard to case) → database role name. */
  users: Record<string, string>;
  manageLogin: boolean;
}
export interface ExecTarget extends TargetBase {
  type: 'exec';
  command: string[];
  timeoutMs: number;
  /** Calls of the script in flight at once (default 1: scripts need not be concurrency-safe). */
  concurrency: number;
  /** Environment variables the script gets besides PATH, HOME, LANG, LC_*, TZ and TMPDIR. */
  env: string[];
}
export type TargetConfig = GithubTeamTarget | GithubRepoTarget | PostgresTarget | ExecTarget;

export interface Role {
  name: string;
  /** As written in the policy, for messages. */
  maxDuration: string;
  maxDurationMs: number;
  /** Longest `expiresAt - chain start` of an extended grant, as written; undefined: no cap. */
  maxTotal?: string;
  maxTotalMs?: number;
  approvals: number;
  /** Logins and `@org/team` slugs whose approvals count. */
  approvers: string[];
  /** postgres only. */
  dbRoles: string[];
  /** Break-glass use allowed on this role (docs/policies.md#break-glass). */
  breakGlass?: BreakGlassRule;
}

/** A role's `breakGlass`: who may apply a grant on merge without prior approval, for how long. */
export interface BreakGlassRule {
  /** Bounds a break-glass grant instead of the role's maxDuration; as written, for messages. */
  maxDuration: string;
  maxDurationMs: number;
  /** An approver of the role must approve within this long after the grant landed on main. */
  reviewWithin: string;
  reviewWithinMs: number;
  /** Logins and `@org/team` slugs who may use it (as the PR's author and the grant's user). */
  allowed: string[];
}

/** A validated `policies/<name>.yaml`. */
export interface Policy {
  file: string;
  target: TargetConfig;
  roles: ReadonlyMap<string, Role>;
  /** Extra JSON Schema every grant on this target must satisfy. */
  grantSchema?: Record<string, unknown>;
  /** Alert windows before expiry, longest first, in ms. */
  alertsBeforeMs: number[];
}

/** Roles a target type can confer; `undefined` means the policy names its own. */
export const FIXED_ROLES: Partial<Record<TargetType, readonly string[]>> = {
  'github-team': ['member', 'maintainer'],
  'github-repo': ['pull', 'triage', 'push', 'maintain', 'admin'],
};

export const DEFAULT_ALERTS_BEFORE = ['24h', '1h'] as const;
/** The first alert window when a policy sets `alerts.before: []`. */
const DEFAULT_FIRST_ALERT_MS = 86_400_000;

/**
 * How close to its end a grant of `roleName` counts as `expiring`: the policy's first alert window
 * (24h unless `alerts.before` says otherwise), but never more than the last quarter of the role's
 * `maxDuration`. A window as long as the longest grant a role allows (24h against an 8h role) would
 * mark every grant `expiring` from the moment it is written, which tells nobody anything; capped at a
 * quarter, a fresh grant starts `active` and turns `expiring` in its last stretch (2h of an 8h role,
 * 6h of a 1d role, the full 24h only from a 4d role up).
 */
export function expiringWindowMs(policy: Policy, roleName: string): number {
  const firstAlert = policy.alertsBeforeMs[0] ?? DEFAULT_FIRST_ALERT_MS;
  const role = policy.roles.get(roleName);
  return role && role.maxDurationMs > 0 ? Math.min(firstAlert, role.maxDurationMs / 4) : firstAlert;
}
/**
 * The alert windows of a grant of `roleName`, narrowest first: the policy's `alerts.before`, each
 * capped like `expiringWindowMs` at a quarter of the role's `maxDuration` (duplicates dropped), so a
 * warning goes out when `status` turns the grant `expiring`, not the moment a short grant lands.
 */
export function alertWindowsMs(policy: Policy, roleName: string): number[] {
  const role = policy.roles.get(roleName);
  const cap = role && role.maxDurationMs > 0 ? role.maxDurationMs / 4 : Infinity;
  return [...new Set(policy.alertsBeforeMs.map((w) => Math.min(w, cap)))].sort((a, b) => a - b);
}
export const DEFAULT_ENFORCE_MAX_FRACTION = 0.25;
export const DEFAULT_EXEC_TIMEOUT_MS = 30_000;
/**
 * The most calls in flight on one target, whatever a policy's `concurrency` or the run's
 * `--concurrency` asks (docs/cli.md, docs/targets.md); also the largest either may say.
 */
export const MAX_CONCURRENCY = 64;

/**
 * grantops' own credentials and settings: no exec target's `env` (nor a postgres `urlEnv`) may name
 * them. Every GRANTOPS_ variable is grantops' (the evidence signing key, the admin token, the
 * webhook URL), as are GitHub's tokens and the runner's inputs and internals.
 */
export function isGrantopsCredential(name: string): boolean {
  return (
    name === 'GITHUB_TOKEN' ||
    name === 'GH_TOKEN' ||
    name === 'GH_ENTERPRISE_TOKEN' ||
    name.startsWith('GRANTOPS_') ||
    name.startsWith('INPUT_') ||
    name.startsWith('ACTIONS_')
  );
}
