import { GitRunner, type GitProcess } from './runner.js';
import type { FileChange, HistoryCommit } from '../../audit/history-commit.js';

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
  /**
   * A commit on main's line below the tip: stop there (it and what is older are not read). The warm
   * path reads only what landed since the history it has cached; always one process.
   */
  since?: string;
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
  const jobs = options.since ? 1 : Math.max(1, Math.min(options.jobs ?? 1, 8));
  const git = new GitRunner(root);
  const tip = await resolveHistoryTip(root, ref);
  const parser = new RecordParser(dirs, onCommit);
  const listLine = async () =>
    (await git.text(['rev-list', '--first-parent', tip], { env: { GIT_FLUSH: '0' } }))
      .split('\n')
      .filter(Boolean);
  const listed = jobs > 1 && options.exactJobs ? await listLine() : undefined;
  const segments = [new LogSegment(git, tip, parser, true, options.since)];
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
        segments.push(new LogSegment(git, start, parser, false));
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

/** The commit `ref` names, or an error saying it names none. */
export async function resolveHistoryTip(root: string, ref: string): Promise<string> {
  const tip = (
    await new GitRunner(root)
      .text(['rev-parse', '--verify', '-q', '--end-of-options', `${ref}^{commit}`])
      .catch(() => '')
  ).trim();
  if (!tip) throw new Error(`git log failed: ${ref} is not a commit`);
  return tip;
}

/** One `git log` over a stretch of main's line: from `start` down to `stopAt` (excluded) or the root. */
class LogSegment {
  stopAt: string | undefined;
  /** Commits parsed so far. */
  seen = 0;
  private readonly process: GitProcess;
  private readonly held: Buffer[] = [];
  private pending: Buffer = Buffer.alloc(0);
  private stopped = false;
  private closed = false;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;

  constructor(
    git: GitRunner,
    start: string,
    private readonly parser: RecordParser,
    private live: boolean,
    since?: string,
  ) {
    this.process = git.start(
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
        ...(since ? [`^${since}`] : []),
        '--',
      ],
      { env: { GIT_FLUSH: '0' } },
    );
    this.process.stdout?.on('data', (chunk: Buffer) => {
      if (this.stopped) return;
      if (this.live) this.consume(chunk);
      else this.held.push(chunk);
    });
    // `done` rejects with a GitError only.
    const closed = (failure?: Error) => {
      this.closed = true;
      this.failure = failure;
      this.wake?.();
    };
    this.process.done.then(
      () => closed(),
      (err: Error) => closed(err),
    );
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
    if (this.failure) throw this.failure;
  }

  stop(): void {
    if (!this.closed) this.process.stop();
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
