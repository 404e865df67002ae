import { availableParallelism } from 'node:os';
import type { HistoryCommit } from '../../audit/history-commit.js';
import { type HistoryReadOptions, readFirstParentHistory, resolveHistoryTip } from './history.js';
import { foldedFromColumns, foldedToColumns } from './history-cache-result.js';
import {
  type CachedHistory,
  locateHistoryCache,
  notesCommit,
  onFirstParentLine,
  readHistoryCache,
  writeHistoryCache,
} from './history-cache.js';
import { NOTES_REF, readAllNotes } from './notes.js';
import { ObjectReader, readTreeBlobs } from './objects.js';
import { GitRunner } from './runner.js';
import { HistoryFolder, readGrantFields } from '../../audit/lifecycle-fold.js';
import type {
  AuditHistory,
  GrantFields,
  GrantVersion,
  Landing,
  PolicySnapshot,
} from '../../audit/lifecycle-model.js';
import { errorMessage } from '../../model/errors.js';
import { GRANTS_DIR, POLICIES_DIR } from '../../model/grant.js';
import { loadYamlSource } from '../../model/yaml-source.js';
import { parsePolicy } from '../../policy/parse-policy.js';
import { SchemaRegistry } from '../../policy/schema-registry.js';
import type { GrantHistory } from '../../ports/git.js';

export interface LoadedAudit extends AuditHistory {
  /** maxDuration (ms) of a role under the policies in force at some point, for verify. */
  maxDurationAt(policies: PolicySnapshot, target: string, role: string): number | undefined;
  /** breakGlass.reviewWithin (ms) of a role under the policies in force at some point, if it has one. */
  reviewWithinAt(policies: PolicySnapshot, target: string, role: string): number | undefined;
  /** What a role conferred under the policies in force at some point (postgres: its dbRoles). */
  entitlementsAt(policies: PolicySnapshot, target: string, role: string): readonly string[] | undefined;
}

interface RoleFacts {
  maxDurationMs: number;
  reviewWithinMs: number | undefined;
  entitlements: readonly string[];
}

type Sink =
  | { kind: 'grant'; version: GrantVersion; blob: string }
  | { kind: 'policy'; blob: string }
  | { kind: 'author'; landed: Landing; record: HistoryCommit | undefined };

/** How a load used the history cache (for tests, benchmarks and GRANTOPS_DEBUG). */
export interface HistoryCacheReport {
  /** off: not asked for (or a shallow clone); cold: read all of history; warm: from the cache. */
  mode: 'off' | 'cold' | 'warm';
  /** Why a cache found was not used (corrupted, truncated, another version, not on the line). */
  rejected?: string;
  /** Commits git log streamed. */
  commitsRead: number;
  /** The cache file was (re)written. */
  written: boolean;
}

/**
 * Reads the audit log from git alone, offline: main's first-parent history streamed by `git log`
 * (one process, or one per core over consecutive stretches: `options.jobs`) and folded as it
 * streams, one `git cat-file --batch` fed at the same time for the grant and policy versions and
 * merge authors, plus the notes and the policies at the tip.
 *
 * With `cache`, what git answered is kept under the git directory (history-cache.ts) and the next
 * load reads only the commits that landed since (and the notes, if their ref moved), then folds the
 * cached records again below them: the same fold over the same records, so the same answer.
 */
export async function loadAuditHistory(
  root: string,
  registry: SchemaRegistry,
  ref = 'HEAD',
  options: HistoryReadOptions & {
    /** Told every 1,024 commits read: how many so far. */
    onProgress?: (commits: number) => void;
    /** Use and refresh the history cache in the git directory. */
    cache?: boolean;
  } = {},
): Promise<LoadedAudit & { cache: HistoryCacheReport }> {
  const { onProgress, cache: useCache, ...read } = options;
  const report: HistoryCacheReport = { mode: 'off', commitsRead: 0, written: false };
  const site = useCache ? await locateHistoryCache(root, ref) : undefined;
  // Resolved first: a ref that names no commit is reported as such, not as a failed ls-tree.
  const tip = site?.tip ?? (await resolveHistoryTip(root, ref));
  const cacheFile = site && !site.shallow ? site.file : undefined;
  let base: CachedHistory | undefined;
  let notes: Map<string, string>;
  let tipPolicies: Map<string, string>;
  let notesAt = '';
  if (cacheFile) {
    report.mode = 'cold';
    notesAt = await notesCommit(root, NOTES_REF);
    const found = readHistoryCache(cacheFile, tip, notesAt);
    if ('folded' in found) {
      // Nothing landed and the notes did not move: the folded history as it was written.
      try {
        const folded = foldedFromColumns(found.folded.columns);
        report.mode = 'warm';
        return withQueries(folded, found.folded.policies, registry, report);
      } catch {
        report.rejected = 'malformed';
      }
    }
    tipPolicies = await readTreeBlobs(new GitRunner(root), tip, POLICIES_DIR);
    if ('rejected' in found) {
      if (found.rejected !== 'none') report.rejected = found.rejected;
    } else if (!('cache' in found)) {
      // The folded section could not be read back: rebuilt below.
    } else if (found.cache.tip === tip || (await onFirstParentLine(root, found.cache.tip, tip))) {
      base = found.cache;
      report.mode = 'warm';
    } else report.rejected = 'not on the line of the tip';
    notes = base && base.notesCommit === notesAt ? base.notes : await readAllNotes(root);
  } else
    [notes, tipPolicies] = await Promise.all([
      readAllNotes(root),
      readTreeBlobs(new GitRunner(root), tip, POLICIES_DIR),
    ]);

  const policyTexts = new Map<string, string>(base?.policies);
  const grantFields = new Map<string, GrantFields>(base?.grants);
  const askPolicy = (blob: string) => {
    if (policyTexts.has(blob)) return;
    policyTexts.set(blob, '');
    objects().ask(blob, { kind: 'policy', blob });
  };
  const records: HistoryCommit[] | undefined = cacheFile ? [] : undefined;
  let record: HistoryCommit | undefined;
  const folder: HistoryFolder = new HistoryFolder(tipPolicies, notes, {
    grantBlob: (blob, version) => {
      const known = grantFields.get(blob);
      if (known) folder.fill(version, known);
      else objects().ask(blob, { kind: 'grant', version, blob });
    },
    policyBlob: askPolicy,
    mergeAuthor: (commit, landed) => objects().ask(commit, { kind: 'author', landed, record }),
  });
  // Objects are read while git log is still streaming, and parsed as they arrive: only the few
  // fields the audit needs are kept, never the texts of 100,000 versions. Started at the first ask:
  // a warm load with nothing new asks for nothing.
  let reader: ObjectReader<Sink> | undefined;
  const objects = () =>
    (reader ??= new ObjectReader<Sink>(root, (sink, body) => {
      if (sink.kind === 'grant') {
        const fields = readGrantFields(body);
        if (records) grantFields.set(sink.blob, fields);
        folder.fill(sink.version, fields);
      } else if (sink.kind === 'policy') policyTexts.set(sink.blob, body.toString('utf8'));
      else {
        const author = /^author (.+) <([^>]*)> \d+ [+-]\d{4}$/m.exec(body.toString('utf8'));
        if (author) {
          sink.landed.author = `${author[1]} <${author[2]}>`;
          if (sink.record) sink.record.author = sink.landed.author;
        }
      }
    }));
  for (const blob of tipPolicies.values()) askPolicy(blob);
  try {
    let commits = 0;
    const add = (c: HistoryCommit) => {
      if (records) {
        // Kept for the cache as the fold will see it again: the merge's author filled in later.
        record = { ...c, mergeParent: undefined };
        records.push(record);
      }
      folder.add(c);
      if ((++commits & 1023) === 0) onProgress?.(commits);
    };
    if (base?.tip !== tip)
      report.commitsRead = (
        await readFirstParentHistory(root, [GRANTS_DIR, POLICIES_DIR], tip, add, {
          jobs: Math.min(availableParallelism(), 4),
          ...read,
          ...(base ? { since: base.tip } : {}),
        })
      ).commits;
    if (base) for (const c of base.records) folder.add(c);
  } finally {
    await reader?.finish();
  }
  const history = folder.finish();
  if (cacheFile && records && (base?.tip !== tip || base.notesCommit !== notesAt)) {
    try {
      writeHistoryCache(
        cacheFile,
        {
          tip,
          notesCommit: notesAt,
          records: base ? records.concat(base.records) : records,
          grants: grantFields,
          policies: policyTexts,
          notes,
        },
        { columns: foldedToColumns(history), policies: policyTexts },
      );
      report.written = true;
    } catch (err) {
      // Only a speed-up: a read-only git directory still gets its answer.
      report.rejected = `not written: ${errorMessage(err)}`;
    }
  }
  return withQueries(history, policyTexts, registry, report);
}

/** The history with the queries --verify and revocation ask of the policies it names. */
function withQueries(
  history: AuditHistory,
  policyTexts: ReadonlyMap<string, string>,
  registry: SchemaRegistry,
  report: HistoryCacheReport,
): LoadedAudit & { cache: HistoryCacheReport } {
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
              reviewWithinMs: role.breakGlass?.reviewWithinMs,
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
    cache: report,
    maxDurationAt(policies, target, role) {
      for (const blob of policies.values()) {
        const facts = roleFacts(blob).get(`${target}\u0000${role}`);
        if (facts) return facts.maxDurationMs;
      }
      return undefined;
    },
    reviewWithinAt(policies, target, role) {
      for (const blob of policies.values()) {
        const facts = roleFacts(blob).get(`${target}\u0000${role}`);
        if (facts) return facts.reviewWithinMs;
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
  options: { cache?: boolean } = {},
): GrantHistory {
  return {
    async grantFiles() {
      if (await git.isShallow())
        throw new Error(
          "this clone is shallow: main's full history is needed to know what grantops granted (fetch-depth: 0, or git fetch --unshallow)",
        );
      const history = await loadAuditHistory(git.root, new SchemaRegistry(), ref, {
        ...(options.cache ? { cache: true } : {}),
      });
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
