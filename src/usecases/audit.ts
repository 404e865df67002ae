import {
  readAllNotes,
  readFirstParentHistory,
  readObjects,
  type CommitRecord,
} from '../audit/git-history.js';
import { buildAuditHistory, type AuditHistory } from '../audit/lifecycle.js';
import { GRANTS_DIR, POLICIES_DIR } from '../model/grant.js';
import { loadYamlSource } from '../model/yaml-source.js';
import { parsePolicy } from '../policy/parse-policy.js';
import type { SchemaRegistry } from '../policy/schema-registry.js';

export interface LoadedAudit extends AuditHistory {
  /** maxDuration of a role under a policy snapshot, for verify. */
  maxDurationAt(snapshot: number, target: string, role: string): number | undefined;
}

/**
 * Reads the audit log from git alone, offline: one streaming `git log` over main's first-parent
 * history, one `git cat-file --batch` for the grant and policy versions and merge authors, notes.
 */
export async function loadAuditHistory(
  root: string,
  registry: SchemaRegistry,
  ref = 'HEAD',
): Promise<LoadedAudit> {
  const commits: CommitRecord[] = [];
  const objects = new Set<string>();
  for await (const c of readFirstParentHistory(root, [GRANTS_DIR, POLICIES_DIR], ref)) {
    commits.push(c);
    for (const ch of c.changes) if (ch.blob) objects.add(ch.blob);
    if (c.parents.length > 1) objects.add(c.parents[1]!);
  }
  const [texts, notes] = await Promise.all([readObjects(root, [...objects]), readAllNotes(root)]);
  const mergeAuthors = new Map<string, string>();
  for (const c of commits) {
    const second = c.parents[1];
    const body = second ? texts.get(second) : undefined;
    const author = body ? /^author (.+) <([^>]*)> \d+ [+-]\d{4}$/m.exec(body) : null;
    if (second && author) mergeAuthors.set(second, `${author[1]} <${author[2]}>`);
  }
  const history = buildAuditHistory(commits, texts, notes, mergeAuthors);

  const policyCache = new Map<string, Map<string, number>>();
  const roleLimits = (blob: string): Map<string, number> => {
    let limits = policyCache.get(blob);
    if (!limits) {
      limits = new Map();
      const doc = loadYamlSource('policy.yaml', new TextEncoder().encode(texts.get(blob) ?? ''), {
        maxBytes: 1 << 20,
      });
      if (doc.ok) {
        const parsed = parsePolicy(doc.doc, registry);
        if (parsed.ok) {
          for (const [name, role] of parsed.value.policy.roles)
            limits.set(`${parsed.value.policy.target.name}\u0000${name}`, role.maxDurationMs);
        }
      }
      policyCache.set(blob, limits);
    }
    return limits;
  };
  return {
    ...history,
    maxDurationAt(snapshot, target, role) {
      for (const blob of history.policySnapshots[snapshot]?.values() ?? []) {
        const ms = roleLimits(blob).get(`${target}\u0000${role}`);
        if (ms !== undefined) return ms;
      }
      return undefined;
    },
  };
}
