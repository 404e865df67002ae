import {
  ObjectReader,
  readAllNotes,
  readFirstParentHistory,
  type CommitRecord,
} from '../audit/git-history.js';
import {
  buildAuditHistory,
  readGrantFields,
  type AuditHistory,
  type GrantFields,
} from '../audit/lifecycle.js';
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
  const grants = new Map<string, GrantFields>();
  const policyTexts = new Map<string, string>();
  const mergeAuthors = new Map<string, string>();
  const kinds = new Map<string, 'grant' | 'policy' | 'commit'>();
  // Objects are read while git log is still streaming, and parsed as they arrive: only the few
  // fields the audit needs are kept, never the texts of 100,000 versions.
  const reader = new ObjectReader(root, (id, body) => {
    const kind = kinds.get(id);
    if (kind === 'grant') grants.set(id, readGrantFields(body));
    else if (kind === 'policy') policyTexts.set(id, body.toString('utf8'));
    else if (kind === 'commit') {
      const author = /^author (.+) <([^>]*)> \d+ [+-]\d{4}$/m.exec(body.toString('utf8'));
      if (author) mergeAuthors.set(id, `${author[1]} <${author[2]}>`);
    }
  });
  const ask = (id: string, kind: 'grant' | 'policy' | 'commit') => {
    if (kinds.has(id)) return;
    kinds.set(id, kind);
    reader.ask(id);
  };
  try {
    for await (const c of readFirstParentHistory(root, [GRANTS_DIR, POLICIES_DIR], ref)) {
      if (c.changes.length === 0) continue;
      // Keep only what the audit reads from a message: the subject (PR number) and the trailers.
      const lines = c.message.split('\n');
      c.message = [lines[0] ?? '', ...lines.filter((l) => l.startsWith('Revoked-Grant:'))].join('\n');
      commits.push(c);
      for (const ch of c.changes)
        if (ch.blob) ask(ch.blob, ch.path.startsWith(`${POLICIES_DIR}/`) ? 'policy' : 'grant');
      if (c.parents.length > 1) ask(c.parents[1]!, 'commit');
    }
  } finally {
    await reader.finish();
  }
  commits.reverse();
  const notes = await readAllNotes(root);
  const history = buildAuditHistory(commits, grants, notes, mergeAuthors);

  const policyCache = new Map<string, Map<string, number>>();
  const roleLimits = (blob: string): Map<string, number> => {
    let limits = policyCache.get(blob);
    if (!limits) {
      limits = new Map();
      const doc = loadYamlSource('policy.yaml', new TextEncoder().encode(policyTexts.get(blob) ?? ''), {
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
