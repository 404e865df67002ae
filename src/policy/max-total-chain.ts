import type { Role } from '../model/policy.js';
import { parseTimestamp } from '../model/time.js';
import { loadYamlSource } from '../model/yaml-source.js';
import {
  chainStart,
  checkExtensionHistory,
  overMaxTotal,
  type ExtensionProblem,
  type RawGrantFields,
} from './extension.js';
import { MAX_GRANT_BYTES } from './load.js';

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
  /** The first-parent commit that brought it, when known. */
  commit?: string;
}

/**
 * A change to a grant file as git gives it (bytes), read into the fields it wrote. `parsed`: bytes
 * already read (one version is the `after` of a change and the `before` of the next: read once).
 */
export function readFileChange(
  file: string,
  c: {
    commit?: string;
    time: Date;
    status: FileChange['status'];
    before: Uint8Array | undefined;
    after: Uint8Array | undefined;
  },
  parsed?: Map<Uint8Array, RawGrantFields | undefined>,
): FileChange {
  const read = (bytes: Uint8Array | undefined) => {
    if (!bytes || !parsed) return rawGrantFields(file, bytes);
    if (!parsed.has(bytes)) parsed.set(bytes, rawGrantFields(file, bytes));
    return parsed.get(bytes);
  };
  return {
    time: c.time.getTime(),
    status: c.status,
    before: read(c.before),
    after: read(c.after),
    ...(c.commit !== undefined ? { commit: c.commit } : {}),
  };
}

/** A version as written; undefined when absent or unreadable (it then shows no fields). */
export function rawGrantFields(file: string, bytes: Uint8Array | undefined): RawGrantFields | undefined {
  if (!bytes) return undefined;
  const doc = loadYamlSource(file, bytes, { maxBytes: MAX_GRANT_BYTES });
  const value = doc.ok ? doc.doc.value : undefined;
  return value && typeof value === 'object' && !Array.isArray(value) ? value : undefined;
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
 * Every change in a file's whole history (changes newest first, as `grantChain` takes them) that
 * breaks the extension history rules against the version before it, judged as of when it landed:
 * the same links as `grantChain` (an edit; a re-add while the deleted version still held access),
 * over every chain the file had, not only its newest. What `audit --verify` reports.
 */
export function extensionHistoryBreaks(
  changes: readonly FileChange[],
): { change: FileChange; problems: ExtensionProblem[] }[] {
  const out: { change: FileChange; problems: ExtensionProblem[] }[] = [];
  // The newest version of the current chain that could be read: a version that is no grant (a
  // list, a scalar, YAML that does not parse) shows no fields, and must not launder the break of
  // the next version against the one before it (as chainProblem skips it, so does this).
  let lastRead: RawGrantFields | undefined;
  for (let i = changes.length - 1; i >= 0; i--) {
    const c = changes[i]!;
    if (c.status === 'deleted') {
      lastRead = c.before ?? lastRead;
      continue;
    }
    const gone = changes[i + 1];
    const goneEnd = instant(gone?.before?.expiresAt);
    // As grantChain: re-added while the deleted version held access (or its end is unreadable).
    const readded = gone?.status === 'deleted' && (goneEnd === undefined || goneEnd > c.time);
    const previous =
      c.status === 'modified'
        ? (c.before ?? lastRead)
        : c.status === 'added' && readded
          ? lastRead
          : undefined;
    if (c.status === 'added' && !readded) lastRead = undefined;
    if (!c.after) continue;
    lastRead = c.after;
    if (!previous) continue;
    const problems = checkExtensionHistory(previous, c.after, new Date(c.time)).problems;
    if (problems.length > 0) out.push({ change: c, problems });
  }
  return out;
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
