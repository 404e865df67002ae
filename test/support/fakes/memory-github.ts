import type { PullRequestFacts, Review } from '../../../src/policy/approval.js';
import type {
  AccessRepoGitHub,
  IssueComment,
  IssueSummary,
  PullRequestCommit,
} from '../../../src/ports/access-repo.js';

export interface MemoryPull extends PullRequestFacts {
  mergeCommitSha?: string;
  reviews: Review[];
  /** Blob ids of the files at the head commit. */
  headFiles: Map<string, string>;
  /** Its commits; default one, the head, written by the PR's author. */
  commits?: PullRequestCommit[];
}

interface MemoryIssue extends IssueSummary {
  labels: string[];
  state: 'open' | 'closed';
}

/**
 * The GitHub port in memory: pull requests with reviews, team memberships, comments, issues and
 * the cleanup pull request. Every call is logged, so a test can say "nothing was asked twice" or
 * "no write happened". The HTTP adapter is tested against the local OpenAPI-checked server.
 */
export class MemoryGitHub implements AccessRepoGitHub {
  readonly slug = 'acme/access';
  /** The login grantops' token acts as: an App's bot, or a person's login for a personal token. */
  login = 'grantops[bot]';
  readonly pulls: MemoryPull[] = [];
  readonly teams = new Map<string, Set<string>>();
  /** Account ids by login (lower case); a login not listed gets a stable id of its own. */
  readonly accounts = new Map<string, number>();
  readonly commentsByIssue = new Map<number, (IssueComment & { author: string })[]>();
  readonly issues: MemoryIssue[] = [];
  readonly pullRequestsOpened: { number: number; head: string; base: string; title: string; body: string }[] =
    [];
  readonly calls: string[] = [];
  /** Makes a call fail, by name, as GitHub would with a 5xx. */
  failing = new Set<string>();
  private nextId = 1000;

  private record(name: string): void {
    this.calls.push(name);
    if (this.failing.has(name)) throw new Error(`GitHub answered 502 to ${name}`);
  }

  addPull(pull: Omit<MemoryPull, 'reviews' | 'headFiles'> & Partial<MemoryPull>): MemoryPull {
    const full: MemoryPull = { reviews: [], headFiles: new Map(), ...pull };
    this.pulls.push(full);
    return full;
  }

  pullRequestForCommit(commit: string): Promise<PullRequestFacts | undefined> {
    this.record('pullRequestForCommit');
    const pr = this.pulls.find((p) => p.mergeCommitSha === commit);
    return Promise.resolve(pr ? { number: pr.number, author: pr.author, headSha: pr.headSha } : undefined);
  }

  reviews(pr: number): Promise<Review[]> {
    this.record('reviews');
    return Promise.resolve([...(this.pulls.find((p) => p.number === pr)?.reviews ?? [])]);
  }

  pullRequestCommits(pr: number): Promise<PullRequestCommit[]> {
    this.record('pullRequestCommits');
    const p = this.pulls.find((x) => x.number === pr);
    if (!p) return Promise.resolve([]);
    return Promise.resolve(p.commits ?? [{ sha: p.headSha, author: p.author, committer: p.author }]);
  }

  fileBlobs(commit: string): Promise<Map<string, string> | undefined> {
    this.record('fileBlobs');
    const pr = this.pulls.find((p) => p.headSha === commit);
    return Promise.resolve(pr ? new Map(pr.headFiles) : undefined);
  }

  userId(login: string): Promise<number | undefined> {
    this.record('userId');
    const key = login.toLowerCase();
    if (!this.accounts.has(key)) this.accounts.set(key, 5000 + this.accounts.size);
    return Promise.resolve(this.accounts.get(key));
  }

  selfLogin(): Promise<string> {
    this.record('selfLogin');
    return Promise.resolve(this.login);
  }

  isTeamMember(team: string, user: string): Promise<boolean> {
    this.record('isTeamMember');
    const members = this.teams.get(team.replace(/^@/, ''));
    return Promise.resolve([...(members ?? [])].some((m) => m.toLowerCase() === user.toLowerCase()));
  }

  comments(issue: number): Promise<IssueComment[]> {
    this.record('comments');
    return Promise.resolve((this.commentsByIssue.get(issue) ?? []).map((c) => ({ ...c })));
  }

  /** A comment written by a person (not grantops). */
  addHumanComment(issue: number, author: string, body: string): void {
    const list = this.commentsByIssue.get(issue) ?? [];
    list.push({ id: this.nextId++, body, byBot: false, author });
    this.commentsByIssue.set(issue, list);
  }

  createComment(issue: number, body: string): Promise<number> {
    this.record('createComment');
    const list = this.commentsByIssue.get(issue) ?? [];
    const id = this.nextId++;
    list.push({ id, body, byBot: this.login.endsWith('[bot]'), author: this.login });
    this.commentsByIssue.set(issue, list);
    return Promise.resolve(id);
  }

  updateComment(id: number, body: string): Promise<void> {
    this.record('updateComment');
    for (const list of this.commentsByIssue.values()) {
      const c = list.find((x) => x.id === id);
      if (c) c.body = body;
    }
    return Promise.resolve();
  }

  openIssues(label: string): Promise<IssueSummary[]> {
    this.record('openIssues');
    return Promise.resolve(
      this.issues
        .filter((i) => i.state === 'open' && i.labels.includes(label))
        .map(({ number, title, body, author, byBot }) => ({ number, title, body, author, byBot })),
    );
  }

  createIssue(title: string, body: string, labels: readonly string[]): Promise<number> {
    this.record('createIssue');
    return Promise.resolve(this.plantIssue(this.login, this.login.endsWith('[bot]'), title, body, labels));
  }

  /** An issue opened by someone else (a person, or another bot such as a writer's workflow). */
  plantIssue(author: string, byBot: boolean, title: string, body: string, labels: readonly string[]): number {
    const number = this.nextId++;
    this.issues.push({ number, title, body, labels: [...labels], state: 'open', author, byBot });
    return number;
  }

  updateIssue(
    number: number,
    change: { title?: string; body?: string; state?: 'open' | 'closed' },
  ): Promise<void> {
    this.record('updateIssue');
    const issue = this.issues.find((i) => i.number === number);
    if (issue) Object.assign(issue, change);
    return Promise.resolve();
  }

  openPullRequests(head: string, base: string): Promise<number[]> {
    this.record('openPullRequests');
    return Promise.resolve(
      this.pullRequestsOpened.filter((p) => p.head === head && p.base === base).map((p) => p.number),
    );
  }

  createPullRequest(head: string, base: string, title: string, body: string): Promise<number> {
    this.record('createPullRequest');
    const number = this.nextId++;
    this.pullRequestsOpened.push({ number, head, base, title, body });
    return Promise.resolve(number);
  }

  updatePullRequest(number: number, title: string, body: string): Promise<void> {
    this.record('updatePullRequest');
    const pr = this.pullRequestsOpened.find((p) => p.number === number);
    if (pr) Object.assign(pr, { title, body });
    return Promise.resolve();
  }
}
