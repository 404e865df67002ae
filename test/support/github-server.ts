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

export interface RecordedRequest {
  method: string;
  path: string;
  operationId: string;
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

export class FakeGitHub {
  readonly violations: string[] = [];
  readonly requests: RecordedRequest[] = [];
  /** Comments by `owner/repo#number`. */
  readonly comments = new Map<string, StoredComment[]>();
  private readonly faults: Fault[] = [];
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
    for (const p of op.validateRequest(body, url.searchParams)) {
      this.violations.push(`${op.operationId}: ${p}`);
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
    const reply = handler({ op, body, query: url.searchParams, server: this, baseUrl: this.url });
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

function defaultHandlers(): Record<string, Handler> {
  const now = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  return {
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
