import { createHash, createHmac } from 'node:crypto';
import { appendFileSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { VERSION } from '../../model/version.js';
import { ChunkView } from './history-cache-result.js';
import { GitRunner } from './runner.js';

/**
 * Bumped whenever what is cached, or how the fold reads it, changes; the grantops version is in the
 * header too, so a cache written by another release (whose lenient grant reading may differ) is
 * never used.
 */
export const HISTORY_CACHE_FORMAT = 4;
const MAGIC = 'grantops-history-cache';

/** Where a repository keeps its cache, and whether it may use one. */
export interface HistoryCacheSite {
  tip: string;
  /** `<git common dir>/grantops/history-cache-v4.bin`. */
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
    file: join(dir, 'grantops', `history-cache-v${HISTORY_CACHE_FORMAT}.bin`),
    shallow: shallow === 'true',
  };
}

interface Header {
  cache: string;
  format: number;
  grantops: string;
  /** How each frame is checked: sha256, or an HMAC-SHA256 keyed by GRANTOPS_CACHE_KEY. */
  mac: 'sha256' | 'hmac-sha256';
}

/** Each chunk's checksum: keyed when a key is given (the cache may then come from anyone). */
const digest = (body: Buffer, key: string | undefined) =>
  (key ? createHmac('sha256', key) : createHash('sha256')).update(body).digest();

/**
 * A frame: u32 length, 4 bytes of padding, 32 bytes of digest, the chunk (whose length is a
 * multiple of 8). The header line is padded to 8 too: every column starts at a multiple of 8 of the
 * file, where a typed array can be laid over it without a copy.
 */
const FRAME = 40;
function frame(chunk: Buffer, key: string | undefined): Buffer {
  const head = Buffer.alloc(FRAME);
  head.writeUInt32LE(chunk.length, 0);
  digest(chunk, key).copy(head, 8);
  return Buffer.concat([head, chunk]);
}

/**
 * The cache file's bytes (undefined: none), read off the main thread, in one read where it can be,
 * so that it overlaps the git processes started before.
 */
export async function readCacheFile(file: string): Promise<Buffer | undefined> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch {
    return undefined;
  }
  try {
    const { size } = await handle.stat();
    const bytes = Buffer.allocUnsafe(size);
    let at = 0;
    while (at < size) {
      const { bytesRead } = await handle.read(bytes, at, size - at, at);
      if (bytesRead === 0) break;
      at += bytesRead;
    }
    // A file that shrank meanwhile reads back as truncated.
    return at === size ? bytes : bytes.subarray(0, at);
  } catch {
    return undefined;
  } finally {
    await handle.close();
  }
}

/**
 * The cache as chunks (history-cache-chunk.ts), or the reason it cannot be used: none, another
 * format or grantops version, a key that does not match (GRANTOPS_CACHE_KEY), truncated, corrupted
 * (each chunk's checksum is checked), malformed, chunks that do not follow each other. Whether the
 * tip belongs to this repository's history is for the caller to check against git.
 */
export function readHistoryCache(
  bytes: Buffer | undefined,
  key: string | undefined,
): { chunks: ChunkView[]; size: number } | { rejected: string } {
  if (!bytes) return { rejected: 'none' };
  const nl = bytes.subarray(0, 4096).indexOf(0x0a);
  let header: Header;
  try {
    header = JSON.parse(bytes.toString('utf8', 0, nl < 0 ? Math.min(bytes.length, 4096) : nl)) as Header;
  } catch {
    return { rejected: 'unreadable header' };
  }
  if (header?.cache !== MAGIC || header.format !== HISTORY_CACHE_FORMAT)
    return { rejected: 'another format' };
  if (header.grantops !== VERSION) return { rejected: `written by grantops ${String(header.grantops)}` };
  if (header.mac !== (key ? 'hmac-sha256' : 'sha256'))
    return {
      rejected: key ? 'not authenticated with GRANTOPS_CACHE_KEY' : 'authenticated with a key not given',
    };
  const chunks: ChunkView[] = [];
  let at = nl + 1;
  while (at < bytes.length) {
    if (at + FRAME > bytes.length) return { rejected: 'truncated' };
    const len = bytes.readUInt32LE(at);
    if (at + FRAME + len > bytes.length) return { rejected: 'truncated' };
    const body = bytes.subarray(at + FRAME, at + FRAME + len);
    if (!digest(body, key).equals(bytes.subarray(at + 8, at + FRAME)))
      return { rejected: key ? 'corrupted or not written with GRANTOPS_CACHE_KEY' : 'corrupted' };
    let view: ChunkView;
    try {
      view = new ChunkView(body);
    } catch {
      return { rejected: 'malformed' };
    }
    const prev = chunks[chunks.length - 1];
    if (
      prev
        ? view.meta.from !== prev.meta.tip ||
          view.meta.serialStart !== prev.meta.serialStart + prev.lifecycleCount ||
          view.meta.topSeq < prev.meta.topSeq
        : view.meta.from !== '' || view.meta.serialStart !== 0
    )
      return { rejected: 'chunks out of order' };
    chunks.push(view);
    at += FRAME + len;
  }
  if (chunks.length === 0) return { rejected: 'truncated' };
  return { chunks, size: bytes.length };
}

/** Writes the cache with one chunk, atomically (a temporary file renamed over it). */
export function writeHistoryCache(file: string, chunk: Buffer, key: string | undefined): void {
  const header: Header = {
    cache: MAGIC,
    format: HISTORY_CACHE_FORMAT,
    grantops: VERSION,
    mac: key ? 'hmac-sha256' : 'sha256',
  };
  mkdirSync(join(file, '..'), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    const line = JSON.stringify(header);
    const padded = `${line.padEnd(((line.length + 1 + 7) & ~7) - 1)}\n`;
    writeFileSync(tmp, Buffer.concat([Buffer.from(padded), frame(chunk, key)]), {
      mode: 0o600,
    });
    renameSync(tmp, file);
  } finally {
    rmSync(tmp, { force: true });
  }
  // What an earlier format left there is never read again.
  for (const old of readdirSync(join(file, '..')))
    if (/^history-cache-v\d+\.(json|bin)$/.test(old) && join(file, '..', old) !== file)
      rmSync(join(file, '..', old), { force: true });
}

/**
 * Appends a chunk to the cache read at `size` bytes. Half an append (a crash) reads back as
 * truncated; another process's append or rewrite in between breaks the chain of tips: either way the
 * next load rebuilds it. Nothing is appended if the file changed size since it was read.
 */
export function appendHistoryCache(file: string, size: number, chunk: Buffer, key: string | undefined): void {
  if (statSync(file).size !== size) throw new Error('the cache changed while it was read');
  appendFileSync(file, frame(chunk, key));
}

/**
 * Whether `old` is on `tip`'s first-parent line (what the cache describes is then exactly the bottom
 * of what a cold read of `tip` would stream). Being an ancestor is not enough: a branch merged into
 * main is an ancestor whose first-parent line is not main's. False also when `old` names nothing
 * here (a cache from another repository).
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

/**
 * The commits whose note differs between two commits of the notes ref (a tree diff: what changed,
 * not every note); undefined when that cannot be told (a notes commit gone, or no notes ref now).
 */
export async function notesChanged(root: string, from: string, to: string): Promise<Set<string> | undefined> {
  const git = new GitRunner(root);
  if (!to) return undefined;
  const out = await (
    from
      ? git.text(['diff-tree', '-r', '--no-renames', '--name-only', '-z', from, to])
      : git.text(['ls-tree', '-r', '--name-only', '-z', to])
  ).catch(() => undefined);
  if (out === undefined) return undefined;
  const commits = new Set<string>();
  for (const path of out.split('\0')) {
    const sha = path.replaceAll('/', '');
    if (/^[0-9a-f]{40,64}$/.test(sha)) commits.add(sha);
  }
  return commits;
}
