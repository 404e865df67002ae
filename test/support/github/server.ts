import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { OpenApi } from '../openapi.js';
import { defaultHandlers } from './handlers/index.js';
import type { Handler, Reply } from './handlers/context.js';
import { GitHubState } from './state.js';

export type { Reply } from './handlers/context.js';

/**
 * A local stand-in for api.github.com: speaks the REST endpoints grantops uses, keeps their state in
 * memory (GitHubState), and checks every request and response against GitHub's OpenAPI
 * description. Reached through GITHUB_API_URL exactly as GitHub is in production. This file is the
 * HTTP plumbing: authentication, latency, the concurrency limit, faults and hangs, the request
 * log and the OpenAPI checks; the endpoints themselves are in handlers/.
 */
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

export class FakeGitHub extends GitHubState {
  readonly violations: string[] = [];
  readonly requests: RecordedRequest[] = [];
  private readonly faults: Fault[] = [];
  private readonly hangs: Hang[] = [];
  /** Requests in flight now, the most seen at once, and how many were refused for it. */
  inFlight = 0;
  peakInFlight = 0;
  secondaryLimited = 0;
  /** Like GitHub's secondary limit on concurrent requests (100): over it, 403 with retry-after. */
  maxConcurrent = 100;
  /**
   * When set, every answer carries GitHub's primary rate-limit headers, `remaining` counting down
   * by one per request (GitHub counts every request, failed ones included).
   */
  rateLimit: { limit: number; remaining: number; resetEpochSeconds: number } | undefined;
  private readonly handlers: Record<string, Handler> = defaultHandlers();
  private server!: Server;
  url = '';

  private constructor(
    readonly token: string,
    readonly latencyMs: number,
    /** Login the token authenticates as (GITHUB_TOKEN is github-actions[bot]). */
    readonly actor: { login: string; type: 'User' | 'Bot' },
  ) {
    super();
  }

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

  private rateLimitHeaders(): Record<string, string> {
    const rl = this.rateLimit;
    if (!rl) return {};
    rl.remaining = Math.max(0, rl.remaining - 1);
    return {
      'x-ratelimit-limit': String(rl.limit),
      'x-ratelimit-remaining': String(rl.remaining),
      'x-ratelimit-used': String(rl.limit - rl.remaining),
      'x-ratelimit-reset': String(rl.resetEpochSeconds),
      'x-ratelimit-resource': 'core',
    };
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
      res.writeHead(reply.status, {
        'content-type': 'application/json; charset=utf-8',
        ...this.rateLimitHeaders(),
        ...reply.headers,
      });
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
