import type { FileTree } from '../model/file-tree.js';

export type ChangeStatus = 'added' | 'modified' | 'deleted';
export interface PathChange {
  path: string;
  status: ChangeStatus;
}

/** What validation needs from git: read the tree at a ref, and what changed since it. */
export interface RepoHistory {
  resolveCommit(ref: string): Promise<string>;
  mergeBase(a: string, b: string): Promise<string | undefined>;
  changedPaths(base: string, dirs: readonly string[]): Promise<PathChange[]>;
  treeAt(ref: string, label?: string): FileTree;
  /** `path -> blob id` under `dir` at `rev` (one `ls-tree`, no sizes: cheaper than `treeAt().list`). */
  blobsAt(rev: string, dir: string): Promise<Map<string, string>>;
  /**
   * When each path landed on `rev`'s first-parent line (committer time of the commit that last
   * added it); absent when it never did, or cannot be known (a shallow clone).
   */
  landedAt(rev: string, paths: readonly string[]): Promise<Map<string, Date>>;
}

/** The first-parent commit that brought a file, and the blob id of the file it brought. */
export interface Introduction {
  commit: string;
  blob: string;
  /** Committer time of that commit (ms): when it landed on main (a break-glass review is due from it). */
  landedAt?: number;
  /**
   * The commit added the file (git status A), rather than changed, renamed or copied it: only an
   * added file can be a break-glass use (an edit is judged by ordinary approval).
   */
  added?: boolean;
}

/** One first-parent commit's change to a file (`--no-renames`: a rename is a delete and an add). */
export interface FileChangeBytes {
  commit: string;
  time: Date;
  status: 'added' | 'modified' | 'deleted';
  /** The file before and after (undefined: absent, or not a regular file's blob). */
  before: Uint8Array | undefined;
  after: Uint8Array | undefined;
}

/** What finding and recording approval evidence needs from git (refs/notes/grantops). */
export interface EvidenceRepo {
  /**
   * For each path, main's first-parent commit that last added or changed it, and the blob it left
   * there (read from the same history walk: no lookup per path).
   */
  introducingCommits(paths: readonly string[], dirs: readonly string[]): Promise<Map<string, Introduction>>;
  /**
   * `path -> blob id` of every file under `dir` at `rev`, from one listing of the tree however many
   * files are wanted (a `rev:path` lookup per file rescans the folder each time: quadratic).
   */
  blobsAt(rev: string, dir: string): Promise<Map<string, string>>;
  /**
   * The changes to each file on HEAD's first-parent line since its date (committer time), newest
   * first, with the file's bytes before and after each (one history walk for all); undefined in a
   * shallow clone (its history is cut). Optional: without it, apply refuses to decide a grant whose
   * role has a maxTotal.
   */
  fileChanges?(windows: ReadonlyMap<string, Date>): Promise<Map<string, FileChangeBytes[]> | undefined>;
  /** The grantops notes of these commits, where they have one. */
  readNotes(commits: readonly string[]): Promise<Map<string, string>>;
  writeNotes(notes: ReadonlyMap<string, string>, now: Date): Promise<void>;
  fetchNotes(remote: string): Promise<void>;
  pushNotes(remote: string): Promise<void>;
  /** The files at a revision (`<sha>^1`: a PR's base), to read the policies that judged it. */
  treeAt(ref: string, label?: string): FileTree;
}

/** What the reaper needs from git: one typed method per verb (GitRepo implements it). */
export interface ReaperRepo extends Pick<EvidenceRepo, 'fetchNotes' | 'blobsAt'> {
  /** The branch HEAD is on (undefined: detached) and tracked paths with uncommitted changes. */
  workTreeState(): Promise<{ branch: string | undefined; dirty: string[] }>;
  fetchBranch(remote: string, branch: string): Promise<void>;
  commitsBetween(base: string, head: string): Promise<{ sha: string; message: string }[]>;
  resetHard(ref: string): Promise<void>;
  commitRemoval(paths: readonly string[], message: string, when: Date): Promise<string>;
  push(
    remote: string,
    branch: string,
    force?: boolean,
  ): Promise<{ ok: true } | { ok: false; reason: 'behind' | 'protected' | 'other'; message: string }>;
}

/** What one version of a grant file asked for, read leniently from history (even if never valid). */
export interface PastVersion {
  user: string;
  target: string;
  role: string;
  /** ms; undefined when the version had no readable expiresAt. */
  expiresAt: number | undefined;
  /** What its role conferred under the policy in force when it landed (postgres: dbRoles). */
  entitlements?: readonly string[];
}

/** A grant file as main's first-parent history knows it: every version that landed, oldest first. */
export interface GrantFileHistory {
  /** The id it had last. */
  id: string;
  /** Where it was last. */
  file: string;
  versions: PastVersion[];
  /** The file is on main now, and its last version is what it says. */
  onMain: boolean;
  /** How it left main: a reaper's cleanup commit (its revoke succeeded) or any other removal. */
  endedBy?: 'cleanup' | 'removal';
}

/**
 * What state-based revocation needs from git: every grant file that was ever on main, so access
 * grantops granted is known whatever runs were skipped. Fails (never answers partially) when the
 * history is incomplete, e.g. in a shallow clone.
 */
export interface GrantHistory {
  grantFiles(): Promise<GrantFileHistory[]>;
}
