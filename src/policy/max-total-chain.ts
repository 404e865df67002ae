import type { Role } from '../model/policy.js';
import { parseTimestamp } from '../model/time.js';
import { chainStart, checkExtensionHistory, overMaxTotal, type RawGrantFields } from './extension.js';

/**
 * One change to a grant file on main's first-parent line, as git recorded it: when it landed, and
 * the file before and after (as written; undefined when absent or unreadable).
 */
export interface FileChange {
  /** ms: committer time of the first-parent commit. */
  time: number;
  status: 'added' | 'modified' | 'deleted';
  before: RawGrantFields | undefined;
  after: RawGrantFields | undefined;
}

/** One version of a grant in its chain: when it landed (undefined: before the history read). */
export interface ChainVersion {
  landedAt: number | undefined;
  fields: RawGrantFields | undefined;
}

/** A grant's chain: its versions oldest first, and when the first landed (undefined: before the history read). */
export interface GrantChain {
  versions: ChainVersion[];
  firstLanded: number | undefined;
}

const instant = (text: unknown): number | undefined => {
  if (typeof text !== 'string') return undefined;
  const t = parseTimestamp(text);
  return t.ok ? t.date.getTime() : undefined;
};

/**
 * The continuous history of a grant file, from its changes newest first (the file exists at the
 * newest). A deletion ends the chain only when the file is added again after the deleted version's
 * readable `expiresAt` (its access over): a delete and re-add while it still held access (two commits of one
 * rebase-merged pull request, or two pull requests) is the same grant, whose chain goes on. Changes
 * that run out before an addition leave `firstLanded` undefined: the chain began before them.
 */
export function grantChain(changes: readonly FileChange[]): GrantChain {
  const versions: ChainVersion[] = [];
  for (let i = 0; i < changes.length; i++) {
    const c = changes[i]!;
    if (c.status === 'deleted') break;
    versions.unshift({ landedAt: c.time, fields: c.after });
    const next = changes[i + 1];
    if (c.status === 'modified') {
      if (!next) versions.unshift({ landedAt: undefined, fields: c.before });
      continue;
    }
    if (next?.status !== 'deleted') return { versions, firstLanded: c.time };
    const deletedEnd = instant(next.before?.expiresAt);
    if (deletedEnd !== undefined && deletedEnd <= c.time) return { versions, firstLanded: c.time };
    // Re-added while the deleted version still held access (or one whose end cannot be read): the same chain.
    i++;
    if (!changes[i + 1]) versions.unshift({ landedAt: undefined, fields: next.before });
  }
  return { versions, firstLanded: undefined };
}

/**
 * Why a grant whose chain is `chain` may not be applied, or undefined: every change in the chain
 * keeps the extension history rules against the version before it (judged as of when it landed),
 * and the grant ends within its role's `maxTotal` of when its first version landed or the earliest
 * `startsAt` any version had, whichever is later. `before` bounds a chain read only in part: its
 * first version landed before then.
 */
export function chainProblem(
  chain: GrantChain,
  current: { expiresAt: Date; startsAt?: Date | undefined; target: string },
  role: Pick<Role, 'name' | 'maxTotal' | 'maxTotalMs'>,
  before: Date,
  now: Date,
): string | undefined {
  let previous: ChainVersion | undefined;
  for (const v of chain.versions) {
    if (!v.fields) continue;
    if (previous?.fields && v.landedAt !== undefined) {
      const problem = checkExtensionHistory(previous.fields, v.fields, new Date(v.landedAt)).problems[0];
      if (problem)
        return `a change to it that landed at ${iso(v.landedAt)} broke the extension rules against the version before it: ${problem.message}`;
    }
    previous = v;
  }
  // The current file is a version too (the only one when it has not changed within the history read).
  let earliest: number | undefined = current.startsAt?.getTime();
  for (const v of chain.versions) {
    const s = instant(v.fields?.startsAt);
    // A version without a (readable) startsAt gave access from when it landed.
    earliest = s === undefined || earliest === undefined ? undefined : Math.min(earliest, s);
  }
  const landed = chain.firstLanded !== undefined ? new Date(chain.firstLanded) : before;
  const startsAt = earliest === undefined ? undefined : new Date(earliest);
  const over = overMaxTotal(current.expiresAt, chainStart(startsAt, landed, now), role, current.target);
  if (!over) return undefined;
  return chain.firstLanded !== undefined
    ? over
    : `${over} (its first version landed before ${iso(before.getTime())})`;
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.000Z$/, 'Z');
}
