import { availableParallelism } from 'node:os';
import { type HistoryReadOptions, readFirstParentHistory, resolveHistoryTip } from './history.js';
import {
  locateHistoryCache,
  notesCommit,
  readCacheFile,
  readHistoryCache,
  writeHistoryCache,
} from './history-cache.js';
import type { Conferred, Selection } from './history-cache-result.js';
import { CachedFold } from './history-cache-state.js';
import { foldCommits } from './history-fold.js';
import { chunkOf, type HistoryCacheReport, selected, warmLoad } from './history-warm.js';
import { NOTES_REF, readAllNotes } from './notes.js';
import { readTreeBlobs } from './objects.js';
import { GitRunner } from './runner.js';
import type {
  AuditHistory,
  GrantLifecycle,
  GrantVersion,
  PolicySnapshot,
} from '../../audit/lifecycle-model.js';
import { errorMessage } from '../../model/errors.js';
import { GRANTS_DIR, POLICIES_DIR } from '../../model/grant.js';
import { loadYamlSource } from '../../model/yaml-source.js';
import { parsePolicy } from '../../policy/parse-policy.js';
import { SchemaRegistry } from '../../policy/schema-registry.js';
import type { GrantFileHistory, GrantHistory } from '../../ports/git.js';

export type { HistoryCacheReport } from './history-warm.js';
export type { Selection } from './history-cache-result.js';

export interface LoadedAudit extends AuditHistory {
  /** maxDuration (ms) of a role under the policies in force at some point, for verify. */
  maxDurationAt(policies: PolicySnapshot, target: string, role: string): number | undefined;
  /** maxTotal (ms) of a role under the policies in force at some point; undefined: none. */
  maxTotalAt(policies: PolicySnapshot, target: string, role: string): number | undefined;
  /** breakGlass.reviewWithin (ms) of a role under the policies in force at some point, if it has one. */
  reviewWithinAt(policies: PolicySnapshot, target: string, role: string): number | undefined;
  /** What a role conferred under the policies in force at some point (postgres: its dbRoles). */
  entitlementsAt(policies: PolicySnapshot, target: string, role: string): readonly string[] | undefined;
}

interface RoleFacts {
  maxDurationMs: number;
  maxTotalMs: number | undefined;
  reviewWithinMs: number | undefined;
  entitlements: readonly string[];
}

/**
 * Reads the audit log from git alone, offline: main's first-parent history streamed by `git log`
 * (one process, or one per core over consecutive stretches: `options.jobs`) and folded as it
 * streams, one `git cat-file --batch` fed at the same time for the grant and policy versions and
 * merge authors, plus the notes and the policies at the tip.
 *
 * With `cache`, the folded history is kept under the git directory (history-cache.ts): a load with
 * nothing new reads it back alone, making only the lifecycles `select` asks for; with new commits,
 * it reads only them and folds them onto it (history-warm.ts), which answers as one fold of the
 * whole line would (a property test holds it to that).
 *
 * `select`: only the lifecycles with a version of that user, target and role are returned (what an
 * audit filtered to them prints from); the others are left out, cache or not.
 */
export async function loadAuditHistory(
  root: string,
  registry: SchemaRegistry,
  ref = 'HEAD',
  options: LoadOptions = {},
): Promise<LoadedAudit & { cache: HistoryCacheReport }> {
  const read = await readHistory(root, ref, options, (h) =>
    withQueries(
      {
        lifecycles: h.cached
          ? [...h.cached.serials.map((s) => h.cached!.fold.lifecycle(s)), ...h.lifecycles]
          : h.lifecycles,
      },
      h.policyTexts,
      registry,
    ),
  );
  return { ...read.value, cache: read.report };
}

type LoadOptions = HistoryReadOptions & {
  /** Told every 1,024 commits read: how many so far. */
  onProgress?: (commits: number) => void;
  /** Use and refresh the history cache in the git directory. */
  cache?: boolean;
  /** HMAC key of the cache (GRANTOPS_CACHE_KEY): a cache not made with it is not used. */
  cacheKey?: string;
  select?: Selection;
};

/**
 * The folded history, oldest lifecycle first: from the cache, the lifecycles still in place
 * (`cached`, not made yet) followed by `lifecycles`; else `lifecycles` alone.
 */
interface FoldedHistory {
  cached?: { fold: CachedFold; serials: readonly number[] };
  lifecycles: readonly GrantLifecycle[];
  policyTexts: ReadonlyMap<string, string>;
}

/**
 * The folded history (cached or read), given the shape a caller wants by `shape`. Made from the
 * cache, it runs where a malformed cache (found while making it) is refused and read again cold.
 */
async function readHistory<T>(
  root: string,
  ref: string,
  options: LoadOptions,
  shape: (history: FoldedHistory) => T,
): Promise<{ value: T; report: HistoryCacheReport }> {
  const { onProgress, cache: useCache, cacheKey: key, select, ...read } = options;
  const report: HistoryCacheReport = { mode: 'off', commitsRead: 0, written: false };
  // Asked while the cache is located and read: each waits on a git process or the disk.
  const notesAsked = useCache ? notesCommit(root, NOTES_REF) : undefined;
  notesAsked?.catch(() => undefined); // awaited (and thrown) below, where a cache is used
  const site = useCache ? await locateHistoryCache(root, ref) : undefined;
  // Resolved first: a ref that names no commit is reported as such, not as a failed ls-tree.
  const tip = site?.tip ?? (await resolveHistoryTip(root, ref));
  const cacheFile = site && !site.shallow ? site.file : undefined;
  let notesAt = '';
  if (cacheFile) {
    report.mode = 'cold';
    const [notes, bytes] = await Promise.all([notesAsked!, readCacheFile(cacheFile)]);
    notesAt = notes;
    const found = readHistoryCache(bytes, key);
    if ('chunks' in found) {
      let warm: { value: T } | { rejected: string };
      try {
        const loaded = await warmLoad(
          root,
          tip,
          notesAt,
          new CachedFold(found.chunks),
          { file: cacheFile, key, size: found.size },
          { ...(select ? { select } : {}), read },
          report,
        );
        warm =
          'fold' in loaded
            ? {
                value: shape({
                  cached: { fold: loaded.fold, serials: loaded.serials },
                  lifecycles: loaded.added,
                  policyTexts: loaded.policyTexts,
                }),
              }
            : loaded;
      } catch {
        // A checksum that matches columns of the wrong shape: written by something else.
        warm = { rejected: 'malformed' };
        report.mode = 'cold';
        report.commitsRead = 0;
      }
      if ('value' in warm) return { value: warm.value, report };
      report.rejected = warm.rejected;
    } else if (found.rejected !== 'none') report.rejected = found.rejected;
  }
  const [notes, tipPolicies] = await Promise.all([
    readAllNotes(root),
    readTreeBlobs(new GitRunner(root), tip, POLICIES_DIR),
  ]);
  const policyTexts = new Map<string, string>();
  const blobs = new Map<GrantVersion, string>();
  let commits = 0;
  const folder = await foldCommits(root, tipPolicies, notes, policyTexts, blobs, async (add) => {
    report.commitsRead = (
      await readFirstParentHistory(
        root,
        [GRANTS_DIR, POLICIES_DIR],
        tip,
        (c) => {
          add(c);
          if ((++commits & 1023) === 0) onProgress?.(commits);
        },
        { jobs: Math.min(availableParallelism(), 4), ...read },
      )
    ).commits;
  });
  const { firstTouch } = folder.partial();
  const history = folder.finish();
  if (cacheFile) {
    try {
      const index = new Map<GrantLifecycle, number>(history.lifecycles.map((l, i) => [l, i]));
      const heads = [...firstTouch].map(([id, l]): [string, number] => [id, l ? (index.get(l) ?? -1) : -1]);
      writeHistoryCache(
        cacheFile,
        chunkOf(
          { tip, from: '', notesCommit: notesAt, topSeq: 0, serialStart: 0 },
          history.lifecycles,
          heads,
          policyTexts,
          blobs,
        ),
        key,
      );
      report.written = true;
    } catch (err) {
      // Only a speed-up: a read-only git directory still gets its answer.
      report.rejected = `not written: ${errorMessage(err)}`;
    }
  }
  const lifecycles = select ? history.lifecycles.filter((l) => selected(l, select)) : history.lifecycles;
  return { value: shape({ lifecycles, policyTexts }), report };
}

/** The history with the queries --verify and revocation ask of the policies it names. */
function withQueries(
  history: AuditHistory,
  policyTexts: ReadonlyMap<string, string>,
  registry: SchemaRegistry,
): LoadedAudit {
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
              maxTotalMs: role.maxTotalMs,
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
    maxDurationAt(policies, target, role) {
      for (const blob of policies.values()) {
        const facts = roleFacts(blob).get(`${target}\u0000${role}`);
        if (facts) return facts.maxDurationMs;
      }
      return undefined;
    },
    maxTotalAt(policies, target, role) {
      for (const blob of policies.values()) {
        const facts = roleFacts(blob).get(`${target}\u0000${role}`);
        if (facts) return facts.maxTotalMs;
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
  options: { cache?: boolean; cacheKey?: string } = {},
): GrantHistory {
  return {
    async grantFiles() {
      if (await git.isShallow())
        throw new Error(
          "this clone is shallow: main's full history is needed to know what grantops granted (fetch-depth: 0, or git fetch --unshallow)",
        );
      const read = await readHistory(
        git.root,
        ref,
        {
          ...(options.cache ? { cache: true } : {}),
          ...(options.cacheKey ? { cacheKey: options.cacheKey } : {}),
        },
        (h) => {
          const queries = withQueries({ lifecycles: [] }, h.policyTexts, new SchemaRegistry());
          const entitlementsAt: Conferred = (p, t, r) => queries.entitlementsAt(p, t, r);
          // Cached lifecycles straight from the cache's columns: no version, landing or policy object.
          const files = h.cached ? h.cached.fold.grantFiles(h.cached.serials, entitlementsAt) : [];
          for (const life of h.lifecycles) files.push(grantFileOf(life, entitlementsAt));
          return files;
        },
      );
      return read.value;
    },
  };
}

/** A lifecycle as state-based revocation reads it (what CachedFold.grantFiles makes from the cache). */
function grantFileOf(life: GrantLifecycle, entitlementsAt: Conferred): GrantFileHistory {
  const last = life.versions[life.versions.length - 1]!;
  return {
    id: last.id,
    file: last.file,
    versions: life.versions.map((v) => {
      const entitlements = entitlementsAt(v.policies, v.target, v.role);
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
}
