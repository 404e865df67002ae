import { Octokit } from '@octokit/rest';
import { RequestError } from '@octokit/request-error';
import type { PullRequestFacts, Review } from '../policy/approval.js';
import {
  ACTIONS_BOT_LOGIN,
  type AccessRepoGitHub,
  type IssueComment,
  type IssueSummary,
  type PullRequestCommit,
} from '../ports/access-repo.js';
import { GitHubThrottle, type ThrottleStats } from './github-throttle.js';

export interface GitHubClientOptions {
  token: string;
  /** `GITHUB_API_URL`: github.com, GitHub Enterprise Server, or a test server. */
  baseUrl?: string;
  log?: (message: string) => void;
  /** Octokit's own request log, for debug output. */
  debug?: (message: string) => void;
  /** Retries on secondary rate limits and 5xx before giving up. */
  maxRetries?: number;
  /**
   * Mutating requests in flight at once (default 4). GitHub asks integrations to keep writes few
   * and not highly concurrent; secondary rate limits are still honoured through retry-after.
   */
  writeConcurrency?: number;
  /** Pause between mutating requests, in ms (default 0; GitHub's most conservative advice is 1000). */
  writeSpacingMs?: number;
  /**
   * Longest one attempt of a request may take, response body included, in ms (default 30 s). Each
   * retry gets a fresh timeout; a timed-out attempt counts as a 5xx, so it is retried like one.
   */
  requestTimeoutMs?: number;
}

/** A hung DELETE once kept a reap running past 400 s with nothing reported: no request waits forever. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

export type GitHubOctokit = Octokit;

const throttles = new WeakMap<GitHubOctokit, GitHubThrottle>();

/** What a client made by createOctokit did: requests sent straight out or through the limiter. */
export function throttleStats(octokit: GitHubOctokit): Readonly<ThrottleStats> | undefined {
  return throttles.get(octokit)?.stats;
}

/** Statuses a Response may not carry a body with (the constructor throws). */
const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304]);

/**
 * fetch with a deadline per call. Octokit calls fetch once per attempt (plugin-retry re-enters the
 * request), so each attempt gets its own timer; a single `request.signal` would stay aborted and fail
 * every retry at once. The body is read inside the deadline too: octokit reads it after fetch
 * resolves and turns a failed read into an empty body, so a stalled body would surface as nonsense.
 */
function fetchWithTimeout(timeoutMs: number): typeof fetch {
  return async (input, init) => {
    const deadline = AbortSignal.timeout(timeoutMs);
    const signal = init?.signal ? AbortSignal.any([init.signal, deadline]) : deadline;
    try {
      const res = await globalThis.fetch(input, { ...init, signal });
      const body = await res.arrayBuffer();
      const copy = new Response(NULL_BODY_STATUS.has(res.status) ? null : body, {
        status: res.status,
        statusText: res.statusText,
        headers: res.headers,
      });
      // octokit reports the response's URL; a constructed Response has none.
      Object.defineProperty(copy, 'url', { value: res.url });
      return copy;
    } catch (err) {
      if (deadline.aborted && !init?.signal?.aborted) {
        const url = input instanceof Request ? input.url : String(input);
        throw new Error(`${init?.method ?? 'GET'} ${url} timed out after ${timeoutMs} ms`, { cause: err });
      }
      throw err;
    }
  };
}

/**
 * Octokit with GitHub's recommended retry and rate-limit behaviour (github-throttle.ts), pointed at
 * `baseUrl`.
 */
export function createOctokit(opts: GitHubClientOptions): GitHubOctokit {
  const throttle = new GitHubThrottle({
    maxRetries: opts.maxRetries ?? 3,
    writeConcurrency: opts.writeConcurrency ?? 4,
    writeSpacingMs: opts.writeSpacingMs ?? 0,
    log: opts.log ?? (() => undefined),
  });
  const octokit = new Octokit({
    auth: opts.token,
    baseUrl: (opts.baseUrl ?? 'https://api.github.com').replace(/\/+$/, ''),
    userAgent: 'grantops',
    request: { fetch: fetchWithTimeout(opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS) },
    // Octokit logs every failed request itself; grantops reports failures where it handles them.
    log: {
      debug: () => undefined,
      info: () => undefined,
      warn: opts.debug ?? (() => undefined),
      error: opts.debug ?? (() => undefined),
    },
  });
  octokit.hook.wrap('request', (send, options) => throttle.request(send, options));
  throttles.set(octokit, throttle);
  return octokit;
}

/**
 * The login a token acts as: the configured one (GRANTOPS_BOT_LOGIN) if any, else GitHub's answer to
 * `GET /user`. An installation token (Actions' GITHUB_TOKEN) may not ask (403) and acts as
 * github-actions[bot]; any other failure is an error, never a guessed identity.
 */
export function tokenLogin(octokit: GitHubOctokit, configured?: string): Promise<string> {
  if (configured) return Promise.resolve(configured);
  return octokit.rest.users.getAuthenticated().then(
    ({ data }) => data.login,
    (err: unknown) => {
      if (err instanceof RequestError && err.status === 403) return ACTIONS_BOT_LOGIN;
      throw err;
    },
  );
}

/** The access repository through Octokit: the one production implementation of the GitHub port. */
export class OctokitAccessRepo implements AccessRepoGitHub {
  readonly slug: string;

  constructor(
    readonly octokit: GitHubOctokit,
    readonly owner: string,
    readonly repo: string,
    /** The login the token acts as, when configured (GRANTOPS_BOT_LOGIN): then GitHub is not asked. */
    private readonly botLogin?: string,
  ) {
    this.slug = `${owner}/${repo}`;
  }

  async pullRequestForCommit(commit: string): Promise<PullRequestFacts | undefined> {
    const { data } = await this.octokit.rest.repos.listPullRequestsAssociatedWithCommit({
      owner: this.owner,
      repo: this.repo,
      commit_sha: commit,
      per_page: 100,
    });
    const merged = data.filter((pr) => pr.merged_at);
    const pr = merged.find((x) => x.merge_commit_sha === commit) ?? merged[0];
    return pr ? { number: pr.number, author: pr.user?.login ?? '', headSha: pr.head.sha } : undefined;
  }

  async reviews(pr: number): Promise<Review[]> {
    const list = await this.octokit.paginate(this.octokit.rest.pulls.listReviews, {
      owner: this.owner,
      repo: this.repo,
      pull_number: pr,
      per_page: 100,
    });
    return list.map((r) => ({ user: r.user?.login ?? '', state: r.state, commitId: r.commit_id ?? '' }));
  }

  async pullRequestCommits(pr: number): Promise<PullRequestCommit[]> {
    const list = await this.octokit.paginate(this.octokit.rest.pulls.listCommits, {
      owner: this.owner,
      repo: this.repo,
      pull_number: pr,
      per_page: 100,
    });
    return list.map((c) => ({
      sha: c.sha,
      author: c.author?.login || null,
      committer: c.committer?.login || null,
    }));
  }

  async fileBlobs(commit: string): Promise<Map<string, string> | undefined> {
    try {
      const { data } = await this.octokit.rest.git.getTree({
        owner: this.owner,
        repo: this.repo,
        tree_sha: commit,
        recursive: 'true',
      });
      if (data.truncated) throw new Error(`the tree of ${commit} is too large for one request`);
      return new Map(
        data.tree.filter((e) => e.type === 'blob' && e.path && e.sha).map((e) => [e.path, e.sha]),
      );
    } catch (err) {
      if (err instanceof RequestError && (err.status === 404 || err.status === 422)) return undefined;
      throw err;
    }
  }

  async userId(login: string): Promise<number | undefined> {
    try {
      const { data } = await this.octokit.rest.users.getByUsername({ username: login });
      return data.id;
    } catch (err) {
      if (err instanceof RequestError && err.status === 404) return undefined;
      throw err;
    }
  }

  private self: Promise<string> | undefined;

  selfLogin(): Promise<string> {
    this.self ??= tokenLogin(this.octokit, this.botLogin).catch((err: unknown) => {
      this.self = undefined;
      throw err;
    });
    return this.self;
  }

  async isTeamMember(team: string, user: string): Promise<boolean> {
    const [org = '', slug = ''] = team.replace(/^@/, '').split('/');
    try {
      const { data } = await this.octokit.rest.teams.getMembershipForUserInOrg({
        org,
        team_slug: slug,
        username: user,
      });
      return data.state === 'active';
    } catch (err) {
      if (err instanceof RequestError && err.status === 404) return false;
      throw err;
    }
  }

  async comments(issue: number): Promise<IssueComment[]> {
    const list = await this.octokit.paginate(this.octokit.rest.issues.listComments, {
      owner: this.owner,
      repo: this.repo,
      issue_number: issue,
      per_page: 100,
    });
    return list.map((c) => ({
      id: c.id,
      body: c.body ?? '',
      byBot: c.user?.type === 'Bot',
      author: c.user?.login ?? '',
      createdAt: c.created_at,
      updatedAt: c.updated_at,
    }));
  }

  async createComment(issue: number, body: string): Promise<number> {
    const { data } = await this.octokit.rest.issues.createComment({
      owner: this.owner,
      repo: this.repo,
      issue_number: issue,
      body,
    });
    return data.id;
  }

  async updateComment(id: number, body: string): Promise<void> {
    await this.octokit.rest.issues.updateComment({
      owner: this.owner,
      repo: this.repo,
      comment_id: id,
      body,
    });
  }

  async openIssues(label: string, state: 'open' | 'all' = 'open'): Promise<IssueSummary[]> {
    const list = await this.octokit.paginate(this.octokit.rest.issues.listForRepo, {
      owner: this.owner,
      repo: this.repo,
      state,
      labels: label,
      per_page: 100,
    });
    return list.map((i) => ({
      number: i.number,
      title: i.title,
      body: i.body ?? '',
      byBot: i.user?.type === 'Bot',
      author: i.user?.login ?? '',
      createdAt: i.created_at,
      state: i.state === 'closed' ? ('closed' as const) : ('open' as const),
    }));
  }

  async createIssue(title: string, body: string, labels: readonly string[]): Promise<number> {
    const { data } = await this.octokit.rest.issues.create({
      owner: this.owner,
      repo: this.repo,
      title,
      body,
      labels: [...labels],
    });
    return data.number;
  }

  async updateIssue(
    number: number,
    change: { title?: string; body?: string; state?: 'open' | 'closed' },
  ): Promise<void> {
    await this.octokit.rest.issues.update({
      owner: this.owner,
      repo: this.repo,
      issue_number: number,
      ...change,
    });
  }

  async openPullRequests(head: string, base: string): Promise<number[]> {
    const { data } = await this.octokit.rest.pulls.list({
      owner: this.owner,
      repo: this.repo,
      state: 'open',
      head: `${this.owner}:${head}`,
      base,
      per_page: 10,
    });
    return data.map((p) => p.number);
  }

  async createPullRequest(head: string, base: string, title: string, body: string): Promise<number> {
    const { data } = await this.octokit.rest.pulls.create({
      owner: this.owner,
      repo: this.repo,
      head,
      base,
      title,
      body,
    });
    return data.number;
  }

  async updatePullRequest(number: number, title: string, body: string): Promise<void> {
    await this.octokit.rest.pulls.update({
      owner: this.owner,
      repo: this.repo,
      pull_number: number,
      title,
      body,
    });
  }
}
