/** The account an Actions GITHUB_TOKEN acts as (it may not read `GET /user`). */
export const ACTIONS_BOT_LOGIN = 'github-actions[bot]';

/** A review on a pull request, as GitHub reports it. */
export interface Review {
  user: string;
  state: string; // APPROVED | CHANGES_REQUESTED | COMMENTED | DISMISSED | PENDING
  commitId: string;
}

export interface PullRequestFacts {
  number: number;
  author: string;
  headSha: string;
}

/**
 * A commit of a pull request, as GitHub maps it to accounts: `null` where the commit's email is
 * no account's (git lets anyone write any name and email; GitHub maps what it can).
 */
export interface PullRequestCommit {
  sha: string;
  author: string | null;
  committer: string | null;
}

/** A comment on an issue or pull request, as grantops needs to see it. */
export interface IssueComment {
  id: number;
  body: string;
  /** Written by a bot account (grantops' own comments are; a person's never are). */
  byBot: boolean;
  /** Login of the comment's author, and its creation and last edit times (RFC 3339), from the API. */
  author: string;
  createdAt?: string;
  updatedAt?: string;
}

export interface IssueSummary {
  number: number;
  title: string;
  body: string;
  /** Opened by a bot account (grantops' own issues are); undefined when not known. */
  byBot?: boolean;
  /** Login of the account that opened it, and when (RFC 3339), from the API: neither is editable. */
  author?: string;
  createdAt?: string;
  state?: 'open' | 'closed';
}

/**
 * Port: the access repository on GitHub, everything grantops reads or writes there apart from the
 * targets. One Octokit adapter (src/adapters/github-client.ts) and one in-memory fake for fast tests, in the
 * way release-please has one `Scm`. Every answer is untrusted text from an API.
 */
export interface AccessRepoGitHub {
  /** `owner/name`. */
  readonly slug: string;
  /** The merged pull request whose merge (or squash) commit is `commit`, else one that contains it. */
  pullRequestForCommit(commit: string): Promise<PullRequestFacts | undefined>;
  /** Every review of a pull request, oldest first. */
  reviews(pr: number): Promise<Review[]>;
  /** The commits of a pull request, oldest first (GitHub lists at most 250). */
  pullRequestCommits(pr: number): Promise<PullRequestCommit[]>;
  /** Blob ids of the files at a commit, by path; undefined when GitHub does not know the commit. */
  fileBlobs(commit: string): Promise<Map<string, string> | undefined>;
  /** GitHub's numeric id of the account called `login` now; undefined when there is none. */
  userId(login: string): Promise<number | undefined>;
  /**
   * The login grantops acts as: the token's own account (`GET /user`), or `github-actions[bot]` for
   * an Actions token, which may not read `/user` (GitHub answers 403).
   */
  selfLogin(): Promise<string>;
  /** Whether `user` is an active member of `@org/team`. */
  isTeamMember(team: string, user: string): Promise<boolean>;
  comments(issue: number): Promise<IssueComment[]>;
  createComment(issue: number, body: string): Promise<number>;
  updateComment(id: number, body: string): Promise<void>;
  /** Open issues carrying `label` (with `all`, closed ones too). */
  openIssues(label: string, state?: 'open' | 'all'): Promise<IssueSummary[]>;
  createIssue(title: string, body: string, labels: readonly string[]): Promise<number>;
  updateIssue(
    number: number,
    change: { title?: string; body?: string; state?: 'open' | 'closed' },
  ): Promise<void>;
  /** Open pull requests from `head` (a branch of this repo) into `base`. */
  openPullRequests(head: string, base: string): Promise<number[]>;
  createPullRequest(head: string, base: string, title: string, body: string): Promise<number>;
  updatePullRequest(number: number, title: string, body: string): Promise<void>;
}
