import { availableParallelism } from 'node:os';
import type { HistoryCommit } from '../../audit/history-commit.js';
import { type HistoryReadOptions, readFirstParentHistory, resolveHistoryTip } from './history.js';
import { readAllNotes } from './notes.js';
import { ObjectReader, readTreeBlobs } from './objects.js';
import { GitRunner } from './runner.js';
import { HistoryFolder, readGrantFields } from '../../audit/lifecycle-fold.js';
import type { AuditHistory, GrantVersion, Landing, PolicySnapshot } from '../../audit/lifecycle-model.js';
import { GRANTS_DIR, POLICIES_DIR } from '../../model/grant.js';
import { loadYamlSource } from '../../model/yaml-source.js';
import { parsePolicy } from '../../policy/parse-policy.js';
import { SchemaRegistry } from '../../policy/schema-registry.js';
import type { GrantHistory } from '../../ports/git.js';

export interface LoadedAudit extends AuditHistory {
  /** maxDuration (ms) of a role under the policies in force at some point, for verify. */
  maxDurationAt(policies: PolicySnapshot, target: string, role: string): number | undefined;
  /** What a role conferred under the policies in force at some point (postgres: its dbRoles). */
  entitlementsAt(policies: PolicySnapshot, target: string, role: string): readonly string[] | undefined;
}

interface RoleFacts {
  maxDurationMs: number;
  entitlements: readonly string[];
}

type Sink =
  | { kind: 'grant'; version: GrantVersion }
  | { kind: 'policy'; blob: string }
  | { kind: 'author'; landed: Landing };

/**
 * Reads the audit log from git alone, offline: main's first-parent history streamed by `git log`
 * (one process, or one per core over consecutive stretches: `options.jobs`) and folded as it
 * streams, one `git cat-file --batch` fed at the same time for the grant and policy versions and
 * merge authors, plus the notes and the policies at the tip.
 */
export async function loadAuditHistory(
  root: string,
  registry: SchemaRegistry,
  ref = 'HEAD',
  options: HistoryReadOptions & {
    /** Told every 1,024 commits read: how many so far. */
    onProgress?: (commits: number) => void;
  } = {},
): Promise<LoadedAudit> {
  // Resolved first: a ref that names no commit is reported as such, not as a failed ls-tree.
  const tip = await resolveHistoryTip(root, ref);
  const [notes, tipPolicies] = await Promise.all([
    readAllNotes(root),
    readTreeBlobs(new GitRunner(root), tip, POLICIES_DIR),
  ]);
  const policyTexts = new Map<string, string>();
  const askPolicy = (blob: string) => {
    if (policyTexts.has(blob)) return;
    policyTexts.set(blob, '');
    reader.ask(blob, { kind: 'policy', blob });
  };
  const folder: HistoryFolder = new HistoryFolder(tipPolicies, notes, {
    grantBlob: (blob, version) => reader.ask(blob, { kind: 'grant', version }),
    policyBlob: askPolicy,
    mergeAuthor: (commit, landed) => reader.ask(commit, { kind: 'author', landed }),
  });
  // Objects are read while git log is still streaming, and parsed as they arrive: only the few
  // fields the audit needs are kept, never the texts of 100,000 versions.
  const reader = new ObjectReader<Sink>(root, (sink, body) => {
    if (sink.kind === 'grant') folder.fill(sink.version, readGrantFields(body));
    else if (sink.kind === 'policy') policyTexts.set(sink.blob, body.toString('utf8'));
    else {
      const author = /^author (.+) <([^>]*)> \d+ [+-]\d{4}$/m.exec(body.toString('utf8'));
      if (author) sink.landed.author = `${author[1]} <${author[2]}>`;
    }
  });
  for (const blob of tipPolicies.values()) askPolicy(blob);
  try {
    const { onProgress, ...read } = options;
    let commits = 0;
    const add: (c: HistoryCommit) => void = onProgress
      ? (c) => {
          folder.add(c);
          if ((++commits & 1023) === 0) onProgress(commits);
        }
      : (c) => folder.add(c);
    await readFirstParentHistory(root, [GRANTS_DIR, POLICIES_DIR], tip, add, {
      jobs: Math.min(availableParallelism(), 4),
      ...read,
    });
  } finally {
    await reader.finish();
  }
  const history = folder.finish();

  const policyCache = new Map<string, Map<string, RoleFacts>>();
  const roleFacts = (blob: string): Map<string, RoleFacts> => {
    let limits = policyCache.get(blob);
    if (!limits) {
      limits = new Map();
      const doc = loadYamlSource('policy.yaml', new TextEncoder().encode(policyTexts.get(blob) ?? ''), {
        maxBytes: 1 << 20,
      });
      if (doc.ok) {
        const parsed = parsePolicy(doc.doc, registry);
        if (parsed.ok) {
          const target = parsed.value.policy.target;
          for (const [name, role] of parsed.value.policy.roles)
            limits.set(`${target.name}\u0000${name}`, {
              maxDurationMs: role.maxDurationMs,
              // What the role conferred then: a database role list, or the same-named entitlement.
              entitlements: target.type === 'postgres' ? role.dbRoles : [name],
            });
        }
      }
      policyCache.set(blob, limits);
    }
    return limits;
  };
  return {
    ...history,
    maxDurationAt(policies, target, role) {
      for (const blob of policies.values()) {
        const facts = roleFacts(blob).get(`${target}\u0000${role}`);
        if (facts) return facts.maxDurationMs;
      }
      return undefined;
    },
    entitlementsAt(policies, target, role) {
      for (const blob of policies.values()) {
        const facts = roleFacts(blob).get(`${target}\u0000${role}`);
        if (facts) return facts.entitlements;
      }
      return undefined;
    },
  };
}

/**
 * Every grant file main's first-parent history has held, from the audit's own reader: what
 * state-based revocation needs to know about access grantops granted. Refuses a shallow clone,
 * whose history would silently miss grants.
 */
export function gitGrantHistory(
  git: { root: string; isShallow(): Promise<boolean> },
  ref = 'HEAD',
): GrantHistory {
  return {
    async grantFiles() {
      if (await git.isShallow())
        throw new Error(
          "this clone is shallow: main's full history is needed to know what grantops granted (fetch-depth: 0, or git fetch --unshallow)",
        );
      const history = await loadAuditHistory(git.root, new SchemaRegistry(), ref);
      return history.lifecycles.map((life) => {
        const last = life.versions[life.versions.length - 1]!;
        return {
          id: last.id,
          file: last.file,
          versions: life.versions.map((v) => {
            const entitlements = history.entitlementsAt(v.policies, v.target, v.role);
            return {
              user: v.user,
              target: v.target,
              role: v.role,
              expiresAt: v.expiresAt,
              ...(entitlements ? { entitlements } : {}),
            };
          }),
          onMain: life.ended === undefined,
          ...(life.ended
            ? { endedBy: life.ended.type === 'revoked' ? ('cleanup' as const) : ('removal' as const) }
            : {}),
        };
      });
    },
  };
}
