import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { OpenApi, type MatchedOperation } from './openapi.js';

/**
 * A local stand-in for api.github.com: speaks the REST endpoints grantops uses, keeps their state in
 * memory, and checks every request and response against GitHub's OpenAPI description. Reached
 * through GITHUB_API_URL exactly as GitHub is in production.
 */
export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}
interface HandlerContext {
  op: MatchedOperation;
  body: unknown;
  query: URLSearchParams;
  server: FakeGitHub;
  baseUrl: string;
}
type Handler = (ctx: HandlerContext) => Reply;

export interface Fault extends Reply {
  /** Only requests of this operation (e.g. `issues/create-comment`) fail. */
  operationId: string;
  times: number;
}

export interface Hang {
  /** Only requests of this operation (e.g. `teams/remove-membership-for-user-in-org`) hang. */
  operationId: string;
  times: number;
  /** `request` (default): nothing is ever answered; `body`: status and headers, then the body stalls. */
  stall?: 'request' | 'body';
}

export interface RecordedRequest {
  method: string;
  path: string;
  operationId: string;
  /** 0: the server never finished answering (a hang). */
  status: number;
  body: unknown;
}

export interface StoredComment {
  id: number;
  body: string;
  user: string;
  userType: 'User' | 'Bot';
  created_at: string;
  updated_at: string;
}

let nextId = 1000;

export interface FakePull {
  number: number;
  author: string;
  headSha: string;
  headRef?: string;
  mergeCommitSha: string;
  mergedAt: string;
  /** Commits whose associated PRs include this one (the merge commit at least). */
  commits: string[];
  reviews: { user: string; state: string; commitId: string }[];
}

export interface FakeOpenPull {
  number: number;
  head: string;
  base: string;
  title: string;
  body: string;
  state: 'open' | 'closed';
}

export interface FakeIssue {
  number: number;
  title: string;
  body: string;
  state: 'open' | 'closed';
  labels: string[];
}

export class FakeGitHub {
  readonly violations: string[] = [];
  readonly requests: RecordedRequest[] = [];
  /** Comments by `owner/repo#number`. */
  readonly comments = new Map<string, StoredComment[]>();
  /** Team members by `org/slug`, keyed by lower-case login. */
  readonly teams = new Map<string, Map<string, { login: string; role: 'member' | 'maintainer' }>>();
  /** Direct collaborators by `owner/repo`, keyed by lower-case login; permission is pull..admin. */
  readonly collaborators = new Map<string, Map<string, { login: string; permission: string }>>();
  readonly invitations = new Map<string, { id: number; login: string; permission: string }[]>();
  /** Pull requests by `owner/repo`. */
  readonly pulls = new Map<string, FakePull[]>();
  /** Trees by commit sha: path -> blob sha. */
  readonly trees = new Map<string, Map<string, string>>();
  /** Pull requests opened through the API (the reaper's cleanup PR), by `owner/repo`. */
  readonly openPulls = new Map<string, FakeOpenPull[]>();
  /** Issues by `owner/repo`. */
  readonly issues = new Map<string, FakeIssue[]>();
  /** Logins that do not exist on this GitHub (adding them answers 404). */
  readonly unknownUsers = new Set<string>();
  /** Account ids by login (lower case), where a test renames and re-registers a login. */
  readonly accountIds = new Map<string, number>();
  private readonly faults: Fault[] = [];
  private readonly hangs: Hang[] = [];
  /** Requests in flight now, the most seen at once, and how many were refused for it. */
  inFlight = 0;
  peakInFlight = 0;
  secondaryLimited = 0;
  /** Like GitHub's secondary limit on concurrent requests (100): over it, 403 with retry-after. */
  maxConcurrent = 100;
  private readonly handlers: Record<string, Handler> = defaultHandlers();
  private server!: Server;
  url = '';

  private constructor(
    readonly token: string,
    readonly latencyMs: number,
    /** Login the token authenticates as (GITHUB_TOKEN is github-actions[bot]). */
    readonly actor: { login: string; type: 'User' | 'Bot' },
  ) {}

  static async start(
    opts: { token?: string; latencyMs?: number; actor?: { login: string; type: 'User' | 'Bot' } } = {},
  ): Promise<FakeGitHub> {
    const gh = new FakeGitHub(
      opts.token ?? 'test-token',
      opts.latencyMs ?? 0,
      opts.actor ?? { login: 'github-actions[bot]', type: 'Bot' },
    );
    OpenApi.load();
    gh.server = createServer((req, res) => void gh.handle(req, res));
    await new Promise<void>((resolve) => gh.server.listen(0, '127.0.0.1', resolve));
    gh.url = `http://127.0.0.1:${(gh.server.address() as AddressInfo).port}`;
    return gh;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve, reject) => this.server.close((e) => (e ? reject(e) : resolve())));
  }

  /** The next `times` requests to `operationId` get this reply instead of the real one. */
  failNext(fault: Fault): void {
    this.faults.push({ ...fault });
  }

  /** Forgets the faults and hangs not yet spent, so one test's leftovers do not reach the next. */
  clearFaults(): void {
    this.faults.length = 0;
    this.hangs.length = 0;
  }

  /**
   * The next `times` requests to `operationId` are never answered (until the client gives up or the
   * server stops), like a GitHub call that hangs.
   */
  hangNext(hang: Hang): void {
    this.hangs.push({ ...hang });
  }

  team(slug: string): Map<string, { login: string; role: 'member' | 'maintainer' }> {
    let t = this.teams.get(slug);
    if (!t) this.teams.set(slug, (t = new Map<string, { login: string; role: 'member' | 'maintainer' }>()));
    return t;
  }

  repoCollaborators(repo: string): Map<string, { login: string; permission: string }> {
    let c = this.collaborators.get(repo);
    if (!c) this.collaborators.set(repo, (c = new Map<string, { login: string; permission: string }>()));
    return c;
  }

  repoInvitations(repo: string): { id: number; login: string; permission: string }[] {
    let c = this.invitations.get(repo);
    if (!c) this.invitations.set(repo, (c = []));
    return c;
  }

  repoPulls(repo: string): FakePull[] {
    let c = this.pulls.get(repo);
    if (!c) this.pulls.set(repo, (c = []));
    return c;
  }

  repoIssues(repo: string): FakeIssue[] {
    let c = this.issues.get(repo);
    if (!c) this.issues.set(repo, (c = []));
    return c;
  }

  /** The invitee accepts: the invitation becomes a collaborator. */
  acceptInvitation(repo: string, login: string): void {
    const list = this.repoInvitations(repo);
    const i = list.findIndex((x) => x.login.toLowerCase() === login.toLowerCase());
    if (i < 0) throw new Error(`no invitation for ${login}`);
    const [inv] = list.splice(i, 1);
    this.repoCollaborators(repo).set(login.toLowerCase(), { login: inv!.login, permission: inv!.permission });
  }

  commentsOn(repo: string, issue: number): StoredComment[] {
    const key = `${repo}#${issue}`;
    let list = this.comments.get(key);
    if (!list) this.comments.set(key, (list = []));
    return list;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = req.method ?? 'GET';
    const raw = Buffer.concat(chunks).toString('utf8');
    let body: unknown;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      this.violations.push(`${method} ${url.pathname}: request body is not JSON`);
    }
    this.inFlight++;
    this.peakInFlight = Math.max(this.peakInFlight, this.inFlight);
    res.on('close', () => this.inFlight--);
    if (this.inFlight > this.maxConcurrent) {
      this.secondaryLimited++;
      res.writeHead(403, { 'content-type': 'application/json', 'retry-after': '1' });
      res.end(
        JSON.stringify({
          message:
            'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.',
        }),
      );
      return;
    }
    if (this.latencyMs > 0) await new Promise((r) => setTimeout(r, this.latencyMs));

    const op = OpenApi.load().match(method, url.pathname);
    const send = (reply: Reply, operationId: string) => {
      this.requests.push({ method, path: url.pathname, operationId, status: reply.status, body });
      res.writeHead(reply.status, { 'content-type': 'application/json; charset=utf-8', ...reply.headers });
      res.end(reply.body === undefined ? '' : JSON.stringify(reply.body));
    };
    if (!op) {
      this.violations.push(`${method} ${url.pathname}: not an endpoint in GitHub's REST description`);
      return send({ status: 404, body: { message: 'Not Found' } }, 'unknown');
    }
    try {
      for (const p of op.validateRequest(body, url.searchParams))
        this.violations.push(`${op.operationId}: ${p}`);
    } catch (err) {
      this.violations.push(
        `${op.operationId}: request not checkable: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    const auth = req.headers.authorization ?? '';
    if (auth !== `token ${this.token}` && auth !== `Bearer ${this.token}`) {
      return send(
        {
          status: 401,
          body: { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest' },
        },
        op.operationId,
      );
    }
    const hang = this.hangs.find((h) => h.operationId === op.operationId && h.times > 0);
    if (hang) {
      hang.times--;
      this.requests.push({ method, path: url.pathname, operationId: op.operationId, status: 0, body });
      if (hang.stall === 'body') {
        res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
        res.write('[');
      }
      return;
    }
    const faultIndex = this.faults.findIndex((f) => f.operationId === op.operationId && f.times > 0);
    if (faultIndex >= 0) {
      const fault = this.faults[faultIndex]!;
      fault.times--;
      return send(fault, op.operationId);
    }
    const handler = this.handlers[op.operationId];
    if (!handler) {
      this.violations.push(`${op.operationId}: not implemented by the local GitHub server`);
      return send({ status: 501, body: { message: 'not implemented' } }, op.operationId);
    }
    let reply: Reply;
    try {
      reply = handler({ op, body, query: url.searchParams, server: this, baseUrl: this.url });
    } catch (err) {
      this.violations.push(
        `${op.operationId}: handler failed: ${err instanceof Error ? err.message : String(err)}`,
      );
      return send({ status: 500, body: { message: 'local server error' } }, op.operationId);
    }
    for (const p of op.validateResponse(reply.status, reply.body))
      this.violations.push(`${op.operationId}: ${p}`);
    send(reply, op.operationId);
  }
}

export function simpleUser(login: string, type: 'User' | 'Bot' = 'User', baseUrl = 'https://api.github.com') {
  const id = [...login].reduce((h, c) => (h * 31 + c.charCodeAt(0)) % 1_000_000, 7);
  const u = `${baseUrl}/users/${encodeURIComponent(login)}`;
  return {
    login,
    id,
    node_id: `U_${id}`,
    avatar_url: `https://avatars.example/u/${id}`,
    gravatar_id: '',
    url: u,
    html_url: `https://github.example/${login}`,
    followers_url: `${u}/followers`,
    following_url: `${u}/following{/other_user}`,
    gists_url: `${u}/gists{/gist_id}`,
    starred_url: `${u}/starred{/owner}{/repo}`,
    subscriptions_url: `${u}/subscriptions`,
    organizations_url: `${u}/orgs`,
    repos_url: `${u}/repos`,
    events_url: `${u}/events{/privacy}`,
    received_events_url: `${u}/received_events`,
    type,
    site_admin: false,
  };
}

function invitationJson(i: { id: number; login: string; permission: string }, full: string, baseUrl: string) {
  return {
    id: i.id,
    node_id: `RI_${i.id}`,
    repository: minimalRepository(full, baseUrl),
    invitee: simpleUser(i.login, 'User', baseUrl),
    inviter: simpleUser('grantops-admin', 'User', baseUrl),
    permissions: PERMISSION_ROLE[i.permission] ?? i.permission,
    created_at: '2026-11-28T00:00:00Z',
    url: `${baseUrl}/user/repository_invitations/${i.id}`,
    html_url: `https://github.example/${full}/invitations`,
  };
}

function commentJson(c: StoredComment, repo: string, issue: number, baseUrl: string) {
  return {
    id: c.id,
    node_id: `IC_${c.id}`,
    url: `${baseUrl}/repos/${repo}/issues/comments/${c.id}`,
    html_url: `https://github.example/${repo}/issues/${issue}#issuecomment-${c.id}`,
    issue_url: `${baseUrl}/repos/${repo}/issues/${issue}`,
    body: c.body,
    user: simpleUser(c.user, c.userType, baseUrl),
    created_at: c.created_at,
    updated_at: c.updated_at,
    author_association: 'NONE',
  };
}

function page<T>(items: T[], query: URLSearchParams, ctx: HandlerContext): Reply {
  const perPage = Math.min(Number(query.get('per_page') ?? 30) || 30, 100);
  const pageNo = Math.max(Number(query.get('page') ?? 1) || 1, 1);
  const slice = items.slice((pageNo - 1) * perPage, pageNo * perPage);
  const headers: Record<string, string> = {};
  if (pageNo * perPage < items.length) {
    const next = new URL(
      ctx.baseUrl + ctx.op.pathTemplate.replace(/\{(\w+)\}/g, (_m, n: string) => ctx.op.params[n] ?? ''),
    );
    next.searchParams.set('per_page', String(perPage));
    next.searchParams.set('page', String(pageNo + 1));
    headers.link = `<${next.toString()}>; rel="next"`;
  }
  return { status: 200, body: slice, headers };
}

const notFound: Reply = {
  status: 404,
  body: { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' },
};
const unprocessable = (message: string): Reply => ({
  status: 422,
  body: {
    message: 'Validation Failed',
    errors: [{ resource: 'User', code: 'invalid', message }],
    documentation_url: 'https://docs.github.com/rest',
  },
});
const PERMISSION_ROLE: Record<string, string> = {
  pull: 'read',
  triage: 'triage',
  push: 'write',
  maintain: 'maintain',
  admin: 'admin',
};
const ORDER = ['pull', 'triage', 'push', 'maintain', 'admin'];

function permissions(p: string) {
  const rank = ORDER.indexOf(p);
  return { pull: rank >= 0, triage: rank >= 1, push: rank >= 2, maintain: rank >= 3, admin: rank >= 4 };
}

function minimalRepository(full: string, baseUrl: string) {
  const [owner = '', name = ''] = full.split('/');
  const u = `${baseUrl}/repos/${full}`;
  const urls = Object.fromEntries(
    [
      'archive',
      'assignees',
      'blobs',
      'branches',
      'collaborators',
      'comments',
      'commits',
      'compare',
      'contents',
      'contributors',
      'deployments',
      'downloads',
      'events',
      'forks',
      'git_commits',
      'git_refs',
      'git_tags',
      'hooks',
      'issue_comment',
      'issue_events',
      'issues',
      'keys',
      'labels',
      'languages',
      'merges',
      'milestones',
      'notifications',
      'pulls',
      'releases',
      'stargazers',
      'statuses',
      'subscribers',
      'subscription',
      'tags',
      'teams',
      'trees',
    ].map((k) => [`${k}_url`, `${u}/${k}`]),
  );
  return {
    id: 1,
    node_id: 'R_1',
    name,
    full_name: full,
    owner: simpleUser(owner, 'User', baseUrl),
    private: true,
    html_url: `https://github.example/${full}`,
    description: null,
    fork: false,
    url: u,
    ...urls,
  };
}

function pullJson(pr: FakePull, full: string, baseUrl: string) {
  const u = `${baseUrl}/repos/${full}/pulls/${pr.number}`;
  const link = (href: string) => ({ href });
  const repository = {
    ...minimalRepository(full, baseUrl),
    clone_url: `https://github.example/${full}.git`,
    default_branch: 'main',
    forks: 0,
    forks_count: 0,
    git_url: `git://github.example/${full}.git`,
    has_downloads: false,
    has_issues: true,
    has_projects: false,
    has_wiki: false,
    has_pages: false,
    homepage: null,
    language: null,
    archived: false,
    disabled: false,
    mirror_url: null,
    open_issues: 0,
    open_issues_count: 0,
    license: null,
    pushed_at: pr.mergedAt,
    size: 1,
    ssh_url: `git@github.example:${full}.git`,
    stargazers_count: 0,
    svn_url: `https://github.example/${full}`,
    watchers: 0,
    watchers_count: 0,
    created_at: pr.mergedAt,
    updated_at: pr.mergedAt,
  };
  const ref = (sha: string, refName: string) => ({
    label: `acme:${refName}`,
    ref: refName,
    sha,
    user: simpleUser(pr.author, 'User', baseUrl),
    repo: repository,
  });
  return {
    url: u,
    id: pr.number,
    node_id: `PR_${pr.number}`,
    html_url: `https://github.example/${full}/pull/${pr.number}`,
    diff_url: `${u}.diff`,
    patch_url: `${u}.patch`,
    issue_url: `${baseUrl}/repos/${full}/issues/${pr.number}`,
    commits_url: `${u}/commits`,
    review_comments_url: `${u}/comments`,
    review_comment_url: `${baseUrl}/repos/${full}/pulls/comments{/number}`,
    comments_url: `${baseUrl}/repos/${full}/issues/${pr.number}/comments`,
    statuses_url: `${baseUrl}/repos/${full}/statuses/${pr.headSha}`,
    number: pr.number,
    state: 'closed',
    locked: false,
    title: `PR ${pr.number}`,
    user: simpleUser(pr.author, 'User', baseUrl),
    body: null,
    labels: [],
    milestone: null,
    active_lock_reason: null,
    created_at: pr.mergedAt,
    updated_at: pr.mergedAt,
    closed_at: pr.mergedAt,
    merged_at: pr.mergedAt,
    merge_commit_sha: pr.mergeCommitSha,
    assignee: null,
    assignees: [],
    requested_reviewers: [],
    requested_teams: [],
    head: ref(pr.headSha, pr.headRef ?? `pr-${pr.number}`),
    base: ref(pr.mergeCommitSha, 'main'),
    _links: {
      self: link(u),
      html: link(u),
      issue: link(u),
      comments: link(u),
      review_comments: link(u),
      review_comment: link(u),
      commits: link(u),
      statuses: link(u),
    },
    author_association: 'MEMBER',
    auto_merge: null,
    draft: false,
  };
}

function openPullJson(p: FakeOpenPull, full: string, baseUrl: string, detailed: boolean) {
  const simple = {
    ...pullJson(
      {
        number: p.number,
        author: 'github-actions[bot]',
        headSha: '0'.repeat(40),
        headRef: p.head,
        mergeCommitSha: '',
        mergedAt: '',
        commits: [],
        reviews: [],
      },
      full,
      baseUrl,
    ),
    title: p.title,
    body: p.body,
    state: p.state,
    merged_at: null,
    merge_commit_sha: null,
    closed_at: null,
    created_at: '2026-11-28T00:00:00Z',
    updated_at: '2026-11-28T00:00:00Z',
  };
  if (!detailed) return simple;
  return {
    ...simple,
    additions: 0,
    changed_files: 1,
    comments: 0,
    commits: 1,
    deletions: 1,
    mergeable: true,
    mergeable_state: 'clean',
    merged: false,
    maintainer_can_modify: false,
    merged_by: null,
    review_comments: 0,
  };
}

function issueJson(i: FakeIssue, full: string, baseUrl: string) {
  const u = `${baseUrl}/repos/${full}/issues/${i.number}`;
  return {
    id: i.number,
    node_id: `I_${i.number}`,
    url: u,
    repository_url: `${baseUrl}/repos/${full}`,
    labels_url: `${u}/labels{/name}`,
    comments_url: `${u}/comments`,
    events_url: `${u}/events`,
    html_url: `https://github.example/${full}/issues/${i.number}`,
    number: i.number,
    state: i.state,
    title: i.title,
    body: i.body,
    user: simpleUser('github-actions[bot]', 'Bot', baseUrl),
    labels: i.labels.map((name, k) => ({
      id: k + 1,
      node_id: `L_${k}`,
      url: `${u}/labels/${name}`,
      name,
      description: null,
      color: 'ededed',
      default: false,
    })),
    assignee: null,
    assignees: [],
    milestone: null,
    locked: false,
    active_lock_reason: null,
    comments: 0,
    pull_request: undefined,
    closed_at: null,
    created_at: '2026-11-28T00:00:00Z',
    updated_at: '2026-11-28T00:00:00Z',
    author_association: 'NONE',
  };
}

function teamJson(org: string, slug: string, members: number, baseUrl: string) {
  const id = [...`${org}/${slug}`].reduce((h, c) => (h * 31 + c.charCodeAt(0)) % 1_000_000, 11);
  const o = `${baseUrl}/orgs/${org}`;
  const t = `${baseUrl}/organizations/1/team/${id}`;
  return {
    id,
    node_id: `T_${id}`,
    url: t,
    members_url: `${t}/members{/member}`,
    name: slug,
    slug,
    description: null,
    privacy: 'closed',
    permission: 'pull',
    html_url: `https://github.example/orgs/${org}/teams/${slug}`,
    repositories_url: `${t}/repos`,
    type: 'organization',
    created_at: '2020-01-01T00:00:00Z',
    updated_at: '2020-01-01T00:00:00Z',
    members_count: members,
    repos_count: 0,
    organization: {
      login: org,
      id: 1,
      node_id: 'O_1',
      url: o,
      repos_url: `${o}/repos`,
      events_url: `${o}/events`,
      hooks_url: `${o}/hooks`,
      issues_url: `${o}/issues`,
      members_url: `${o}/members{/member}`,
      public_members_url: `${o}/public_members{/member}`,
      avatar_url: 'https://avatars.example/o/1',
      description: null,
      html_url: `https://github.example/${org}`,
      has_organization_projects: true,
      has_repository_projects: true,
      public_repos: 0,
      public_gists: 0,
      followers: 0,
      following: 0,
      type: 'Organization',
      created_at: '2020-01-01T00:00:00Z',
      updated_at: '2020-01-01T00:00:00Z',
      archived_at: null,
    },
  };
}

function defaultHandlers(): Record<string, Handler> {
  const now = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  const repoOf = (ctx: HandlerContext) => `${ctx.op.params.owner}/${ctx.op.params.repo}`;
  return {
    'teams/list-members-in-org': (ctx) => {
      const role = ctx.query.get('role') ?? 'all';
      const members = [...ctx.server.team(`${ctx.op.params.org}/${ctx.op.params.team_slug}`).values()]
        .filter((m) => role === 'all' || m.role === role)
        .map((m) => simpleUser(m.login, 'User', ctx.baseUrl));
      return page(members, ctx.query, ctx);
    },
    'users/get-by-username': (ctx) => {
      const login = ctx.op.params.username!;
      if (ctx.server.unknownUsers.has(login.toLowerCase())) return notFound;
      const base = simpleUser(login, 'User', ctx.baseUrl);
      const id = ctx.server.accountIds.get(login.toLowerCase()) ?? base.id;
      return {
        status: 200,
        body: {
          ...base,
          id,
          name: null,
          company: null,
          blog: null,
          location: null,
          email: null,
          hireable: null,
          bio: null,
          public_repos: 0,
          public_gists: 0,
          followers: 0,
          following: 0,
          created_at: '2020-01-01T00:00:00Z',
          updated_at: '2020-01-01T00:00:00Z',
        },
      };
    },
    'teams/get-by-name': (ctx) => {
      const { org = '', team_slug: slug = '' } = ctx.op.params;
      const members = ctx.server.teams.get(`${org}/${slug}`);
      return members ? { status: 200, body: teamJson(org, slug, members.size, ctx.baseUrl) } : notFound;
    },
    'teams/get-membership-for-user-in-org': (ctx) => {
      // Reading does not create the team: a team no test made is one the token cannot see.
      const m = ctx.server.teams
        .get(`${ctx.op.params.org}/${ctx.op.params.team_slug}`)
        ?.get(ctx.op.params.username!.toLowerCase());
      return m ? { status: 200, body: { url: `${ctx.baseUrl}/x`, role: m.role, state: 'active' } } : notFound;
    },
    'teams/add-or-update-membership-for-user-in-org': (ctx) => {
      const login = ctx.op.params.username!;
      if (ctx.server.unknownUsers.has(login.toLowerCase()))
        return unprocessable(`user ${login} does not exist`);
      const role = (ctx.body as { role?: 'member' | 'maintainer' }).role ?? 'member';
      ctx.server
        .team(`${ctx.op.params.org}/${ctx.op.params.team_slug}`)
        .set(login.toLowerCase(), { login, role });
      return { status: 200, body: { url: `${ctx.baseUrl}/x`, role, state: 'active' } };
    },
    'teams/remove-membership-for-user-in-org': (ctx) => {
      ctx.server
        .team(`${ctx.op.params.org}/${ctx.op.params.team_slug}`)
        .delete(ctx.op.params.username!.toLowerCase());
      return { status: 204 };
    },
    'repos/list-collaborators': (ctx) =>
      page(
        [...ctx.server.repoCollaborators(repoOf(ctx)).values()].map((c) => ({
          ...simpleUser(c.login, 'User', ctx.baseUrl),
          permissions: permissions(c.permission),
          role_name: PERMISSION_ROLE[c.permission] ?? c.permission,
        })),
        ctx.query,
        ctx,
      ),
    'repos/add-collaborator': (ctx) => {
      const full = repoOf(ctx);
      const login = ctx.op.params.username!;
      if (ctx.server.unknownUsers.has(login.toLowerCase()))
        return unprocessable(`user ${login} does not exist`);
      const permission = (ctx.body as { permission?: string } | undefined)?.permission ?? 'push';
      const existing = ctx.server.repoCollaborators(full).get(login.toLowerCase());
      if (existing) {
        existing.permission = permission;
        return { status: 204 };
      }
      const invs = ctx.server.repoInvitations(full);
      let inv = invs.find((i) => i.login.toLowerCase() === login.toLowerCase());
      if (inv) inv.permission = permission;
      else invs.push((inv = { id: nextId++, login, permission }));
      return { status: 201, body: invitationJson(inv, full, ctx.baseUrl) };
    },
    'repos/remove-collaborator': (ctx) => {
      ctx.server.repoCollaborators(repoOf(ctx)).delete(ctx.op.params.username!.toLowerCase());
      return { status: 204 };
    },
    'repos/list-invitations': (ctx) =>
      page(
        ctx.server.repoInvitations(repoOf(ctx)).map((i) => invitationJson(i, repoOf(ctx), ctx.baseUrl)),
        ctx.query,
        ctx,
      ),
    'repos/delete-invitation': (ctx) => {
      const list = ctx.server.repoInvitations(repoOf(ctx));
      const i = list.findIndex((x) => x.id === Number(ctx.op.params.invitation_id));
      if (i >= 0) list.splice(i, 1);
      return { status: 204 };
    },
    'repos/list-pull-requests-associated-with-commit': (ctx) => {
      const sha = ctx.op.params.commit_sha!;
      const list = ctx.server
        .repoPulls(repoOf(ctx))
        .filter((p) => p.commits.includes(sha) || p.mergeCommitSha === sha);
      return page(
        list.map((p) => pullJson(p, repoOf(ctx), ctx.baseUrl)),
        ctx.query,
        ctx,
      );
    },
    'pulls/list-reviews': (ctx) => {
      // A PR the test did not register exists without reviews.
      const pr = ctx.server
        .repoPulls(repoOf(ctx))
        .find((p) => p.number === Number(ctx.op.params.pull_number)) ?? {
        number: Number(ctx.op.params.pull_number),
        reviews: [],
      };
      const u = `${ctx.baseUrl}/repos/${repoOf(ctx)}/pulls/${pr.number}`;
      return page(
        pr.reviews.map((r, i) => ({
          id: i + 1,
          node_id: `PRR_${i}`,
          user: simpleUser(r.user, 'User', ctx.baseUrl),
          body: '',
          state: r.state,
          commit_id: r.commitId,
          html_url: `${u}#review-${i}`,
          pull_request_url: u,
          _links: { html: { href: u }, pull_request: { href: u } },
          author_association: 'MEMBER',
          submitted_at: '2026-11-28T00:00:00Z',
        })),
        ctx.query,
        ctx,
      );
    },
    'git/get-tree': (ctx) => {
      const tree = ctx.server.trees.get(ctx.op.params.tree_sha!);
      if (!tree) return notFound;
      return {
        status: 200,
        body: {
          sha: ctx.op.params.tree_sha,
          url: `${ctx.baseUrl}/repos/${repoOf(ctx)}/git/trees/${ctx.op.params.tree_sha}`,
          truncated: false,
          tree: [...tree].map(([path, sha]) => ({
            path,
            mode: '100644',
            type: 'blob',
            sha,
            size: 1,
            url: `${ctx.baseUrl}/blobs/${sha}`,
          })),
        },
      };
    },
    'pulls/list': (ctx) => {
      const head = ctx.query.get('head');
      const base = ctx.query.get('base');
      const state = ctx.query.get('state') ?? 'open';
      const list = (ctx.server.openPulls.get(repoOf(ctx)) ?? []).filter(
        (p) =>
          (state === 'all' || p.state === state) &&
          (!head || `${ctx.op.params.owner}:${p.head}` === head) &&
          (!base || p.base === base),
      );
      return page(
        list.map((p) => openPullJson(p, repoOf(ctx), ctx.baseUrl, false)),
        ctx.query,
        ctx,
      );
    },
    'pulls/create': (ctx) => {
      const b = ctx.body as { head: string; base: string; title: string; body?: string };
      const list = ctx.server.openPulls.get(repoOf(ctx)) ?? [];
      ctx.server.openPulls.set(repoOf(ctx), list);
      const pr: FakeOpenPull = {
        number: 100 + list.length,
        head: b.head,
        base: b.base,
        title: b.title,
        body: b.body ?? '',
        state: 'open',
      };
      list.push(pr);
      return { status: 201, body: openPullJson(pr, repoOf(ctx), ctx.baseUrl, true) };
    },
    'pulls/update': (ctx) => {
      const pr = (ctx.server.openPulls.get(repoOf(ctx)) ?? []).find(
        (p) => p.number === Number(ctx.op.params.pull_number),
      );
      if (!pr) return notFound;
      const b = ctx.body as { title?: string; body?: string };
      if (b.title !== undefined) pr.title = b.title;
      if (b.body !== undefined) pr.body = b.body;
      return { status: 200, body: openPullJson(pr, repoOf(ctx), ctx.baseUrl, true) };
    },
    'issues/list-for-repo': (ctx) => {
      const state = ctx.query.get('state') ?? 'open';
      const labels = (ctx.query.get('labels') ?? '').split(',').filter(Boolean);
      const list = ctx.server
        .repoIssues(repoOf(ctx))
        .filter((i) => (state === 'all' || i.state === state) && labels.every((l) => i.labels.includes(l)));
      return page(
        list.map((i) => issueJson(i, repoOf(ctx), ctx.baseUrl)),
        ctx.query,
        ctx,
      );
    },
    'issues/create': (ctx) => {
      const b = ctx.body as { title: string; body?: string; labels?: string[] };
      const list = ctx.server.repoIssues(repoOf(ctx));
      const issue: FakeIssue = {
        number: list.length + 1,
        title: b.title,
        body: b.body ?? '',
        state: 'open',
        labels: b.labels ?? [],
      };
      list.push(issue);
      return { status: 201, body: issueJson(issue, repoOf(ctx), ctx.baseUrl) };
    },
    'issues/update': (ctx) => {
      const issue = ctx.server
        .repoIssues(repoOf(ctx))
        .find((i) => i.number === Number(ctx.op.params.issue_number));
      if (!issue) return notFound;
      const b = ctx.body as { title?: string; body?: string; state?: 'open' | 'closed' };
      if (b.title !== undefined) issue.title = b.title;
      if (b.body !== undefined) issue.body = b.body;
      if (b.state) issue.state = b.state;
      return { status: 200, body: issueJson(issue, repoOf(ctx), ctx.baseUrl) };
    },
    'issues/list-comments': (ctx) => {
      const { owner, repo, issue_number } = ctx.op.params;
      const full = `${owner}/${repo}`;
      const list = ctx.server.commentsOn(full, Number(issue_number));
      return page(
        list.map((c) => commentJson(c, full, Number(issue_number), ctx.baseUrl)),
        ctx.query,
        ctx,
      );
    },
    'issues/create-comment': (ctx) => {
      const { owner, repo, issue_number } = ctx.op.params;
      const full = `${owner}/${repo}`;
      const c: StoredComment = {
        id: nextId++,
        body: String((ctx.body as { body: string }).body),
        user: ctx.server.actor.login,
        userType: ctx.server.actor.type,
        created_at: now(),
        updated_at: now(),
      };
      ctx.server.commentsOn(full, Number(issue_number)).push(c);
      return { status: 201, body: commentJson(c, full, Number(issue_number), ctx.baseUrl) };
    },
    'issues/update-comment': (ctx) => {
      const { owner, repo, comment_id } = ctx.op.params;
      const full = `${owner}/${repo}`;
      for (const [key, list] of ctx.server.comments) {
        if (!key.startsWith(`${full}#`)) continue;
        const c = list.find((x) => x.id === Number(comment_id));
        if (c) {
          c.body = String((ctx.body as { body: string }).body);
          c.updated_at = now();
          return { status: 200, body: commentJson(c, full, Number(key.split('#')[1]), ctx.baseUrl) };
        }
      }
      return {
        status: 404,
        body: { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' },
      };
    },
  };
}
