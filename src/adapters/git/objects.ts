import { closeSync, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { GitRunner, type GitProcess } from './runner.js';

/**
 * A `git cat-file --batch` process fed while the history is still streaming: ask for objects as they
 * are discovered (each with what it is for); each comes back through `onObject`, in the order asked,
 * at the latest by `finish`. cat-file writes every blob with syscalls of its own; into a pipe that
 * is a wake-up of the reader per object (160,000 on the benchmark, a second of CPU), so it writes
 * into a temporary file, which is read as it grows, in large pieces, between batches of requests.
 */
export class ObjectReader<T> {
  private readonly process: GitProcess;
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

  constructor(
    root: string,
    private readonly onObject: (sink: T, body: Buffer) => void,
  ) {
    this.dir = mkdtempSync(join(tmpdir(), 'grantops-objects-'));
    const file = join(this.dir, 'objects');
    const out = openSync(file, 'w', 0o600);
    try {
      // No stall timeout: output goes to the file, where the runner cannot see it arrive.
      this.process = new GitRunner(root).start(['cat-file', '--batch', '--buffer'], {
        stdin: 'pipe',
        stdout: out,
        stallMs: 0,
      });
    } finally {
      closeSync(out);
    }
    this.fd = openSync(file, 'r');
    this.stdin = this.process.stdin!;
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
      await this.process.done;
      this.poll();
    } finally {
      this.process.stop();
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
export async function readTreeBlobs(git: GitRunner, ref: string, dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const text = await git.text(
    ['ls-tree', '-r', '-z', '--full-tree', '--end-of-options', ref, '--', `${dir}/`],
    { env: { GIT_FLUSH: '0' } },
  );
  for (const entry of text.split('\0')) {
    const tab = entry.indexOf('\t');
    const [, type, blob] = entry.slice(0, tab).split(' ');
    if (type === 'blob' && blob) out.set(entry.slice(tab + 1), blob);
  }
  return out;
}
