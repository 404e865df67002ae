import type { Finding } from '../model/errors.js';
import { ConfigError } from '../model/errors.js';
import type { FileTree } from '../model/file-tree.js';
import { expiringWindowMs } from '../model/policy.js';
import { grantStateAt, type Grant, type GrantState } from '../model/grant.js';
import { loadGrants, loadPolicies } from '../policy/load.js';
import type { SchemaRegistry } from '../policy/schema-registry.js';

export interface StatusRow {
  grant: Grant;
  state: GrantState;
  /** ms until expiry (negative once expired). */
  remainingMs: number;
}

export interface StatusReport {
  now: Date;
  rows: StatusRow[];
  /** Grant files that could not be read as grants: shown, never silently dropped. */
  problems: Finding[];
}

/**
 * The state of every grant at `now`. `expiringWithinMs` overrides the window in which a grant counts
 * as `expiring` (by default its policy's first alert window, at most a quarter of its role's
 * maxDuration: see `expiringWindowMs`).
 */
export async function reportStatus(
  opts: { now: Date; expiringWithinMs?: number },
  deps: { work: FileTree; registry: SchemaRegistry },
): Promise<StatusReport> {
  const policies = await loadPolicies(deps.work, deps.registry);
  if (policies.findings.length > 0) throw new ConfigError('invalid policy files', policies.findings);
  const loaded = await loadGrants(deps.work, {
    registry: deps.registry,
    policies: policies.byTarget,
    now: opts.now,
    expiredSeverity: 'warning',
    policySource: deps.work.label,
  });
  const rows = loaded.grants
    .map((grant) => {
      // loadGrants keeps only grants whose target has a policy.
      const policy = policies.byTarget.get(grant.target)!.policy;
      const window = opts.expiringWithinMs ?? expiringWindowMs(policy, grant.role);
      return {
        grant,
        state: grantStateAt(grant, opts.now, window),
        remainingMs: grant.expiresAt.getTime() - opts.now.getTime(),
      };
    })
    .sort(
      (a, b) =>
        a.grant.expiresAt.getTime() - b.grant.expiresAt.getTime() || (a.grant.id < b.grant.id ? -1 : 1),
    );
  return { now: opts.now, rows, problems: loaded.findings.filter((f) => f.rule !== 'expired') };
}
