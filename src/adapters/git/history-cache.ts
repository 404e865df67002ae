import { createHash } from 'node:crypto';
import {
  closeSync,
  fstatSync,
  mkdirSync,
  openSync,
  readSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import type { FileChange, HistoryCommit } from '../../audit/history-commit.js';
import type { ExtensionFields, GrantFields } from '../../audit/lifecycle-model.js';
import { POLICIES_DIR } from '../../model/grant.js';
import { VERSION } from '../../model/version.js';
import type { FoldedColumns } from './history-cache-result.js';
import { GitRunner } from './runner.js';

/**
 * Bumped whenever what is cached, or how the fold reads it, changes; the grantops version is in the
 * header too, so a cache written by another release (whose lenient grant reading may differ) is
 * never used.
 */
export const HISTORY_CACHE_FORMAT = 1;
const MAGIC = 'grantops-history-cache';

/**
 * What the audit fold consumed from git, up to one commit of main's line: the records `git log`
 * streamed (newest first; a merge's author already resolved, so `mergeParent` is undefined), what
 * each grant blob said, the policy texts, and the notes as of one commit of the notes ref. Folding
 * these again gives exactly what reading git would: the cache stands for git's answers, never for
 * the audit's conclusions, and never counts as evidence.
 */
export interface CachedHistory {
  /** The commit the records go down from. */
  tip: string;
  /** The commit refs/notes/grantops was at when `notes` was read ('' = no notes ref). */
  notesCommit: string;
  records: HistoryCommit[];
  grants: Map<string, GrantFields>;
  policies: Map<string, string>;
  notes: Map<string, string>;
}

/** Where a repository keeps its cache, and whether it may use one. */
export interface HistoryCacheSite {
  tip: string;
  /** `<git common dir>/grantops/history-cache-v1.json`. */
  file: string;
  /** A shallow clone's history is incomplete (and may deepen under the same tip): never cached. */
  shallow: boolean;
}

/** The tip `ref` names, where the cache lives and whether the clone is shallow: one git process. */
export async function locateHistoryCache(root: string, ref: string): Promise<HistoryCacheSite | undefined> {
  const out = await new GitRunner(root)
    .text([
      'rev-parse',
      '--path-format=absolute',
      '--git-common-dir',
      '--is-shallow-repository',
      '--verify',
      '-q',
      '--end-of-options',
      `${ref}^{commit}`,
    ])
    .catch(() => '');
  const [dir, shallow, tip] = out.split('\n');
  if (!dir || !tip || !/^[0-9a-f]{40,64}$/.test(tip)) return undefined;
  return {
    tip,
    file: join(dir, 'grantops', `history-cache-v${HISTORY_CACHE_FORMAT}.json`),
    shallow: shallow === 'true',
  };
}

/** Each section is checked on its own: a load at the cached tip reads only the folded one. */
interface Section {
  bytes: number;
  sha256: string;
}
interface Header {
  cache: string;
  format: number;
  grantops: string;
  tip: string;
  notesCommit: string;
  folded: Section;
  records: Section;
}

/** The folded history at the cached tip and notes, and the policy texts its queries read. */
export interface FoldedCache {
  columns: FoldedColumns;
  policies: Map<string, string>;
}

type Nullable<T> = T | null;
type ChangeRow = [FileChange['status'], string, Nullable<string>, Nullable<string>, Nullable<string>];
type RecordRow = [string, number, number, string, string[], ChangeRow[]];
type GrantRow = [
  string,
  string,
  string,
  string,
  string,
  Nullable<string>,
  Nullable<number>,
  Nullable<number>,
  /** The file's last extension (absent in rows without one). */
  Nullable<ExtensionFields>?,
];
interface Body {
  authors: string[];
  records: RecordRow[];
  grants: GrantRow[];
  policies: [string, string][];
  notes: [string, string][];
}

/**
 * Reads the cache, or the reason it cannot be used (none, another format or grantops version,
 * truncated, corrupted: each section's sha256 is checked). At the tip and notes commit it was
 * written at, only the folded section is read; elsewhere only the records. Whether the records'
 * tip belongs to this repository's history is for the caller to check against git.
 */
export function readHistoryCache(
  file: string,
  tip: string,
  notesAt: string,
): { folded: FoldedCache } | { cache: CachedHistory } | { rejected: string } {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return { rejected: 'none' };
  }
  try {
    const head = Buffer.alloc(4096);
    const n = readSync(fd, head, 0, head.length, 0);
    const nl = head.subarray(0, n).indexOf(0x0a);
    let header: Header;
    try {
      header = JSON.parse(head.toString('utf8', 0, nl < 0 ? n : nl)) as Header;
    } catch {
      return { rejected: 'unreadable header' };
    }
    const isSection = (x: unknown) =>
      typeof x === 'object' &&
      x !== null &&
      Number.isSafeInteger((x as Section).bytes) &&
      typeof (x as Section).sha256 === 'string';
    if (
      header?.cache !== MAGIC ||
      header.format !== HISTORY_CACHE_FORMAT ||
      typeof header.tip !== 'string' ||
      typeof header.notesCommit !== 'string' ||
      !isSection(header.folded) ||
      !isSection(header.records)
    )
      return { rejected: 'another format' };
    if (header.grantops !== VERSION) return { rejected: `written by grantops ${String(header.grantops)}` };
    const size = fstatSync(fd).size;
    if (size !== nl + 1 + header.folded.bytes + header.records.bytes) return { rejected: 'truncated' };
    const section = (at: number, want: Section) => {
      const body = Buffer.allocUnsafe(want.bytes);
      let got = 0;
      while (got < want.bytes) {
        const r = readSync(fd, body, got, want.bytes - got, at + got);
        if (r <= 0) break;
        got += r;
      }
      if (got !== want.bytes || createHash('sha256').update(body).digest('hex') !== want.sha256)
        return undefined;
      return body.toString('utf8');
    };
    if (header.tip === tip && header.notesCommit === notesAt) {
      const text = section(nl + 1, header.folded);
      if (text === undefined) return { rejected: 'corrupted' };
      try {
        const folded = JSON.parse(text) as { columns: FoldedColumns; policies: [string, string][] };
        return { folded: { columns: folded.columns, policies: new Map(folded.policies) } };
      } catch {
        return { rejected: 'malformed' };
      }
    }
    const text = section(nl + 1 + header.folded.bytes, header.records);
    if (text === undefined) return { rejected: 'corrupted' };
    return parseRecords(header, text);
  } finally {
    closeSync(fd);
  }
}

function parseRecords(header: Header, text: string): { cache: CachedHistory } | { rejected: string } {
  try {
    const b = JSON.parse(text) as Body;
    const authors = b.authors;
    const records = b.records.map(([sha, time, author, subject, revoked, changes]): HistoryCommit => ({
      sha,
      mergeParent: undefined,
      time,
      author: authors[author]!,
      subject,
      revoked,
      changes: changes.map(([status, path, from, oldBlob, blob]) => ({
        status,
        path,
        from: from ?? undefined,
        oldBlob: oldBlob ?? undefined,
        blob: blob ?? undefined,
      })),
    }));
    const grants = new Map<string, GrantFields>();
    for (const [blob, user, target, role, reason, ticket, startsAt, expiresAt, extension] of b.grants)
      grants.set(blob, {
        user,
        target,
        role,
        reason,
        ticket: ticket ?? undefined,
        startsAt: startsAt ?? undefined,
        expiresAt: expiresAt ?? undefined,
        extension: extension ?? undefined,
      });
    return {
      cache: {
        tip: header.tip,
        notesCommit: header.notesCommit,
        records,
        grants,
        policies: new Map(b.policies),
        notes: new Map(b.notes),
      },
    };
  } catch {
    // A checksum that matches a body of the wrong shape: written by something else.
    return { rejected: 'malformed' };
  }
}

/** Writes the cache atomically (a temporary file renamed over it): a reader sees the old or the new. */
export function writeHistoryCache(file: string, cache: CachedHistory, folded: FoldedCache): void {
  const authorIds = new Map<string, number>();
  const authors: string[] = [];
  const authorId = (a: string) => {
    let id = authorIds.get(a);
    if (id === undefined) authorIds.set(a, (id = authors.push(a) - 1));
    return id;
  };
  const body: Body = {
    authors,
    records: cache.records.map((r) => [
      r.sha,
      r.time,
      authorId(r.author),
      r.subject,
      [...r.revoked],
      // The fold reads a blob before a change only to undo a policy change: the rest is left out.
      r.changes.map((c) => [
        c.status,
        c.path,
        c.from ?? null,
        (c.status === 'R' ? c.from : c.path)?.startsWith(`${POLICIES_DIR}/`) ? (c.oldBlob ?? null) : null,
        c.blob ?? null,
      ]),
    ]),
    grants: [...cache.grants].map(([blob, f]) => [
      blob,
      f.user,
      f.target,
      f.role,
      f.reason,
      f.ticket ?? null,
      f.startsAt ?? null,
      f.expiresAt ?? null,
      f.extension ?? null,
    ]),
    policies: [...cache.policies],
    notes: [...cache.notes],
  };
  const records = Buffer.from(JSON.stringify(body), 'utf8');
  const foldedText = Buffer.from(
    JSON.stringify({ columns: folded.columns, policies: [...folded.policies] }),
    'utf8',
  );
  const section = (b: Buffer): Section => ({
    bytes: b.length,
    sha256: createHash('sha256').update(b).digest('hex'),
  });
  const header: Header = {
    cache: MAGIC,
    format: HISTORY_CACHE_FORMAT,
    grantops: VERSION,
    tip: cache.tip,
    notesCommit: cache.notesCommit,
    folded: section(foldedText),
    records: section(records),
  };
  mkdirSync(join(file, '..'), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, Buffer.concat([Buffer.from(`${JSON.stringify(header)}\n`), foldedText, records]), {
      mode: 0o600,
    });
    renameSync(tmp, file);
  } finally {
    rmSync(tmp, { force: true });
  }
}

/**
 * Whether `old` is on `tip`'s first-parent line (what the cached records describe is then exactly
 * the bottom of what a cold read of `tip` would stream). Being an ancestor is not enough: a branch
 * merged into main is an ancestor whose first-parent line is not main's. False also when `old`
 * names nothing here (a cache from another repository).
 */
export async function onFirstParentLine(root: string, old: string, tip: string): Promise<boolean> {
  const git = new GitRunner(root);
  try {
    // Cheap refusal first: a rewritten history would otherwise be listed whole.
    await git.text(['merge-base', '--is-ancestor', old, tip]);
  } catch {
    return false;
  }
  const line = await git
    .text(['rev-list', '--first-parent', '--parents', tip, `^${old}`], { env: { GIT_FLUSH: '0' } })
    .catch(() => '');
  const last = line.trimEnd().split('\n').pop() ?? '';
  return last.split(' ')[1] === old;
}

/** The commit refs/notes/grantops is at, '' when there is none. */
export async function notesCommit(root: string, ref: string): Promise<string> {
  return (await new GitRunner(root).text(['for-each-ref', '--format=%(objectname)', ref])).trim();
}
