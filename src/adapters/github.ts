import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import { Octokit } from '@octokit/rest';
import Bottleneck from 'bottleneck';

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
}

const MyOctokit = Octokit.plugin(retry, throttling);

/** Mutations in flight against GitHub at once, whatever the apply concurrency: well under its limits. */
export const MAX_GITHUB_WRITES = 10;

// plugin-throttling's default limiters are module-global and serialise every write one second
// apart (three for issues and comments); grantops sizes them per client instead.
function limiters(concurrency: number, spacingMs: number) {
  return {
    // All requests of one client: far below GitHub's 100 concurrent, above the plugin's shared 10.
    global: new Bottleneck.Group({ maxConcurrent: 16 }),
    write: new Bottleneck.Group({ maxConcurrent: concurrency, minTime: spacingMs }),
    notifications: new Bottleneck.Group({ maxConcurrent: 1, minTime: Math.max(spacingMs, 1000) }),
  };
}
export type GitHubOctokit = InstanceType<typeof MyOctokit>;

/** Octokit with GitHub's recommended retry and throttling behaviour, pointed at `baseUrl`. */
export function createOctokit(opts: GitHubClientOptions): GitHubOctokit {
  const log = opts.log ?? (() => undefined);
  const maxRetries = opts.maxRetries ?? 3;
  return new MyOctokit({
    auth: opts.token,
    baseUrl: (opts.baseUrl ?? 'https://api.github.com').replace(/\/+$/, ''),
    userAgent: 'grantops',
    // Per-request `request.retries` would make plugin-retry retry every status, 403 included.
    retry: { retries: maxRetries },
    throttle: {
      ...limiters(opts.writeConcurrency ?? 4, opts.writeSpacingMs ?? 0),
      onRateLimit: (
        retryAfter: number,
        options: { method: string; url: string },
        _o: unknown,
        retryCount: number,
      ) => {
        log(`rate limit on ${options.method} ${options.url}; retry ${retryCount + 1} in ${retryAfter}s`);
        return retryCount < maxRetries;
      },
      onSecondaryRateLimit: (
        retryAfter: number,
        options: { method: string; url: string },
        _o: unknown,
        retryCount: number,
      ) => {
        log(
          `secondary rate limit on ${options.method} ${options.url}; retry ${retryCount + 1} in ${retryAfter}s`,
        );
        return retryCount < maxRetries;
      },
    },
    // Octokit logs every failed request itself; grantops reports failures where it handles them.
    log: {
      debug: () => undefined,
      info: () => undefined,
      warn: opts.debug ?? (() => undefined),
      error: opts.debug ?? (() => undefined),
    },
  });
}

/** Comments on issues and pull requests, the way grantops talks to reviewers. */
export interface IssueComments {
  /**
   * Creates the comment carrying `marker`, or edits it in place if one exists: one comment per PR,
   * never one per push.
   */
  upsertStickyComment(
    issueNumber: number,
    marker: string,
    body: string,
  ): Promise<{ id: number; created: boolean }>;
}

export class GitHubRepoClient implements IssueComments {
  constructor(
    private readonly octokit: GitHubOctokit,
    readonly owner: string,
    readonly repo: string,
  ) {}

  async upsertStickyComment(issueNumber: number, marker: string, body: string) {
    const text = `${marker}\n${body}`;
    const comments = await this.octokit.paginate(this.octokit.rest.issues.listComments, {
      owner: this.owner,
      repo: this.repo,
      issue_number: issueNumber,
      per_page: 100,
    });
    // Only a bot's comment is ours to edit: a person quoting the marker must not get overwritten.
    const mine = comments.find((c) => c.body?.includes(marker) && c.user?.type === 'Bot');
    if (mine) {
      await this.octokit.rest.issues.updateComment({
        owner: this.owner,
        repo: this.repo,
        comment_id: mine.id,
        body: text,
      });
      return { id: mine.id, created: false };
    }
    const created = await this.octokit.rest.issues.createComment({
      owner: this.owner,
      repo: this.repo,
      issue_number: issueNumber,
      body: text,
    });
    return { id: created.data.id, created: true };
  }
}

/** A tracked problem that wants a human: one issue per key, updated in place, closed once gone. */
export interface TrackedIssue {
  key: string;
  title: string;
  body: string;
}

export const ISSUE_LABEL = 'grantops';

export class GitHubIssues {
  constructor(
    private readonly octokit: GitHubOctokit,
    readonly owner: string,
    readonly repo: string,
  ) {}

  /**
   * Makes the open issues of `kind` match `wanted`: creates missing ones, updates changed ones,
   * closes those whose problem is gone. Issues are found by a hidden marker, never by title alone.
   */
  async sync(
    kind: string,
    wanted: readonly TrackedIssue[],
  ): Promise<{ created: number; updated: number; closed: number; createdKeys: string[] }> {
    const marker = (key: string) => `<!-- grantops:${kind}:${key} -->`;
    const open = await this.octokit.paginate(this.octokit.rest.issues.listForRepo, {
      owner: this.owner,
      repo: this.repo,
      state: 'open',
      labels: ISSUE_LABEL,
      per_page: 100,
    });
    const byKey = new Map<string, { number: number; body: string; title: string }>();
    const prefix = `<!-- grantops:${kind}:`;
    for (const i of open) {
      const body = i.body ?? '';
      const at = body.indexOf(prefix);
      if (at < 0) continue;
      const key = body.slice(at + prefix.length, body.indexOf(' -->', at));
      byKey.set(key, { number: i.number, body, title: i.title });
    }
    const counts = { created: 0, updated: 0, closed: 0, createdKeys: [] as string[] };
    for (const w of wanted) {
      const body = `${marker(w.key)}\n${w.body}`;
      const existing = byKey.get(w.key);
      byKey.delete(w.key);
      if (!existing) {
        await this.octokit.rest.issues.create({
          owner: this.owner,
          repo: this.repo,
          title: w.title,
          body,
          labels: [ISSUE_LABEL],
        });
        counts.created++;
        counts.createdKeys.push(w.key);
      } else if (existing.body !== body || existing.title !== w.title) {
        await this.octokit.rest.issues.update({
          owner: this.owner,
          repo: this.repo,
          issue_number: existing.number,
          title: w.title,
          body,
        });
        counts.updated++;
      }
    }
    for (const gone of byKey.values()) {
      await this.octokit.rest.issues.update({
        owner: this.owner,
        repo: this.repo,
        issue_number: gone.number,
        state: 'closed',
      });
      counts.closed++;
    }
    return counts;
  }
}

/** The cleanup pull request the reaper opens when main is protected: one, updated in place. */
export class GitHubPulls {
  constructor(
    private readonly octokit: GitHubOctokit,
    readonly owner: string,
    readonly repo: string,
  ) {}

  async upsert(
    head: string,
    base: string,
    title: string,
    body: string,
  ): Promise<{ number: number; created: boolean }> {
    const open = await this.octokit.rest.pulls.list({
      owner: this.owner,
      repo: this.repo,
      state: 'open',
      head: `${this.owner}:${head}`,
      base,
      per_page: 10,
    });
    const existing = open.data[0];
    if (existing) {
      await this.octokit.rest.pulls.update({
        owner: this.owner,
        repo: this.repo,
        pull_number: existing.number,
        title,
        body,
      });
      return { number: existing.number, created: false };
    }
    const pr = await this.octokit.rest.pulls.create({
      owner: this.owner,
      repo: this.repo,
      head,
      base,
      title,
      body,
    });
    return { number: pr.data.number, created: true };
  }
}
