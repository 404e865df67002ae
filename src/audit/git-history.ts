import { spawn, type ChildProcess, type ChildProcessByStdio } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';

/**
 * One commit of main's first-parent line as `git log` streams it, newest first. Transient: the
 * fold keeps what it needs and drops the record, so a long history is never held in memory.
 */
export interface HistoryCommit {
  sha: string;
  /** The merged branch's tip for a merge commit (its author wrote the change), else undefined. */
  mergeParent: string | undefined;
  /** Committer time in ms: when it landed on main. */
  time: number;
  author: string;
  subject: string;
  /** The ids of the commit's `Revoked-Grant:` trailers. */
  revoked: readonly string[];
  changes: FileChange[];
}

export interface FileChange {
  status: 'A' | 'M' | 'D' | 'R';
  path: string;
  /** For renames, the path before; else undefined. */
  from: string | undefined;
  /** Blob before the change (undefined for additions). */
  oldBlob: string | undefined;
  /** Blob after the change (undefined for deletions). */
  blob: string | undefined;
}

const RS = 0x1e; // starts a commit
const US = 0x1f; // separates header fields
const GS = 0x1d; // ends the message
const NUL = 0x00;
const NO_REVOKED: readonly string[] = Object.freeze([]);

export interface HistoryReadOptions {
  /**
   * How many `git log` processes may share the work: the first streams from the tip, the others
   * each from a commit further down main's line, buffered until their turn. Never per commit.
   */
  jobs?: number;
  /** Below this many commits per process, one process reads everything. */
  minCommitsPerJob?: number;
  /**
   * List main's line before the first `git log` starts, so that exactly `jobs` processes read it
   * (when the line has that many commits). By default the first process streams at once and the
   * split covers only what it has not reached by the time the line is listed, which depends on load.
   */
  exactJobs?: boolean;
}

/**
 * Streams main's first-parent history newest first and calls `onCommit` for each commit that changed
 * something under `dirs`: merges are diffed against their first parent (what the merge brought),
 * renames are detected.
 *
 * Built for long histories: no pathspec (it doubles git's time: one diff to prune, one to print),
 * no --reverse (git would hold everything back), `-z` (paths arrive unquoted, whatever they contain),
 * GIT_FLUSH=0 (git otherwise writes each commit with its own syscall into the pipe: 100,000 wake-ups),
 * and bytes parsed where they lie, each kept field copied out so no chunk of the stream stays alive.
 * Diffing trees is git's cost and it is single-threaded, so on a machine with more cores the line is
 * cut into `jobs` consecutive stretches, each read by its own `git log`, and folded in order.
 */
export async function readFirstParentHistory(
  root: string,
  dirs: readonly string[],
  ref: string,
  onCommit: (commit: HistoryCommit) => void,
  options: HistoryReadOptions = {},
): Promise<{ commits: number; processes: number }> {
  const jobs = Math.max(1, Math.min(options.jobs ?? 1, 8));
  const tip = (
    await capture(root, ['rev-parse', '--verify', '-q', '--end-of-options', `${ref}^{commit}`])
  ).trim();
  if (!tip) throw new Error(`git log failed: ${ref} is not a commit`);
  const parser = new RecordParser(dirs, onCommit);
  const listLine = async () =>
    (await capture(root, ['rev-list', '--first-parent', tip])).split('\n').filter(Boolean);
  const listed = jobs > 1 && options.exactJobs ? await listLine() : undefined;
  const segments = [new LogSegment(root, tip, parser, true)];
  if (jobs > 1) {
    // The first process is already streaming; list main's line (no diffs: a tenth of the cost),
    // then cut what the first has not reached yet into equal stretches.
    const line = listed ?? (await listLine());
    const done = listed ? 0 : segments[0]!.seen;
    const per = Math.ceil((line.length - done) / jobs);
    if (per >= (options.minCommitsPerJob ?? 5_000)) {
      for (let j = 1; j < jobs; j++) {
        const start = line[done + per * j];
        if (!start) break;
        segments[j - 1]!.stopAt = start;
        segments.push(new LogSegment(root, start, parser, false));
      }
    }
  }
  try {
    for (const segment of segments) await segment.read();
  } finally {
    for (const segment of segments) segment.stop();
  }
  return { commits: segments.reduce((n, s) => n + s.seen, 0), processes: segments.length };
}

/** One `git log` over a stretch of main's line: from `start` down to `stopAt` (excluded) or the root. */
class LogSegment {
  stopAt: string | undefined;
  /** Commits parsed so far. */
  seen = 0;
  private readonly child: ChildProcessByStdio<null, Readable, Readable>;
  private readonly held: Buffer[] = [];
  private pending: Buffer = Buffer.alloc(0);
  private stopped = false;
  private closed = false;
  private code = 0;
  private stderr = '';
  private wake: (() => void) | undefined;

  constructor(
    root: string,
    start: string,
    private readonly parser: RecordParser,
    private live: boolean,
  ) {
    this.child = spawn(
      'git',
      [
        'log',
        '-z',
        '--first-parent',
        '-m',
        '-M',
        '--raw',
        '--no-abbrev',
        '--format=%x1e%H%x1f%P%x1f%ct%x1f%an <%ae>%x1f%B%x1d',
        start,
        '--',
      ],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, GIT_FLUSH: '0' } },
    );
    this.child.stderr.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.child.stdout.on('data', (chunk: Buffer) => {
      if (this.stopped) return;
      if (this.live) this.consume(chunk);
      else this.held.push(chunk);
    });
    this.child.on('close', (code) => {
      this.closed = true;
      this.code = code ?? 1;
      this.wake?.();
    });
  }

  /** Parses what was held back, then the rest as it streams, until the stretch ends. */
  async read(): Promise<void> {
    this.live = true;
    // A stretch whose git log got ahead of the fold may hold its end already: once the next
    // stretch's first commit is reached, nothing after it may be parsed (it would be read twice).
    for (const chunk of this.held.splice(0)) {
      if (this.stopped) break;
      this.consume(chunk);
    }
    while (!this.stopped && !this.closed) await new Promise<void>((resolve) => (this.wake = resolve));
    if (this.stopped) return;
    if (this.pending.length) this.parse(this.pending, 0, this.pending.length);
    this.pending = Buffer.alloc(0);
    if (this.code !== 0) throw new Error(`git log failed: ${this.stderr.trim()}`);
  }

  stop(): void {
    if (!this.closed) this.child.kill();
    this.stopped = true;
  }

  private consume(chunk: Buffer): void {
    const buf = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    let start = buf.indexOf(RS);
    if (start < 0) {
      this.pending = Buffer.alloc(0);
      return;
    }
    for (;;) {
      const next = buf.indexOf(RS, start + 1);
      if (next < 0) break;
      if (!this.parse(buf, start, next)) return;
      start = next;
    }
    this.pending = buf.subarray(start);
  }

  /** False once the stretch has reached the next one's first commit. */
  private parse(buf: Buffer, start: number, end: number): boolean {
    if (this.stopAt !== undefined && buf.toString('latin1', start + 1, start + 41) === this.stopAt) {
      this.stop();
      this.wake?.();
      return false;
    }
    this.seen++;
    this.parser.parse(buf, start, end);
    return true;
  }
}

/** Turns one record of the log into a HistoryCommit, if it changed anything watched. */
class RecordParser {
  private readonly watched: Buffer[];
  // A few authors write thousands of commits: keep one copy of each name.
  private readonly authors = new Map<string, string>();

  constructor(
    dirs: readonly string[],
    private readonly onCommit: (commit: HistoryCommit) => void,
  ) {
    this.watched = dirs.map((d) => Buffer.from(`${d}/`));
  }

  private isWatched(buf: Buffer, s: number, e: number): boolean {
    for (const w of this.watched)
      if (e - s > w.length && buf.compare(w, 0, w.length, s, s + w.length) === 0) return true;
    return false;
  }

  /**
   * `\x1e<sha>\x1f<parents>\x1f<time>\x1f<author>\x1f<message>\x1d` then, NUL-separated, raw entries
   * `:<mode> <mode> <old> <new> <status>` followed by one path (two for a rename). Only what is
   * kept becomes a string: most records change nothing watched and cost a few byte scans.
   */
  parse(buf: Buffer, start: number, end: number): void {
    const f1 = buf.indexOf(US, start + 1) + 1;
    const f2 = f1 > 0 ? buf.indexOf(US, f1) + 1 : 0;
    const f3 = f2 > 0 ? buf.indexOf(US, f2) + 1 : 0;
    const f4 = f3 > 0 ? buf.indexOf(US, f3) + 1 : 0;
    if (f4 <= 0 || f4 >= end) return;
    const messageEnd = buf.indexOf(GS, f4);
    if (messageEnd < 0 || messageEnd >= end) return;
    let changes: FileChange[] | undefined;
    let deletes = false;
    let pos = messageEnd + 1;
    while (pos < end) {
      while (pos < end && (buf[pos] === NUL || buf[pos] === 0x0a)) pos++;
      if (pos >= end || buf[pos] !== 0x3a /* ':' */) break;
      const metaEnd = buf.indexOf(NUL, pos);
      if (metaEnd < 0 || metaEnd >= end) break;
      // ":100644 100644 <old> <new> M100": the status starts after the fourth space.
      const s1 = buf.indexOf(0x20, pos);
      const s2 = buf.indexOf(0x20, s1 + 1);
      const s3 = buf.indexOf(0x20, s2 + 1);
      const s4 = buf.indexOf(0x20, s3 + 1);
      if (s4 < 0 || s4 >= metaEnd) break;
      const status = buf[s4 + 1];
      const renamed = status === 0x52 /* R */ || status === 0x43; /* C */
      const p1End = buf.indexOf(NUL, metaEnd + 1);
      if (p1End < 0 || p1End > end) break;
      const p2End = renamed ? buf.indexOf(NUL, p1End + 1) : p1End;
      if (p2End < 0 || p2End > end) break;
      pos = p2End + 1;
      const pathStart = renamed ? p1End + 1 : metaEnd + 1;
      if (!this.isWatched(buf, pathStart, p2End) && !(renamed && this.isWatched(buf, metaEnd + 1, p1End)))
        continue;
      const kind =
        status === 0x41
          ? 'A'
          : status === 0x4d || status === 0x54
            ? 'M'
            : status === 0x44
              ? 'D'
              : status === 0x52
                ? 'R'
                : undefined;
      if (!kind) continue;
      if (kind === 'D') deletes = true;
      // One shape for every change (see the audit's note on hidden classes).
      (changes ??= []).push({
        status: kind,
        path: buf.toString('utf8', pathStart, p2End),
        from: kind === 'R' ? buf.toString('utf8', metaEnd + 1, p1End) : undefined,
        oldBlob: kind === 'A' ? undefined : objectId(buf, s2 + 1, s3),
        blob: kind === 'D' ? undefined : objectId(buf, s3 + 1, s4),
      });
    }
    if (!changes) return;
    const parentsEnd = f2 - 1;
    const space = buf.indexOf(0x20, f1);
    const nl = buf.indexOf(0x0a, f4);
    const subjectEnd = nl < 0 || nl > messageEnd ? messageEnd : nl;
    let revoked = NO_REVOKED;
    if (deletes) {
      const trailer = buf.indexOf('Revoked-Grant:', f4);
      if (trailer >= 0 && trailer < messageEnd) {
        const message = buf.toString('utf8', f4, messageEnd);
        revoked = [...message.matchAll(/^Revoked-Grant: (.+)$/gm)].map((m) => m[1]!.trim());
      }
    }
    const author = buf.toString('utf8', f3, f4 - 1);
    this.onCommit({
      sha: buf.toString('latin1', start + 1, f1 - 1),
      mergeParent:
        space < 0 || space >= parentsEnd
          ? undefined
          : buf.toString('latin1', space + 1, nextSpace(buf, space + 1, parentsEnd)),
      time: Number(buf.toString('latin1', f2, f3 - 1)) * 1000,
      author: this.authors.get(author) ?? (this.authors.set(author, author), author),
      subject: buf.toString('utf8', f4, subjectEnd),
      revoked,
      changes,
    });
  }
}

function nextSpace(buf: Buffer, from: number, end: number): number {
  const i = buf.indexOf(0x20, from);
  return i < 0 || i > end ? end : i;
}

/** The object id at [s, e), or undefined for git's all-zero "none". */
function objectId(buf: Buffer, s: number, e: number): string | undefined {
  for (let i = s; i < e; i++) if (buf[i] !== 0x30) return buf.toString('latin1', s, e);
  return undefined;
}

/**
 * A `git cat-file --batch` process fed while the history is still streaming: ask for objects as they
 * are discovered (each with what it is for); each comes back through `onObject`, in the order asked,
 * at the latest by `finish`. cat-file writes every blob with syscalls of its own; into a pipe that
 * is a wake-up of the reader per object (160,000 on the benchmark, a second of CPU), so it writes
 * into a temporary file, which is read as it grows, in large pieces, between batches of requests.
 */
export class ObjectReader<T> {
  private readonly child: ChildProcess;
  private readonly stdin: Writable;
  private readonly sinks: T[] = [];
  private index = 0;
  private readonly batch = Buffer.allocUnsafe(1 << 16);
  private batchLength = 0;
  private readonly dir: string;
  private readonly fd: number;
  private offset = 0;
  private pending: Buffer = Buffer.alloc(0);
  private readonly buffer = Buffer.allocUnsafe(1 << 20);
  private readonly exited: Promise<number>;

  constructor(
    root: string,
    private readonly onObject: (sink: T, body: Buffer) => void,
  ) {
    this.dir = mkdtempSync(join(tmpdir(), 'grantops-objects-'));
    const file = join(this.dir, 'objects');
    const out = openSync(file, 'w', 0o600);
    try {
      this.child = spawn('git', ['cat-file', '--batch', '--buffer'], {
        cwd: root,
        stdio: ['pipe', out, 'ignore'],
      });
    } finally {
      closeSync(out);
    }
    this.fd = openSync(file, 'r');
    this.stdin = this.child.stdin!;
    this.stdin.on('error', () => undefined);
    const child = this.child;
    this.exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? 1)));
  }

  ask(id: string, sink: T): void {
    this.sinks.push(sink);
    if (this.batchLength + id.length + 1 > this.batch.length) this.flush();
    this.batchLength += this.batch.write(id, this.batchLength, 'latin1');
    this.batch[this.batchLength++] = 0x0a;
  }

  /** Sends the requests asked so far, and takes what has been answered since the last time. */
  flush(): void {
    this.poll();
    if (this.batchLength === 0) return;
    this.stdin.write(Buffer.from(this.batch.subarray(0, this.batchLength)));
    this.batchLength = 0;
  }

  /** Waits for every object asked, and hands each to `onObject`. */
  async finish(): Promise<void> {
    try {
      this.flush();
      this.stdin.end();
      const code = await this.exited;
      if (code !== 0) throw new Error(`git cat-file failed (exit ${code})`);
      this.poll();
    } finally {
      this.child.kill();
      closeSync(this.fd);
      rmSync(this.dir, { recursive: true, force: true });
    }
  }

  private poll(): void {
    for (;;) {
      const n = readSync(this.fd, this.buffer, 0, this.buffer.length, this.offset);
      if (n <= 0) return;
      this.offset += n;
      const chunk = this.buffer.subarray(0, n);
      const buf = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
      let pos = 0;
      for (;;) {
        const nl = buf.indexOf(0x0a, pos);
        if (nl < 0) break;
        if (buf[nl - 1] === 0x67 /* 'g' */ && buf.toString('latin1', nl - 8, nl) === ' missing') {
          pos = nl + 1;
          this.sinks[this.index++] = undefined as T;
          continue;
        }
        const size = Number(buf.toString('latin1', buf.lastIndexOf(0x20, nl) + 1, nl));
        if (buf.length < nl + 1 + size + 1) break;
        const sink = this.sinks[this.index];
        this.sinks[this.index++] = undefined as T;
        this.onObject(sink as T, buf.subarray(nl + 1, nl + 1 + size));
        pos = nl + 1 + size + 1;
      }
      // The read buffer is reused: keep a copy of the unfinished object.
      this.pending = Buffer.from(buf.subarray(pos));
    }
  }
}

/**
 * Reads many objects (blobs, commits) with one `git cat-file --batch` process, streaming; missing
 * objects are left out.
 */
export async function readObjects(root: string, ids: readonly string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const reader = new ObjectReader<string>(root, (id, body) => out.set(id, body.toString('utf8')));
  for (const id of ids) reader.ask(id, id);
  await reader.finish();
  return out;
}

/** `path -> blob` of the files under `dir` at `ref` (one `git ls-tree`). */
export async function readTreeBlobs(root: string, ref: string, dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const text = await capture(root, [
    'ls-tree',
    '-r',
    '-z',
    '--full-tree',
    '--end-of-options',
    ref,
    '--',
    `${dir}/`,
  ]);
  for (const entry of text.split('\0')) {
    const tab = entry.indexOf('\t');
    const [, type, blob] = entry.slice(0, tab).split(' ');
    if (type === 'blob' && blob) out.set(entry.slice(tab + 1), blob);
  }
  return out;
}

/** The grantops notes (commit -> text) of the repository, in two processes. */
export async function readAllNotes(root: string, ref = 'refs/notes/grantops'): Promise<Map<string, string>> {
  const list = await capture(root, ['notes', `--ref=${ref}`, 'list']);
  const byNote = new Map<string, string[]>();
  for (const line of list.split('\n')) {
    const [note, commit] = line.trim().split(' ');
    if (note && commit) byNote.set(note, [...(byNote.get(note) ?? []), commit]);
  }
  const texts = await readObjects(root, [...byNote.keys()]);
  const out = new Map<string, string>();
  for (const [note, text] of texts) for (const commit of byNote.get(note) ?? []) out.set(commit, text);
  return out;
}

function capture(root: string, args: string[]): Promise<string> {
  return new Promise<string>((resolve) => {
    const child = spawn('git', args, {
      cwd: root,
      stdio: ['ignore', 'pipe', 'ignore'],
      env: { ...process.env, GIT_FLUSH: '0' },
    });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => chunks.push(d));
    child.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}
