import { createHash } from 'node:crypto';
import type { FileTree } from '../../../src/model/file-tree.js';
import { readGrantFields } from '../../../src/audit/lifecycle-fold.js';
import { GRANTS_DIR, grantIdFromPath } from '../../../src/model/grant.js';
import type {
  EvidenceRepo,
  GrantFileHistory,
  GrantHistory,
  Introduction,
  ReaperRepo,
} from '../../../src/ports/git.js';
import { memoryTree } from '../memory-tree.js';

/** One commit of the in-memory history: the whole tree, as git stores it. */
export interface MemoryCommit {
  sha: string;
  /** First parent (main's line); a merge's second parent is not needed by the ports. */
  parent: MemoryCommit | undefined;
  message: string;
  files: ReadonlyMap<string, string>;
}

export const blobId = (content: string) =>
  createHash('sha1')
    .update(`blob ${Buffer.byteLength(content)}\0${content}`)
    .digest('hex');

let counter = 0;
function makeCommit(parent: MemoryCommit | undefined, message: string, files: ReadonlyMap<string, string>) {
  const sha = createHash('sha1')
    .update(`${parent?.sha ?? ''}\n${message}\n${++counter}`)
    .digest('hex');
  return { sha, parent, message, files } satisfies MemoryCommit;
}

/** The remote both clones push to: a tip per branch, the notes, and whether main refuses pushes. */
export class MemoryRemote {
  readonly branches = new Map<string, MemoryCommit>();
  notes = new Map<string, string>();
  protectedBranches = new Set<string>();
  /** Called before a push is judged: lets a test move main in between (a racing reaper). */
  beforePush: ((branch: string) => void) | undefined;
  pushes = 0;
}

/**
 * git in memory: a checkout of `main` with a first-parent history, notes and a remote. Implements
 * the ports the approval finder and the reaper use, so their rules run in milliseconds; the real
 * GitRepo is tested against real repositories in the integration layer.
 */
export class MemoryGit implements EvidenceRepo, ReaperRepo, GrantHistory {
  head: MemoryCommit;
  notes = new Map<string, string>();
  /** Uncommitted changes in the work tree (paths), as `git status` would list them. */
  dirty: string[] = [];
  detached = false;
  /** Verbs that fail, as git does when the origin is unreachable or a lock file is stale. */
  readonly faults = new Set<'fetch' | 'fetchNotes' | 'commit' | 'push' | 'history'>();
  private readonly upstreams = new Map<string, MemoryCommit>();
  /** Reads made (tree listings, note reads), for asserting they scale with commits, not grants. */
  readonly reads: string[] = [];
  constructor(
    readonly remote: MemoryRemote = new MemoryRemote(),
    files: Record<string, string> = {},
    /** Calls made, for asserting order; a scenario shares one log with its targets. */
    readonly calls: string[] = [],
  ) {
    this.head =
      remote.branches.get('main') ?? makeCommit(undefined, 'initial', new Map(Object.entries(files)));
    if (!remote.branches.has('main')) remote.branches.set('main', this.head);
  }

  /** A clone of the remote's main (notes are not fetched, as with git clone). */
  static cloneOf(remote: MemoryRemote): MemoryGit {
    return new MemoryGit(remote);
  }

  /** Commits on main: files to write (string) or delete (null). */
  commit(message: string, changes: Record<string, string | null>): MemoryCommit {
    const files = new Map(this.head.files);
    for (const [path, content] of Object.entries(changes)) {
      if (content === null) files.delete(path);
      else files.set(path, content);
    }
    this.head = makeCommit(this.head, message, files);
    return this.head;
  }

  /** Pushes main and the notes as a person would (fast-forward only). */
  publish(): void {
    this.remote.branches.set('main', this.head);
    for (const [k, v] of this.notes) this.remote.notes.set(k, v);
  }

  /** The work tree: main's files at HEAD. */
  get work(): FileTree {
    return treeOf(this.head.files, 'work tree');
  }

  treeAt(ref: string, label = ref): FileTree {
    const parent = /^(.*)\^1?$/.exec(ref);
    const commit = parent ? this.find(parent[1]!)?.parent : this.find(ref);
    if (!commit) {
      const fail = () => Promise.reject(new Error(`fatal: not a tree: ${ref}`));
      return { label, list: fail, read: fail };
    }
    return treeOf(commit.files, label);
  }

  private find(ref: string): MemoryCommit | undefined {
    if (ref === 'HEAD') return this.head;
    const up = this.upstreams.get(ref);
    if (up) return up;
    for (let c: MemoryCommit | undefined = this.head; c; c = c.parent) if (c.sha === ref) return c;
    return undefined;
  }

  // EvidenceRepo

  introducingCommits(paths: readonly string[]): Promise<Map<string, Introduction>> {
    const out = new Map<string, Introduction>();
    for (const path of paths) {
      for (let c: MemoryCommit | undefined = this.head; c; c = c.parent) {
        const now = c.files.get(path);
        if (now === undefined) break;
        if (c.parent?.files.get(path) !== now) {
          out.set(path, { commit: c.sha, blob: blobId(now), added: c.parent?.files.get(path) === undefined });
          break;
        }
      }
    }
    return Promise.resolve(out);
  }

  blobsAt(rev: string, dir: string): Promise<Map<string, string>> {
    this.reads.push(`blobsAt ${rev}`);
    const commit = this.find(rev);
    if (!commit) return Promise.reject(new Error(`fatal: not a tree object: ${rev}`));
    const out = new Map<string, string>();
    for (const [path, content] of commit.files)
      if (path.startsWith(`${dir}/`)) out.set(path, blobId(content));
    return Promise.resolve(out);
  }

  readNotes(commits: readonly string[]): Promise<Map<string, string>> {
    this.reads.push(`readNotes ${commits.length}`);
    const out = new Map<string, string>();
    for (const c of commits) {
      const n = this.notes.get(c);
      if (n !== undefined) out.set(c, n);
    }
    return Promise.resolve(out);
  }

  writeNotes(notes: ReadonlyMap<string, string>): Promise<void> {
    this.calls.push(`writeNotes ${notes.size}`);
    for (const [k, v] of notes) this.notes.set(k, v);
    return Promise.resolve();
  }

  fetchNotes(): Promise<void> {
    this.calls.push('fetchNotes');
    if (this.faults.has('fetchNotes')) return Promise.reject(new Error('fatal: unable to access origin'));
    for (const [k, v] of this.remote.notes) if (!this.notes.has(k)) this.notes.set(k, v);
    return Promise.resolve();
  }

  pushNotes(): Promise<void> {
    this.calls.push('pushNotes');
    for (const [k, v] of this.notes) this.remote.notes.set(k, v);
    return Promise.resolve();
  }

  // ReaperRepo

  workTreeState(): Promise<{ branch: string | undefined; dirty: string[] }> {
    return Promise.resolve({ branch: this.detached ? undefined : 'main', dirty: [...this.dirty] });
  }

  fetchBranch(remote: string, branch: string): Promise<void> {
    this.calls.push(`fetch ${branch}`);
    if (this.faults.has('fetch')) return Promise.reject(new Error('fatal: unable to access origin'));
    const tip = this.remote.branches.get(branch);
    if (!tip) return Promise.reject(new Error(`no branch ${branch} on ${remote}`));
    this.upstreams.set(`${remote}/${branch}`, tip);
    return Promise.resolve();
  }

  commitsBetween(base: string, head: string): Promise<{ sha: string; message: string }[]> {
    // As `git log base..head`: commits reachable from head and not from base.
    const reachable = new Set<MemoryCommit>();
    for (let c = this.find(base); c; c = c.parent) reachable.add(c);
    const out: { sha: string; message: string }[] = [];
    for (let c = this.find(head); c && !reachable.has(c); c = c.parent)
      out.push({ sha: c.sha, message: c.message });
    return Promise.resolve(out);
  }

  resetHard(ref: string): Promise<void> {
    this.calls.push(`reset ${ref}`);
    const target = this.find(ref);
    if (!target) return Promise.reject(new Error(`unknown ref ${ref}`));
    this.head = target;
    return Promise.resolve();
  }

  commitRemoval(paths: readonly string[], message: string): Promise<string> {
    this.calls.push(`commit ${paths.join(',')}`);
    if (this.faults.has('commit'))
      return Promise.reject(new Error("fatal: Unable to create '.git/index.lock': File exists."));
    for (const p of paths) if (!this.head.files.has(p)) return Promise.reject(new Error(`pathspec ${p}`));
    return Promise.resolve(this.commit(message, Object.fromEntries(paths.map((p) => [p, null]))).sha);
  }

  push(
    _remote: string,
    branch: string,
    force = false,
  ): Promise<{ ok: true } | { ok: false; reason: 'behind' | 'protected' | 'other'; message: string }> {
    this.calls.push(`push ${branch}`);
    if (this.faults.has('push'))
      return Promise.resolve({ ok: false, reason: 'other', message: 'fatal: unable to access origin' });
    this.remote.beforePush?.(branch);
    this.remote.pushes++;
    if (this.remote.protectedBranches.has(branch))
      return Promise.resolve({ ok: false, reason: 'protected', message: 'GH006: protected branch' });
    const tip = this.remote.branches.get(branch);
    let contains = !tip;
    for (let c: MemoryCommit | undefined = this.head; c && !contains; c = c.parent) contains = c === tip;
    if (!contains && !force)
      return Promise.resolve({ ok: false, reason: 'behind', message: 'rejected (fetch first)' });
    this.remote.branches.set(branch, this.head);
    return Promise.resolve({ ok: true });
  }

  exists(path: string): boolean {
    return this.head.files.has(path);
  }

  // GrantHistory

  grantFiles(): Promise<GrantFileHistory[]> {
    if (this.faults.has('history')) return Promise.reject(new Error('this clone is shallow'));
    const line: MemoryCommit[] = [];
    for (let c: MemoryCommit | undefined = this.head; c; c = c.parent) line.unshift(c);
    const open = new Map<string, GrantFileHistory>();
    const done: GrantFileHistory[] = [];
    let before = new Map<string, string>();
    for (const c of line) {
      for (const [path, content] of c.files) {
        if (!path.startsWith(`${GRANTS_DIR}/`) || before.get(path) === content) continue;
        const id = grantIdFromPath(path);
        let h = open.get(path);
        if (!h) {
          h = { id: id.ok ? id.id : path, file: path, versions: [], onMain: true };
          open.set(path, h);
        }
        const f = readGrantFields(new TextEncoder().encode(content));
        h.versions.push({ user: f.user, target: f.target, role: f.role, expiresAt: f.expiresAt });
      }
      for (const path of before.keys()) {
        if (c.files.has(path) || !open.has(path)) continue;
        const id = open.get(path)!.id;
        const cleanup = c.message.split('\n').includes(`Revoked-Grant: ${id}`);
        done.push({ ...open.get(path)!, onMain: false, endedBy: cleanup ? 'cleanup' : 'removal' });
        open.delete(path);
      }
      before = new Map(c.files);
    }
    return Promise.resolve([...done, ...open.values()]);
  }
}

function treeOf(files: ReadonlyMap<string, string>, label: string): FileTree {
  return memoryTree(Object.fromEntries(files), label);
}
