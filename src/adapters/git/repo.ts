import { lstatSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../../model/errors.js';
import type { FileTree } from '../../model/file-tree.js';
import type { FileChangeBytes, Introduction } from '../../ports/git.js';
import { commitRemoval, pushHead } from './commit-and-push.js';
import { fileChanges } from './file-changes.js';
import { gatherTurn } from './gather.js';
import { gitFileTree } from './git-file-tree.js';
import { fetchNotes, pushNotes, readNotesOf, writeNotes } from './notes.js';
import { readTreeBlobs } from './objects.js';
import { GIT_STALL_MS, GitRunner } from './runner.js';

/**
 * The git CLI behind one typed method per verb. Identity is passed per command (`-c user.name=…`),
 * never written to any config.
 */
export class GitRepo {
  private shallow: Promise<boolean> | undefined;
  private constructor(
    readonly root: string,
    private readonly git: GitRunner,
  ) {}

  /**
   * Opens the repository containing `dir`, or fails with a usage error (exit 2). A git that gives no
   * sign of life for `stallMs` (a remote that accepts the connection and never answers) is killed,
   * so a fetch cannot hold a run forever. (Without a terminal, as in Actions, git cannot prompt for credentials: it fails at once.)
   */
  static async open(dir: string, opts: { stallMs?: number } = {}): Promise<GitRepo> {
    const stallMs = opts.stallMs ?? GIT_STALL_MS;
    let root: string;
    try {
      root = (await new GitRunner(dir, stallMs).text(['rev-parse', '--show-toplevel'])).trim();
    } catch {
      throw new ConfigError(`${dir} is not inside a git repository`);
    }
    return new GitRepo(root, new GitRunner(root, stallMs));
  }

  /**
   * Makes the existing folder `dir` a new repository whose first branch is main, and commits nothing.
   * git runs in `dir` and is given no path: a folder name is never read as an option.
   */
  static async init(dir: string): Promise<GitRepo> {
    await new GitRunner(dir).text(['init', '-q', '-b', 'main']);
    return GitRepo.open(dir);
  }

  /**
   * The commit `ref` names, or a usage error naming the ref. Refs asked for together (the base and
   * HEAD) are resolved by one `git rev-parse`, when it answers one commit for each; otherwise (a bad
   * ref, a range) each is asked again alone with `--verify`, whose refusal names it.
   */
  resolveCommit(ref: string): Promise<string> {
    return this.resolveGathered(ref);
  }

  private readonly resolveGathered = gatherTurn(async (refs: string[]): Promise<string[]> => {
    if (refs.length > 1) {
      try {
        const specs = refs.map((ref) => `${ref}^{commit}`);
        const out = (await this.git.text(['rev-parse', '--revs-only', '--end-of-options', ...specs])).split(
          '\n',
        );
        if (out.at(-1) === '') out.pop();
        if (out.length === refs.length && out.every((line) => /^[0-9a-f]{40,64}$/.test(line))) return out;
      } catch {
        // One of them is not a commit: --verify below says which.
      }
    }
    return Promise.all(refs.map((ref) => this.verifyCommit(ref)));
  });

  private async verifyCommit(ref: string): Promise<string> {
    try {
      return (await this.git.text(['rev-parse', '--verify', '--end-of-options', `${ref}^{commit}`])).trim();
    } catch {
      throw new ConfigError(`git ref "${ref}" does not name a commit in ${this.root} (fetch it first?)`);
    }
  }

  /** The best common ancestor of two commits, or undefined (unrelated or shallow history). */
  async mergeBase(a: string, b: string): Promise<string | undefined> {
    try {
      return (await this.git.text(['merge-base', a, b])).trim() || undefined;
    } catch {
      return undefined;
    }
  }

  async hasCommit(sha: string): Promise<boolean> {
    try {
      await this.git.text(['cat-file', '-e', `${sha}^{commit}`]);
      return true;
    } catch {
      return false;
    }
  }

  /** Fetches one commit from `remote` (used when a shallow checkout lacks the PR's base). */
  async fetchCommit(remote: string, sha: string): Promise<void> {
    await this.git.text(['fetch', '--no-tags', '--depth=1', remote, sha]);
  }

  /**
   * Paths under `dirs` (folders or files) that differ between `base` and the work tree: committed,
   * staged, unstaged and untracked changes alike, since a PR's check runs on what is checked out.
   * Literal pathspecs: a path taken from a policy (an exec command) is a path, never `:(magic)` or a glob.
   */
  async changedPaths(
    base: string,
    dirs: readonly string[],
  ): Promise<{ path: string; status: 'added' | 'modified' | 'deleted' }[]> {
    const out = new Map<string, 'added' | 'modified' | 'deleted'>();
    const [diff, untracked] = await Promise.all([
      this.git.text([
        '--literal-pathspecs',
        'diff',
        '--name-status',
        '--no-renames',
        '-z',
        base,
        '--',
        ...dirs,
      ]),
      this.git.text([
        '--literal-pathspecs',
        'ls-files',
        '-z',
        '--others',
        '--exclude-standard',
        '--',
        ...dirs,
      ]),
    ]);
    const parts = diff.split('\0');
    for (let i = 0; i + 1 < parts.length; i += 2) {
      const code = parts[i]!;
      const path = parts[i + 1]!;
      out.set(path, code.startsWith('A') ? 'added' : code.startsWith('D') ? 'deleted' : 'modified');
    }
    for (const path of untracked.split('\0')) if (path) out.set(path, 'added');
    return [...out].map(([path, status]) => ({ path, status })).sort((a, b) => (a.path < b.path ? -1 : 1));
  }

  /** The files of the repository as of commit `ref`, read with git (never the work tree). */
  treeAt(ref: string, label = ref): FileTree {
    return gitFileTree(this.git, ref, label);
  }

  /**
   * For each path, the most recent commit on HEAD's first-parent line that added or changed it:
   * the merge or squash commit that "brought" it, with the blob it left there (`--raw`: the same
   * walk names it, so no `commit:path` lookup is needed). One streaming `git log`, stopped early
   * once every path is found.
   */
  async introducingCommits(
    paths: readonly string[],
    dirs: readonly string[],
  ): Promise<Map<string, Introduction>> {
    const wanted = new Set(paths);
    const found = new Map<string, Introduction>();
    if (wanted.size === 0) return found;
    let commit = '';
    let landedAt = 0;
    await this.git.lines(
      [
        'log',
        '--first-parent',
        '-m',
        '--format=%x00%H %ct',
        '--raw',
        '--no-abbrev',
        // T: a file turned into a symlink and back is changed content too (else an old approval is replayed).
        '--diff-filter=AMRTC',
        'HEAD',
        '--',
        ...dirs,
      ],
      (line) => {
        if (line.startsWith('\0')) {
          const [sha = '', seconds = '0'] = line.slice(1).split(' ');
          commit = sha;
          landedAt = Number(seconds) * 1000;
          return true;
        }
        // `:<old mode> <new mode> <old blob> <new blob> <status>\t<path>[\t<new path>]`
        if (!line.startsWith(':')) return true;
        const tab = line.indexOf('\t');
        const last = line.lastIndexOf('\t');
        const path = line.slice(last + 1);
        if (tab < 0 || !wanted.has(path) || found.has(path)) return true;
        const fields = line.slice(0, tab).split(' ');
        found.set(path, { commit, blob: fields[3] ?? '', landedAt, added: fields[4] === 'A' });
        return found.size !== wanted.size;
      },
    );
    return found;
  }

  /**
   * For each path, when it landed: the committer time of the most recent commit on `rev`'s
   * first-parent line that added it (`--no-renames`: a renamed file is a new grant, and lands anew).
   * Paths `rev` never added are absent, and all of them in a shallow clone. One streaming `git log`, stopped once every path is found.
   */
  async landedAt(rev: string, paths: readonly string[]): Promise<Map<string, Date>> {
    const wanted = new Set(paths);
    const found = new Map<string, Date>();
    // A shallow clone's oldest commit lists every file as added: its answer would be made up.
    if (wanted.size === 0 || (await this.isShallow())) return found;
    let time = 0;
    await this.git.lines(
      [
        '--literal-pathspecs',
        'log',
        '--first-parent',
        '-m',
        '--no-renames',
        '--format=%x00%ct',
        '--name-only',
        '--diff-filter=A',
        rev,
        '--',
        ...wanted,
      ],
      (line) => {
        if (line.startsWith('\0')) {
          time = Number(line.slice(1)) * 1000;
          return true;
        }
        if (!wanted.has(line) || found.has(line)) return true;
        found.set(line, new Date(time));
        return found.size !== wanted.size;
      },
    );
    return found;
  }

  /**
   * Files' changes on `rev`'s first-parent line, each since its date (file-changes.ts); undefined
   * when shallow. `under`: folders to limit git's walk to instead of the paths (many paths).
   */
  async fileChanges(
    windows: ReadonlyMap<string, Date>,
    opts: { maxBytes?: number; rev?: string; under?: readonly string[] } = {},
  ): Promise<Map<string, FileChangeBytes[]> | undefined> {
    if (await this.isShallow()) return undefined;
    return fileChanges(this.git, opts.rev ?? 'HEAD', windows, opts.maxBytes ?? 64 * 1024, opts.under);
  }

  /** `path -> blob id` of every file under `dir` at `rev`: one `git ls-tree -r`. */
  blobsAt(rev: string, dir: string): Promise<Map<string, string>> {
    return readTreeBlobs(this.git, rev, dir);
  }

  /** The grantops notes of many commits, with two git processes in all. */
  readNotes(commits: readonly string[]): Promise<Map<string, string>> {
    return readNotesOf(this.git, commits);
  }

  /** Sets the grantops notes of many commits in one commit on refs/notes/grantops (one fast-import). */
  writeNotes(notes: ReadonlyMap<string, string>, now: Date): Promise<void> {
    return writeNotes(this.git, notes, now);
  }

  async hasRemote(name: string): Promise<boolean> {
    return (await this.git.text(['remote'])).split('\n').some((r) => r.trim() === name);
  }

  /** Whether this clone lacks older history (a `fetch-depth: 1` checkout). */
  isShallow(): Promise<boolean> {
    // Asked once per run (per grant by apply's maxTotal checks); unshallow forgets the answer.
    return (this.shallow ??= this.git
      .text(['rev-parse', '--is-shallow-repository'])
      .then((out) => out.trim() === 'true'));
  }

  /** Fetches the history a shallow clone lacks. */
  async unshallow(remote: string): Promise<void> {
    this.shallow = undefined;
    await this.git.text(['fetch', '--no-tags', '--unshallow', remote]);
  }

  /** Brings the remote's notes in, replacing ours: call before adding notes, then push. */
  fetchNotes(remote: string): Promise<void> {
    return fetchNotes(this.git, remote);
  }

  pushNotes(remote: string): Promise<void> {
    return pushNotes(this.git, remote);
  }

  /** Whether `path` exists in the work tree (a symlink counts, and is not followed). */
  exists(path: string): boolean {
    try {
      lstatSync(join(this.root, path));
      return true;
    } catch {
      return false;
    }
  }

  /** Fetches `branch` from `remote` (updating refs/remotes/<remote>/<branch>). */
  async fetchBranch(remote: string, branch: string): Promise<void> {
    await this.git.text([
      'fetch',
      '--no-tags',
      remote,
      `+refs/heads/${branch}:refs/remotes/${remote}/${branch}`,
    ]);
  }

  async currentBranch(): Promise<string | undefined> {
    const name = (await this.git.text(['rev-parse', '--abbrev-ref', 'HEAD'])).trim();
    return name === 'HEAD' ? undefined : name;
  }

  /** Commits on `head` not on `base`, newest first, with their full messages. */
  async commitsBetween(base: string, head: string): Promise<{ sha: string; message: string }[]> {
    const raw = await this.git.text(['log', '--format=%H%x00%B%x1e', `${base}..${head}`]);
    return raw
      .split('\x1e')
      .map((r) => r.replace(/^\n/, ''))
      .filter((r) => r.includes('\0'))
      .map((r) => {
        const [sha = '', message = ''] = r.split('\0');
        return { sha, message };
      });
  }

  /**
   * The branch HEAD is on (undefined when detached) and the tracked paths with uncommitted changes,
   * staged or not (untracked files are nobody's commit, so they do not count).
   */
  async workTreeState(): Promise<{ branch: string | undefined; dirty: string[] }> {
    const out = await this.git.text(['status', '--porcelain=v1', '-z', '--untracked-files=no']);
    const dirty: string[] = [];
    const parts = out.split('\0');
    for (let i = 0; i < parts.length; i++) {
      const entry = parts[i]!;
      if (entry.length < 4) continue;
      dirty.push(entry.slice(3));
      if (entry[0] === 'R' || entry[0] === 'C') i++; // the rename's source follows
    }
    return { branch: await this.currentBranch(), dirty };
  }

  /**
   * The remote's default branch: from refs/remotes/<remote>/HEAD when a clone set it, otherwise asked
   * of the remote. Never assumed to be `main`.
   */
  async defaultBranch(remote: string): Promise<string> {
    try {
      const local = (await this.git.text(['symbolic-ref', '--quiet', `refs/remotes/${remote}/HEAD`])).trim();
      const prefix = `refs/remotes/${remote}/`;
      if (local.startsWith(prefix)) return local.slice(prefix.length);
    } catch {
      // Not set (a fetch-only checkout, as actions/checkout makes): ask the remote.
    }
    const answer = await this.git.text(['ls-remote', '--symref', remote, 'HEAD']);
    const m = /^ref: refs\/heads\/(\S+)\tHEAD$/m.exec(answer);
    if (!m)
      throw new Error(
        `${remote} did not say which branch is its default (git ls-remote --symref ${remote} HEAD)`,
      );
    return m[1]!;
  }

  /** Moves the current branch, index and work tree to `ref` (discarding local commits). */
  async resetHard(ref: string): Promise<void> {
    await this.git.text(['reset', '--hard', '--quiet', ref]);
  }

  /**
   * Commits the removal of `paths` on top of HEAD as the grantops identity, then moves the branch,
   * index and work tree to it; built in a private index, so a run that dies midway leaves the
   * checkout as it was (see commitRemoval in commit-and-push.ts).
   */
  commitRemoval(paths: readonly string[], message: string, when: Date): Promise<string> {
    return commitRemoval(this.git, paths, message, when);
  }

  /**
   * Pushes `HEAD` to `branch` on `remote`. A rejection is returned, not thrown, and classified:
   * `behind` (the branch moved: fetch and redo), `protected` (branch protection refuses direct
   * pushes), or `other`.
   */
  push(
    remote: string,
    branch: string,
    force = false,
  ): Promise<{ ok: true } | { ok: false; reason: 'behind' | 'protected' | 'other'; message: string }> {
    return pushHead(this.git, remote, branch, force);
  }
}
