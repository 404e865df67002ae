import type {
  BranchCommit,
  FoundPullRequest,
  OpenedPullRequestRef,
  ProposedFile,
  PullRequestOpener,
} from '../../../src/ports/pull-request-opener.js';
import { memoryTree } from '../memory-tree.js';

/**
 * An in-memory PullRequestOpener: commits are file maps, branches point at them, pull requests are
 * a list. `failNext` makes the next call of a method throw, as a GitHub outage would.
 */
export class MemoryPullRequests implements PullRequestOpener {
  readonly slug = 'acme/access';
  readonly commits = new Map<string, Record<string, string>>();
  /** The one parent of each commit made by commitFiles (or seeded by a test). */
  readonly parents = new Map<string, string>();
  readonly branches = new Map<string, string>();
  readonly pulls: {
    number: number;
    head: string;
    base: string;
    title: string;
    body: string;
    open: boolean;
    /** Who opened it; `identity` by default. */
    author: string;
  }[] = [];
  /** Who authored each commit made by commitFiles (the token's login then), or seeded by a test. */
  readonly authors = new Map<string, string>();
  /** The login the token acts as. */
  identityLogin = 'github-actions[bot]';
  /** Every mutating call, in order. */
  readonly writes: string[] = [];
  private readonly failing = new Set<string>();
  private next = 0;

  constructor(
    base: Record<string, string>,
    readonly defaultName = 'main',
  ) {
    this.commits.set('c0', { ...base });
    this.branches.set(defaultName, 'c0');
  }

  failNext(method: 'commitFiles' | 'createBranch' | 'createPullRequest' | 'updatePullRequest'): void {
    this.failing.add(method);
  }

  private check(method: string): void {
    if (this.failing.delete(method)) throw new Error(`${method}: 502 Bad Gateway`);
  }

  defaultBranch(): Promise<string> {
    return Promise.resolve(this.defaultName);
  }

  branchTip(branch: string): Promise<string | undefined> {
    return Promise.resolve(this.branches.get(branch));
  }

  treeAt(commit: string, label: string) {
    return memoryTree(this.commits.get(commit) ?? {}, label);
  }

  commitFiles(parent: string, files: readonly ProposedFile[]): Promise<string> {
    this.check('commitFiles');
    const sha = `c${++this.next}`;
    this.commits.set(sha, {
      ...this.commits.get(parent),
      ...Object.fromEntries(files.map((f) => [f.path, f.text])),
    });
    this.parents.set(sha, parent);
    this.authors.set(sha, this.identityLogin);
    this.writes.push(`commit ${sha}`);
    return Promise.resolve(sha);
  }

  holdsExactly(commit: string, parent: string, files: readonly ProposedFile[]): Promise<boolean> {
    const want = { ...this.commits.get(parent), ...Object.fromEntries(files.map((f) => [f.path, f.text])) };
    const got = this.commits.get(commit) ?? {};
    const same =
      Object.keys(want).length === Object.keys(got).length &&
      Object.entries(want).every(([path, text]) => got[path] === text);
    return Promise.resolve(this.parents.get(commit) === parent && same);
  }

  identity(): Promise<string> {
    return Promise.resolve(this.identityLogin);
  }

  commitsSince(base: string, head: string): Promise<{ aheadBy: number; commits: BranchCommit[] }> {
    const onBase = new Set<string>();
    for (let c: string | undefined = base; c !== undefined; c = this.parents.get(c)) onBase.add(c);
    const commits: BranchCommit[] = [];
    for (let c: string | undefined = head; c !== undefined && !onBase.has(c); c = this.parents.get(c)) {
      const parent = this.parents.get(c);
      commits.unshift({ sha: c, parents: parent ? [parent] : [], author: this.authors.get(c) });
    }
    return Promise.resolve({ aheadBy: commits.length, commits });
  }

  moveBranch(branch: string, commit: string): Promise<void> {
    this.branches.set(branch, commit);
    this.writes.push(`move ${branch} ${commit}`);
    return Promise.resolve();
  }

  createBranch(branch: string, commit: string): Promise<boolean> {
    this.check('createBranch');
    if (this.branches.has(branch)) return Promise.resolve(false);
    this.branches.set(branch, commit);
    this.writes.push(`branch ${branch}`);
    return Promise.resolve(true);
  }

  openPullRequests(head: string, base: string): Promise<FoundPullRequest[]> {
    return Promise.resolve(
      this.pulls
        .filter((p) => p.open && p.head === head && p.base === base)
        .map((p) => ({
          ...this.ref(p.number),
          author: p.author,
          headSha: this.branches.get(head) ?? '',
          title: p.title,
          body: p.body,
        })),
    );
  }

  createPullRequest(head: string, base: string, title: string, body: string): Promise<OpenedPullRequestRef> {
    this.check('createPullRequest');
    const number = 100 + this.pulls.length;
    this.pulls.push({ number, head, base, title, body, open: true, author: this.identityLogin });
    this.writes.push(`pull ${number}`);
    return Promise.resolve(this.ref(number));
  }

  updatePullRequest(number: number, title: string, body: string): Promise<void> {
    this.check('updatePullRequest');
    const pull = this.pulls.find((p) => p.number === number);
    if (!pull) throw new Error(`no pull request #${number}`);
    Object.assign(pull, { title, body });
    this.writes.push(`update ${number}`);
    return Promise.resolve();
  }

  private ref(number: number): OpenedPullRequestRef {
    return { number, url: `https://github.example/${this.slug}/pull/${number}` };
  }
}
