import { lstatSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, GitError } from '../../model/errors.js';
import type { FileTree, TreeEntry } from '../../model/file-tree.js';
import { NOTES_REF } from './notes.js';
import { GIT_STALL_MS, GitRunner } from './runner.js';

/**
 * The git CLI behind one typed method per verb. Identity is passed per command (`-c user.name=…`),
 * never written to any config.
 */
export class GitRepo {
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

  /** The commit `ref` names, or a usage error naming the ref. */
  async resolveCommit(ref: string): Promise<string> {
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
    const diff = await this.git.text([
      '--literal-pathspecs',
      'diff',
      '--name-status',
      '--no-renames',
      '-z',
      base,
      '--',
      ...dirs,
    ]);
    const parts = diff.split('\0');
    for (let i = 0; i + 1 < parts.length; i += 2) {
      const code = parts[i]!;
      const path = parts[i + 1]!;
      out.set(path, code.startsWith('A') ? 'added' : code.startsWith('D') ? 'deleted' : 'modified');
    }
    const untracked = await this.git.text([
      '--literal-pathspecs',
      'ls-files',
      '-z',
      '--others',
      '--exclude-standard',
      '--',
      ...dirs,
    ]);
    for (const path of untracked.split('\0')) if (path) out.set(path, 'added');
    return [...out].map(([path, status]) => ({ path, status })).sort((a, b) => (a.path < b.path ? -1 : 1));
  }

  /** The files of the repository as of commit `ref`, read with git (never the work tree). */
  treeAt(ref: string, label = ref): FileTree {
    const git = this.git;
    const sizes = new Map<string, { oid: string; size: number }>();
    return {
      label,
      async list(dir) {
        const raw = await git.text(['ls-tree', '-r', '-l', '-z', '--full-tree', ref, '--', dir]);
        const entries: TreeEntry[] = [];
        for (const record of raw.split('\0')) {
          if (!record) continue;
          const tab = record.indexOf('\t');
          const [mode, type, oid, size] = record.slice(0, tab).split(/\s+/);
          const path = record.slice(tab + 1);
          if (type !== 'blob' || !oid) {
            entries.push({ path, kind: 'other' });
            continue;
          }
          sizes.set(path, { oid, size: Number(size) });
          if (mode === '120000') {
            const target = (await git.run(['cat-file', 'blob', oid])).toString('utf8');
            entries.push({ path, kind: 'symlink', linkTarget: target });
          } else entries.push({ path, kind: 'file' });
        }
        return entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
      },
      async read(path, maxBytes) {
        let info = sizes.get(path);
        if (!info) {
          const raw = await git.text(['ls-tree', '-l', '--full-tree', ref, '--', path]);
          const [, , oid, size] = raw.split('\t')[0]?.split(/\s+/) ?? [];
          if (!oid) throw new Error(`${path} does not exist at ${label}`);
          info = { oid, size: Number(size) };
        }
        if (info.size > maxBytes) return { tooLarge: info.size };
        return new Uint8Array(await git.run(['cat-file', 'blob', info.oid]));
      },
    };
  }

  /**
   * For each path, the most recent commit on HEAD's first-parent line that added or changed it:
   * the merge or squash commit that "brought" it. One streaming `git log`, stopped early once
   * every path is found.
   */
  async introducingCommits(paths: readonly string[], dirs: readonly string[]): Promise<Map<string, string>> {
    const wanted = new Set(paths);
    const found = new Map<string, string>();
    if (wanted.size === 0) return found;
    let commit = '';
    await this.git.lines(
      [
        'log',
        '--first-parent',
        '-m',
        '--format=%x00%H',
        '--name-only',
        // T: a file turned into a symlink and back is changed content too (else an old approval is replayed).
        '--diff-filter=AMRTC',
        'HEAD',
        '--',
        ...dirs,
      ],
      (line) => {
        if (line.startsWith('\0')) commit = line.slice(1);
        else if (line && wanted.has(line) && !found.has(line)) {
          found.set(line, commit);
          if (found.size === wanted.size) return false;
        }
        return true;
      },
    );
    return found;
  }

  /**
   * Object ids for many `rev:path` specs in one `git cat-file --batch-check` process (one process
   * per lookup costs ~20 ms each, which dominates apply on thousands of grants).
   */
  async resolveMany(specs: readonly string[]): Promise<Map<string, string | undefined>> {
    const out = new Map<string, string | undefined>();
    if (specs.length === 0) return out;
    const text = await this.batch(['cat-file', '--batch-check=%(objectname)'], `${specs.join('\n')}\n`);
    const lines = text.toString('utf8').split('\n');
    specs.forEach((spec, i) => {
      const line = lines[i] ?? '';
      out.set(spec, /^[0-9a-f]{40,64}$/.test(line) ? line : undefined);
    });
    return out;
  }

  /** The grantops notes of many commits, with two git processes in all. */
  async readNotes(commits: readonly string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    let list: string;
    try {
      list = await this.git.text(['notes', `--ref=${NOTES_REF}`, 'list']);
    } catch {
      return out; // no notes yet
    }
    const noteOf = new Map<string, string>();
    for (const line of list.split('\n')) {
      const [note, commit] = line.trim().split(' ');
      if (note && commit) noteOf.set(commit, note);
    }
    const wanted = commits.filter((c) => noteOf.has(c));
    if (wanted.length === 0) return out;
    const raw = await this.batch(['cat-file', '--batch'], `${wanted.map((c) => noteOf.get(c)).join('\n')}\n`);
    let pos = 0;
    for (const commit of wanted) {
      const nl = raw.indexOf(0x0a, pos);
      const header = raw.subarray(pos, nl).toString('utf8').split(' ');
      const size = Number(header[2]);
      if (header[1] !== 'blob' || !Number.isFinite(size)) break;
      out.set(commit, raw.subarray(nl + 1, nl + 1 + size).toString('utf8'));
      pos = nl + 1 + size + 1;
    }
    return out;
  }

  /**
   * Sets the grantops notes of many commits in one commit on refs/notes/grantops, with one
   * `git fast-import` process (`git notes add` costs a process per commit).
   */
  async writeNotes(notes: ReadonlyMap<string, string>, now: Date): Promise<void> {
    if (notes.size === 0) return;
    const ref = NOTES_REF;
    let parent: string | undefined;
    try {
      parent = (await this.git.text(['rev-parse', '--verify', '--quiet', ref])).trim() || undefined;
    } catch {
      parent = undefined;
    }
    const data = (text: string) => `data ${Buffer.byteLength(text)}\n${text}\n`;
    const when = `${Math.floor(now.getTime() / 1000)} +0000`;
    let script = `commit ${ref}\ncommitter grantops <grantops@users.noreply.github.com> ${when}\n`;
    script += data(`grantops: approval evidence for ${notes.size} commit(s)`);
    if (parent) script += `from ${parent}\n`;
    for (const [commit, text] of notes) script += `N inline ${commit}\n${data(text)}`;
    script += 'done\n';
    await this.batch(['fast-import', '--quiet', '--done'], script);
  }

  /** Runs one git process with `input` on stdin and returns its whole stdout. */
  private batch(args: string[], input: string, env?: Record<string, string>): Promise<Buffer> {
    return this.git.run(args, { input, ...(env ? { env } : {}) });
  }

  /** The blob id of `path` at `commit`, or undefined when absent. */
  async blobAt(commit: string, path: string): Promise<string | undefined> {
    try {
      return (
        (await this.git.text(['rev-parse', '--verify', '--quiet', `${commit}:${path}`])).trim() || undefined
      );
    } catch {
      return undefined;
    }
  }

  async hasRemote(name: string): Promise<boolean> {
    return (await this.git.text(['remote'])).split('\n').some((r) => r.trim() === name);
  }

  /** Whether this clone lacks older history (a `fetch-depth: 1` checkout). */
  async isShallow(): Promise<boolean> {
    return (await this.git.text(['rev-parse', '--is-shallow-repository'])).trim() === 'true';
  }

  /** Fetches the history a shallow clone lacks. */
  async unshallow(remote: string): Promise<void> {
    await this.git.text(['fetch', '--no-tags', '--unshallow', remote]);
  }

  /** Brings the remote's notes in, replacing ours: call before adding notes, then push. */
  async fetchNotes(remote: string): Promise<void> {
    try {
      await this.git.text(['fetch', '--no-tags', remote, `+${NOTES_REF}:${NOTES_REF}`]);
    } catch (err) {
      // A remote without notes yet is fine; any other failure is real.
      if (!(err instanceof GitError && /couldn't find remote ref/i.test(err.stderr))) throw err;
    }
  }

  async pushNotes(remote: string): Promise<void> {
    await this.git.text(['push', remote, NOTES_REF]);
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
   * index and work tree to it with one `git merge --ff-only`. The commit is built in a private index,
   * so a run that dies before that last step leaves the checkout exactly as it was (a dangling
   * object, nothing staged), never half-removed files the next run would take for local edits.
   * Paths and message go through stdin: a thousand trailers exceed what one argv entry may hold.
   */
  async commitRemoval(paths: readonly string[], message: string, when: Date): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'grantops-index-'));
    const index = { GIT_INDEX_FILE: join(dir, 'index') };
    try {
      const parent = (await this.git.text(['rev-parse', '--verify', 'HEAD^{commit}'])).trim();
      await this.batch(['read-tree', parent], '', index);
      await this.batch(['update-index', '--force-remove', '-z', '--stdin'], `${paths.join('\0')}\0`, index);
      const tree = (await this.batch(['write-tree'], '', index)).toString('utf8').trim();
      const date = when.toISOString();
      // Identity through the environment: it outranks any user.name a runner or developer configured.
      const sha = (
        await this.batch(['commit-tree', tree, '-p', parent, '-F', '-'], message, {
          GIT_AUTHOR_NAME: IDENTITY_NAME,
          GIT_AUTHOR_EMAIL: IDENTITY_EMAIL,
          GIT_COMMITTER_NAME: IDENTITY_NAME,
          GIT_COMMITTER_EMAIL: IDENTITY_EMAIL,
          GIT_AUTHOR_DATE: date,
          GIT_COMMITTER_DATE: date,
        })
      )
        .toString('utf8')
        .trim();
      await this.batch(['merge', '--ff-only', '--quiet', '--no-verify', sha], '');
      return sha;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /**
   * Pushes `HEAD` to `branch` on `remote`. A rejection is returned, not thrown, and classified:
   * `behind` (the branch moved: fetch and redo), `protected` (branch protection refuses direct
   * pushes), or `other`.
   */
  async push(
    remote: string,
    branch: string,
    force = false,
  ): Promise<{ ok: true } | { ok: false; reason: 'behind' | 'protected' | 'other'; message: string }> {
    try {
      await this.git.text(['push', ...(force ? ['--force'] : []), remote, `HEAD:refs/heads/${branch}`]);
      return { ok: true };
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      // Classified on what git said, never on the command line (a branch may be named "rejected").
      const said = err instanceof GitError ? err.stderr : message;
      if (/GH006|protected branch|refusing to allow|pre-receive hook declined/i.test(said)) {
        return { ok: false, reason: 'protected', message };
      }
      // A concurrent push to the same branch fails on the ref lock: as good as "main moved".
      if (
        /non-fast-forward|fetch first|rejected|stale info|cannot lock ref|failed to (update|lock) ref/i.test(
          said,
        )
      ) {
        return { ok: false, reason: 'behind', message };
      }
      return { ok: false, reason: 'other', message };
    }
  }
}

const IDENTITY_NAME = 'grantops';
const IDENTITY_EMAIL = 'grantops@users.noreply.github.com';
