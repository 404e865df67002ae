import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { createInterface } from 'node:readline';

/** One commit of main's first-parent line, with the files it changed under the watched folders. */
export interface CommitRecord {
  sha: string;
  parents: string[];
  /** Committer time: when it landed on main. */
  time: Date;
  author: string;
  message: string;
  changes: FileChange[];
}

export interface FileChange {
  status: 'A' | 'M' | 'D' | 'R';
  path: string;
  /** For renames, the path before. */
  from?: string;
  /** Blob after the change (absent for deletions). */
  blob?: string;
}

/**
 * Streams main's first-parent history newest first with one `git log` process: merges are diffed
 * against their first parent (what the merge brought), renames are detected.
 */
export async function* readFirstParentHistory(
  root: string,
  dirs: readonly string[],
  ref = 'HEAD',
): AsyncGenerator<CommitRecord> {
  // Newest first and no pathspec: a pathspec doubles git's time on long histories, and --reverse
  // makes git hold everything back; changes outside `dirs` are dropped here, while git streams.
  const watched = dirs.map((d) => `${d}/`);
  const relevant = (path: string) => watched.some((w) => path.startsWith(w));
  const child = spawn(
    'git',
    [
      '-c',
      'core.quotePath=false',
      'log',
      '--first-parent',
      '-m',
      '-M',
      '--raw',
      '--no-abbrev',
      '--format=%x1e%H%x1f%P%x1f%ct%x1f%an <%ae>%x1f%B%x1d',
      ref,
    ],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? 1)));
  const lines = createInterface({ input: child.stdout, crlfDelay: Infinity });
  let current: CommitRecord | undefined;
  let inMessage = false;
  // A few authors write thousands of commits: keep one copy of each name.
  const authors = new Map<string, string>();
  const intern = (a: string) => authors.get(a) ?? (authors.set(a, a), a);
  for await (const line of lines) {
    if (line.startsWith('\x1e')) {
      if (current) yield current;
      const [sha = '', parents = '', ct = '0', author = '', first = ''] = line.slice(1).split('\x1f');
      current = {
        sha,
        parents: parents.split(' ').filter(Boolean),
        time: new Date(Number(ct) * 1000),
        author: intern(author),
        message: '',
        changes: [],
      };
      inMessage = !first.includes('\x1d');
      current.message = first.replace('\x1d', '');
      continue;
    }
    if (!current) continue;
    if (inMessage) {
      const end = line.indexOf('\x1d');
      current.message += `\n${end >= 0 ? line.slice(0, end) : line}`;
      if (end >= 0) inMessage = false;
      continue;
    }
    if (!line.startsWith(':')) continue;
    const tab = line.indexOf('\t');
    const meta = line.slice(1, tab).split(' ');
    const paths = line.slice(tab + 1).split('\t');
    const status = (meta[4] ?? '')[0];
    const blob = meta[3] && !/^0+$/.test(meta[3]) ? meta[3] : undefined;
    if (!paths.some(relevant)) continue;
    if (status === 'R' || status === 'A' || status === 'M' || status === 'D') {
      // One shape for every change (see the audit's note on hidden classes).
      current.changes.push({
        status,
        path: status === 'R' ? (paths[1] ?? '') : (paths[0] ?? ''),
        from: status === 'R' ? paths[0] : undefined,
        blob,
      });
    }
  }
  if (current) yield current;
  const code = await exited;
  if (code !== 0) throw new Error(`git log failed: ${stderr.trim()}`);
}

/**
 * A `git cat-file --batch` process fed while the history is still streaming: ask for objects as they
 * are discovered, get each one back through `onObject`, in the order asked.
 */
export class ObjectReader {
  private readonly child: ChildProcessByStdio<Writable, Readable, null>;
  private readonly asked: string[] = [];
  private index = 0;
  readonly done: Promise<void>;

  constructor(root: string, onObject: (id: string, body: Buffer) => void) {
    this.child = spawn('git', ['cat-file', '--batch'], { cwd: root, stdio: ['pipe', 'pipe', 'ignore'] });
    const child = this.child;
    child.stdin.on('error', () => undefined);
    this.done = (async () => {
      let pending: Buffer = Buffer.alloc(0);
      for await (const chunk of child.stdout) {
        pending = pending.length ? Buffer.concat([pending, chunk as Buffer]) : (chunk as Buffer);
        let pos = 0;
        for (;;) {
          const nl = pending.indexOf(0x0a, pos);
          if (nl < 0) break;
          const header = pending.subarray(pos, nl).toString('latin1');
          if (header.endsWith(' missing')) {
            pos = nl + 1;
            this.index++;
            continue;
          }
          const size = Number(header.slice(header.lastIndexOf(' ') + 1));
          if (pending.length < nl + 1 + size + 1) break;
          onObject(this.asked[this.index] ?? '', pending.subarray(nl + 1, nl + 1 + size));
          pos = nl + 1 + size + 1;
          this.index++;
        }
        pending = pending.subarray(pos);
      }
    })();
  }

  ask(id: string): void {
    this.asked.push(id);
    this.child.stdin.write(`${id}\n`);
  }

  async finish(): Promise<void> {
    this.child.stdin.end();
    await this.done;
  }
}

/**
 * Reads many objects (blobs, commits) with one `git cat-file --batch` process, streaming; missing
 * objects are left out.
 */
export async function readObjects(root: string, ids: readonly string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (ids.length === 0) return out;
  const child = spawn('git', ['cat-file', '--batch'], { cwd: root, stdio: ['pipe', 'pipe', 'ignore'] });
  child.stdin.on('error', () => undefined);
  child.stdin.end(`${ids.join('\n')}\n`);
  let pending: Buffer = Buffer.alloc(0);
  let index = 0;
  for await (const chunk of child.stdout) {
    pending = pending.length ? Buffer.concat([pending, chunk as Buffer]) : (chunk as Buffer);
    for (;;) {
      const nl = pending.indexOf(0x0a);
      if (nl < 0) break;
      const header = pending.subarray(0, nl).toString('utf8').split(' ');
      if (header[1] === 'missing') {
        pending = pending.subarray(nl + 1);
        index++;
        continue;
      }
      const size = Number(header[2]);
      if (pending.length < nl + 1 + size + 1) break;
      out.set(ids[index] ?? header[0]!, pending.subarray(nl + 1, nl + 1 + size).toString('utf8'));
      pending = pending.subarray(nl + 1 + size + 1);
      index++;
    }
  }
  return out;
}

/** The grantops notes (commit -> text) of the repository, in two processes. */
export async function readAllNotes(root: string, ref = 'refs/notes/grantops'): Promise<Map<string, string>> {
  const list = await new Promise<string>((resolve) => {
    const child = spawn('git', ['notes', `--ref=${ref}`, 'list'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', () => resolve(out));
  });
  const byNote = new Map<string, string>();
  for (const line of list.split('\n')) {
    const [note, commit] = line.trim().split(' ');
    if (note && commit) byNote.set(note, commit);
  }
  const texts = await readObjects(root, [...byNote.keys()]);
  const out = new Map<string, string>();
  for (const [note, text] of texts) out.set(byNote.get(note)!, text);
  return out;
}
