import type { HistoryCommit } from '../../audit/history-commit.js';
import { joinFold } from '../../audit/lifecycle-join.js';
import type { GrantLifecycle, GrantVersion } from '../../audit/lifecycle-model.js';
import { errorMessage } from '../../model/errors.js';
import { GRANTS_DIR, POLICIES_DIR } from '../../model/grant.js';
import { type ApprovalEvidence, parseApprovalNote } from '../../policy/approval.js';
import { appendHistoryCache, notesChanged, onFirstParentLine, writeHistoryCache } from './history-cache.js';
import { type ChunkContent, encodeChunk } from './history-cache-chunk.js';
import type { Selection } from './history-cache-result.js';
import type { CachedFold } from './history-cache-state.js';
import { foldCommits } from './history-fold.js';
import { type HistoryReadOptions, readFirstParentHistory } from './history.js';
import { readNotesOf } from './notes.js';
import { readTreeBlobs } from './objects.js';
import { GitRunner } from './runner.js';

/** Chunks a cache may grow to before it is written again as one. */
export const MAX_CHUNKS = 8;

/** How a load used the history cache (for tests, benchmarks and GRANTOPS_DEBUG). */
export interface HistoryCacheReport {
  /** off: not asked for (or a shallow clone); cold: read all of history; warm: from the cache. */
  mode: 'off' | 'cold' | 'warm';
  /** Why a cache found was not used (corrupted, truncated, another version, not on the line). */
  rejected?: string;
  /** Commits git log streamed. */
  commitsRead: number;
  /** The cache file was (re)written or appended to. */
  written: boolean;
}

export interface CacheTarget {
  file: string;
  key: string | undefined;
}

/** Does a lifecycle have a version of the selection's user, target and role? (as query.ts filters) */
export function selected(life: GrantLifecycle, sel: Selection | undefined): boolean {
  if (!sel) return true;
  const user = sel.user?.toLowerCase();
  return life.versions.some(
    (v) =>
      (!user || v.user.toLowerCase() === user) &&
      (!sel.target || v.target === sel.target) &&
      (!sel.role || v.role === sel.role),
  );
}

/**
 * The history a warm load answers, oldest lifecycle first: the cached lifecycles still in place
 * (`serials` of `fold`, made only when asked for), then those the new commits added.
 */
export interface WarmHistory {
  fold: CachedFold;
  serials: number[];
  added: GrantLifecycle[];
  policyTexts: ReadonlyMap<string, string>;
}

/**
 * The history from the cache: as it was when nothing landed and the notes did not move; else the
 * commits since its tip (`git log <cached tip>..<tip>`) folded onto it (lifecycle-join.ts), the
 * approvals of older commits whose notes changed derived again, and one chunk appended for what
 * changed (the cache is written again as one chunk after MAX_CHUNKS). Undefined-free refusal
 * (`rejected`) when the cache does not describe this history.
 */
export async function warmLoad(
  root: string,
  tip: string,
  notesAt: string,
  fold: CachedFold,
  cache: CacheTarget & { size: number },
  options: { select?: Selection; read: HistoryReadOptions },
  report: HistoryCacheReport,
): Promise<WarmHistory | { rejected: string }> {
  const last = fold.last.meta;
  const { select } = options;
  if (last.tip === tip && last.notesCommit === notesAt) {
    report.mode = 'warm';
    return { fold, serials: fold.serials(select), added: [], policyTexts: fold.policyTexts };
  }
  if (last.tip !== tip && !(await onFirstParentLine(root, last.tip, tip)))
    return { rejected: 'not on the line of the tip' };
  const changed =
    last.notesCommit === notesAt ? new Set<string>() : await notesChanged(root, last.notesCommit, notesAt);
  if (!changed) return { rejected: 'notes ref rewritten' };
  report.mode = 'warm';
  const records: HistoryCommit[] = [];
  if (last.tip !== tip)
    report.commitsRead = (
      await readFirstParentHistory(root, [GRANTS_DIR, POLICIES_DIR], tip, (c) => records.push(c), {
        ...options.read,
        since: last.tip,
      })
    ).commits;
  const git = new GitRunner(root);
  const wanted = [...records.map((r) => r.sha), ...changed];
  const [tipPolicies, notes] = await Promise.all([
    readTreeBlobs(git, tip, POLICIES_DIR),
    notesAt && wanted.length ? readNotesOf(git, wanted) : new Map<string, string>(),
  ]);

  // Approvals of versions below whose commit's note changed, derived as the fold does.
  const patches: [number, number, ApprovalEvidence | undefined][] = [];
  for (const [serial, v, id, blob] of fold.versionsAt(changed)) {
    const evidence = parseApprovalNote(notes.get(fold.lifecycle(serial).versions[v]!.landed.commit))?.grants[
      id
    ];
    const approval = evidence && blob && evidence.blob === blob ? evidence : undefined;
    fold.patch(serial, v, approval);
    patches.push([serial, v, approval]);
  }

  const policyTexts = new Map(fold.policyTexts);
  const blobs = new Map<GrantVersion, string>();
  const folder = await foldCommits(root, tipPolicies, notes, policyTexts, blobs, (add) => {
    for (const r of records) add(r);
    return Promise.resolve();
  });
  const joined = joinFold(folder.partial(), fold);
  const removed = joined.joined.map((life) => fold.serialOf(life)!);
  for (const serial of removed) {
    fold.blobs(serial, blobs);
    fold.removed.add(serial);
  }
  const history: WarmHistory = {
    fold,
    serials: fold.serials(select),
    added: joined.added.filter((l) => selected(l, select)),
    policyTexts,
  };
  try {
    const serialStart = fold.nextSerial;
    const index = new Map(joined.added.map((l, i) => [l, i]));
    const heads = [...joined.heads].map(([id, h]): [string, number] => [
      id,
      h === 'removed' ? -1 : serialStart + index.get(h)!,
    ]);
    if (fold.chunks.length >= MAX_CHUNKS) {
      // Written again as one chunk: every lifecycle, renumbered.
      const all = fold.serials();
      for (const serial of all) fold.blobs(serial, blobs);
      const renumber = new Map(all.map((s, i) => [s, i]));
      const lifecycles = [...all.map((s) => fold.lifecycle(s)), ...joined.added];
      const newHeads = new Map<string, number>();
      for (const [id, s] of fold.heads) newHeads.set(id, s < 0 ? -1 : (renumber.get(s) ?? -1));
      for (const [id, s] of heads) newHeads.set(id, s < 0 ? -1 : s - serialStart + all.length);
      writeHistoryCache(
        cache.file,
        chunkOf(
          { tip, from: '', notesCommit: notesAt, topSeq: joined.topSeq, serialStart: 0 },
          lifecycles,
          [...newHeads],
          policyTexts,
          blobs,
        ),
        cache.key,
      );
    } else {
      const added = [...policyTexts].filter(([blob]) => !fold.policyTexts.has(blob));
      appendHistoryCache(
        cache.file,
        cache.size,
        encodeChunk({
          meta: {
            tip,
            from: last.tip,
            notesCommit: notesAt,
            topSeq: joined.topSeq,
            serialStart,
            policyTexts: added,
          },
          lifecycles: joined.added,
          blobOf: (v) => blobs.get(v),
          heads,
          removed,
          patches,
        }),
        cache.key,
      );
    }
    report.written = true;
  } catch (err) {
    // Only a speed-up: a read-only git directory still gets its answer.
    report.rejected = `not written: ${errorMessage(err)}`;
  }
  return history;
}

/** A first chunk: the whole folded history. */
export function chunkOf(
  meta: Omit<ChunkContent['meta'], 'policyTexts'>,
  lifecycles: readonly GrantLifecycle[],
  heads: readonly [string, number][],
  policyTexts: ReadonlyMap<string, string>,
  blobs: ReadonlyMap<GrantVersion, string>,
): Buffer {
  return encodeChunk({
    meta: { ...meta, policyTexts: [...policyTexts] },
    lifecycles,
    blobOf: (v) => blobs.get(v),
    heads,
    removed: [],
    patches: [],
  });
}
