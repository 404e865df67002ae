import { mapLimited } from '../apply/run-limited.js';
import { ConfigError, errorMessage } from '../model/errors.js';
import type { FileTree } from '../model/file-tree.js';
import type { Policy } from '../model/policy.js';
import { loadPolicies } from '../policy/load.js';
import type { SchemaRegistry } from '../policy/schema-registry.js';
import type { Target } from '../ports/target.js';

export interface DoctorDeps {
  work: FileTree;
  registry: SchemaRegistry;
  /** Builds a target's adapter; may throw (a missing variable or token): that is a problem found. */
  createTarget(policy: Policy): Target;
}

export interface DoctorReport {
  /** Targets checked, by name. */
  targets: string[];
  /** What grantops lacks, one entry per problem, in target order. */
  problems: { target: string; problem: string }[];
}

/**
 * Asks every target what grantops lacks to manage it (privileges, scripts, tokens) without
 * changing anything. Invalid policies are a configuration error, as in every other command.
 */
export async function checkTargets(deps: DoctorDeps, concurrency = 4): Promise<DoctorReport> {
  const policies = await loadPolicies(deps.work, deps.registry);
  if (policies.findings.length > 0) throw new ConfigError('invalid policy files', policies.findings);
  const names = [...policies.byTarget.keys()].sort();
  const checked = await mapLimited(names, concurrency, async (name) => {
    const target = deps.createTarget(policies.byTarget.get(name)!.policy);
    try {
      return await target.check();
    } finally {
      await target.close?.().catch(() => undefined);
    }
  });
  const problems = names.flatMap((target, i) => {
    const r = checked[i]!;
    return (r.ok ? r.value : [errorMessage(r.error)]).map((problem) => ({ target, problem }));
  });
  return { targets: names, problems };
}
