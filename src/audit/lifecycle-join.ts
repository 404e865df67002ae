import type { GrantLifecycle, Landing, PartialFold } from './lifecycle-model.js';

/**
 * What is known of the history below a newer stretch, folded before (the history cache): enough to
 * fold the stretch onto it exactly as one fold of the whole line would have gone.
 */
export interface FoldedBelow {
  /** seq of the newest commit below: the stretch's commits are numbered above it. */
  topSeq: number;
  /**
   * The first the fold below met of `id` (going down): the lifecycle a change to it opened, 'removed'
   * when a removal or a rename away from it came first, undefined when nothing below touched it.
   */
  head(id: string): GrantLifecycle | 'removed' | undefined;
  /** The oldest end (seq) below of a lifecycle whose last id is `id`. */
  endedAt(id: string): number | undefined;
}

export interface JoinedFold {
  /** Lifecycles below that the stretch continues: they leave their place and are part of `added`. */
  joined: GrantLifecycle[];
  /** What follows the lifecycles below, in order, finished (versions oldest first, regranted set). */
  added: GrantLifecycle[];
  /** The new first touch of every id the stretch touched (a lifecycle of `added`, or 'removed'). */
  heads: Map<string, GrantLifecycle | 'removed'>;
  /** seq of the stretch's newest commit. */
  topSeq: number;
}

/**
 * Folds a newer stretch of history (an unfinished fold of it: HistoryFolder.partial) onto the
 * history below it: what one fold of the whole line would give, without folding below again.
 *
 * One fold going down would reach the stretch's bottom with `open` as the stretch left it; the only
 * difference it makes below is that the first change to an open id finds that lifecycle instead of
 * opening a new one (and a removal or rename away from the id, met first, replaces the entry: the
 * stretch's lifecycle gets nothing more). So each open lifecycle takes the versions of the lifecycle
 * the first change below opened (`head`), which leaves its place; below, every other lifecycle is as
 * it was (ends in the stretch are newer than any version below, so no re-grant changes there).
 * Mutates the stretch's lifecycles and landings (seq).
 */
export function joinFold(stretch: PartialFold, below: FoldedBelow): JoinedFold {
  const offset = below.topSeq + stretch.commits;
  const shifted = new Set<Landing>();
  const shift = (l: Landing) => {
    if (shifted.has(l)) return;
    shifted.add(l);
    l.seq += offset;
  };
  for (const life of stretch.lifecycles) {
    for (const v of life.versions) shift(v.landed);
    if (life.ended) shift(life.ended.landed);
  }
  const joined: GrantLifecycle[] = [];
  const olderPart = new Map<GrantLifecycle, GrantLifecycle>();
  for (const [id, life] of stretch.open) {
    const head = below.head(id);
    if (head === undefined || head === 'removed') continue;
    joined.push(head);
    olderPart.set(life, head);
  }
  const added: GrantLifecycle[] = [];
  for (let i = stretch.lifecycles.length - 1; i >= 0; i--) {
    const life = stretch.lifecycles[i]!;
    life.versions.reverse();
    const older = olderPart.get(life);
    if (older) life.versions = older.versions.concat(life.versions);
    if (life.versions.length > 0) added.push(life);
  }
  // An id that ended before a grant was requested under it again: a re-grant (as the fold's finish).
  const endedHere = new Map<string, number>();
  for (const life of added) {
    if (!life.ended) continue;
    const seen = endedHere.get(life.id);
    if (seen === undefined || life.ended.landed.seq < seen) endedHere.set(life.id, life.ended.landed.seq);
  }
  for (const life of added) {
    const first = life.versions[0]!;
    const ends = [below.endedAt(first.id), endedHere.get(first.id)].filter((x) => x !== undefined);
    life.regranted = ends.length > 0 && Math.min(...ends) < first.landed.seq;
  }
  const heads = new Map<string, GrantLifecycle | 'removed'>();
  for (const [id, life] of stretch.firstTouch) heads.set(id, life ?? 'removed');
  return { joined, added, heads, topSeq: offset };
}
