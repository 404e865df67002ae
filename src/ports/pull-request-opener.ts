import type { FileTree } from '../model/file-tree.js';

/** A file a proposed change writes, repo-relative with forward slashes. */
export interface ProposedFile {
  path: string;
  text: string;
}

/** A pull request as the opener sees it: its number and where a person opens it. */
export interface OpenedPullRequestRef {
  number: number;
  url: string;
}

/** An open pull request found for a branch: who opened it, the commit its head is at, what it says. */
export interface FoundPullRequest extends OpenedPullRequestRef {
  /** The login that opened it (GitHub's `user.login`). */
  author: string;
  headSha: string;
  /** Its title and body as they are now (anyone acting as its author may have written them). */
  title: string;
  body: string;
}

/** A commit of a branch as GitHub's compare lists it. */
export interface BranchCommit {
  sha: string;
  parents: string[];
  /** The account GitHub maps the commit's author to; undefined when none. */
  author: string | undefined;
}

/**
 * Port: proposing a change to the access repo on GitHub without a local push — a branch made through
 * GitHub's Git Data API (blob, tree, commit, ref) and a pull request from it. The adapter is
 * src/adapters/github-pull-request.ts; the local GitHub server in test/support speaks the same API over
 * a real bare repository. Every answer is untrusted text from an API.
 */
export interface PullRequestOpener {
  /** `owner/name`. */
  readonly slug: string;
  /** The repository's default branch (what `--base-branch` defaults to). */
  defaultBranch(): Promise<string>;
  /** The commit a branch points to; undefined when there is no such branch. */
  branchTip(branch: string): Promise<string | undefined>;
  /** The files of `commit`, read through the API (the base's policies and templates). */
  treeAt(commit: string, label: string): FileTree;
  /** A new commit on `parent` that writes `files` (nothing else changes); returns its sha. */
  commitFiles(parent: string, files: readonly ProposedFile[], message: string): Promise<string>;
  /**
   * Whether `commit` is exactly `files` written on `parent`: its only parent is `parent` and its
   * tree is `parent`'s with these files, nothing else added, changed or removed.
   */
  holdsExactly(commit: string, parent: string, files: readonly ProposedFile[]): Promise<boolean>;
  /**
   * The commits `head` has that `base` has not (GitHub's compare), oldest first, each with its
   * parents and the login GitHub maps its author to (undefined: no account); `aheadBy` counts them all.
   */
  commitsSince(base: string, head: string): Promise<{ aheadBy: number; commits: BranchCommit[] }>;
  /** Points `refs/heads/<branch>` at `commit`, which need not descend from its tip (a force update). */
  moveBranch(branch: string, commit: string): Promise<void>;
  /** Creates `refs/heads/<branch>` at `commit`; false when the branch already exists. */
  createBranch(branch: string, commit: string): Promise<boolean>;
  /** Open pull requests from `head` (a branch of this repo) into `base`, oldest first. */
  openPullRequests(head: string, base: string): Promise<FoundPullRequest[]>;
  /**
   * The login the token acts as (GET /user); `github-actions[bot]` for an integration token,
   * which may not ask (GITHUB_TOKEN: its pull requests and comments are that bot's).
   */
  identity(): Promise<string>;
  createPullRequest(head: string, base: string, title: string, body: string): Promise<OpenedPullRequestRef>;
  /** Sets an open pull request's title and body (PATCH /repos/{owner}/{repo}/pulls/{pull_number}). */
  updatePullRequest(number: number, title: string, body: string): Promise<void>;
}
