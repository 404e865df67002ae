import { RequestError } from '@octokit/request-error';

/**
 * Retry and rate-limit handling for every GitHub request of one client, in place of
 * @octokit/plugin-retry and @octokit/plugin-throttling. Those put every request through three
 * Bottleneck jobs (four for a write), and each job waits on several `setTimeout(0)` yields in
 * Bottleneck's local datastore: 18 ms per call at 50 ms latency, measured in `npm run bench`
 * (BENCH_ONLY=github). Here a request GitHub is not close to limiting goes straight out: the
 * concurrency caps cost nothing while a slot is free, and the limiter (one request at a time, writes
 * a second apart) is engaged only while the rate-limit headers come near the limit or after a
 * secondary rate limit. What the plugins did and this keeps: 5xx, timeouts and the other retryable
 * statuses retried after 1, 4, 9 s; secondary limits (403/429) waited out as retry-after says (60 s
 * without it); a spent primary limit waited out until its reset; writes that notify people spaced a
 * second apart (GitHub's content-creation limit has no headers to watch).
 */
export interface ThrottleOptions {
  /** Retries of one request, whatever made it fail. */
  maxRetries: number;
  /** Mutating requests in flight at once. */
  writeConcurrency: number;
  /** Pause between mutating requests, in ms, always (0: only while the limiter is engaged). */
  writeSpacingMs: number;
  log: (message: string) => void;
}

/** What the client did, for tests and debugging: requests sent straight out or through the limiter. */
export interface ThrottleStats {
  direct: number;
  limited: number;
  retries: number;
}

interface RequestOptions {
  method: string;
  url: string;
}

/** All requests of one client in flight at once: far below GitHub's 100 concurrent. */
const MAX_IN_FLIGHT = 16;
/** The limiter engages below this share of the primary limit left in its window. */
const LOW_REMAINING_FRACTION = 0.1;
/** How long the limiter stays engaged after a secondary rate limit has been waited out. */
const SECONDARY_COOLDOWN_MS = 60_000;
/** GitHub: "wait at least one second between each request" for many writes, and near any limit. */
const ENGAGED_WRITE_SPACING_MS = 1000;
const NOTIFICATION_SPACING_MS = 1000;
/** Statuses plugin-retry does not retry; every other status of 400 and above is retried. */
const DO_NOT_RETRY = new Set([400, 401, 403, 404, 410, 422, 451]);

// GitHub's requests that notify people (plugin-throttling's generated list), as path templates.
const NOTIFYING = new RegExp(
  `^(?:${[
    '/orgs/{}/invitations(?:/{})?',
    '/orgs/{}/teams/{}/discussions(?:/{}/comments)?',
    '/repos/{}/{}/collaborators/{}',
    '/repos/{}/{}/commits/{}/comments',
    '/repos/{}/{}/issues(?:/{}/comments|/{}/sub_issue|/{}/sub_issues/priority)?',
    '/repos/{}/{}/pulls(?:/{}/comments(?:/{}/replies)?|/{}/merge|/{}/requested_reviewers|/{}/reviews)?',
    '/repos/{}/{}/releases',
    '/teams/{}/discussions(?:/{}/comments)?',
  ]
    .join('|')
    .replaceAll('{}', '[^/]+')})$`,
);

/** A counting semaphore whose acquire takes no turn of the event loop while a slot is free. */
class Slots {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly max: number) {}
  acquire(): Promise<void> | undefined {
    if (this.active < this.max) {
      this.active++;
      return undefined;
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active--;
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const header = (headers: unknown, name: string): string | undefined => {
  const v = (headers as Record<string, unknown> | undefined)?.[name];
  return typeof v === 'string' || typeof v === 'number' ? String(v) : undefined;
};

/** One client's view of GitHub's limits, and the hook every request of that client goes through. */
export class GitHubThrottle {
  readonly stats: ThrottleStats = { direct: 0, limited: 0, retries: 0 };
  private readonly all = new Slots(MAX_IN_FLIGHT);
  private readonly writes: Slots;
  private readonly engagedSlot = new Slots(1);
  private remaining: number | undefined;
  private limit: number | undefined;
  private resetAt = 0;
  /** Nothing is sent before this instant (a secondary limit's retry-after, a spent primary limit). */
  private pausedUntil = 0;
  private engagedUntil = 0;
  private nextWriteAt = 0;
  private nextNotificationAt = 0;

  constructor(private readonly opts: ThrottleOptions) {
    this.writes = new Slots(Math.max(1, opts.writeConcurrency));
  }

  /** Whether requests go through the limiter now: a limit is near or was just hit. */
  engaged(now = Date.now()): boolean {
    if (now < this.engagedUntil || now < this.pausedUntil) return true;
    if (this.remaining === undefined || this.limit === undefined || now >= this.resetAt) return false;
    return this.remaining < this.limit * LOW_REMAINING_FRACTION;
  }

  /** Sends one request with its retries; the body of octokit's `hook.wrap('request', …)`. */
  async request<O extends RequestOptions, R>(send: (options: O) => R | Promise<R>, options: O): Promise<R> {
    for (let attempt = 0; ; attempt++) {
      try {
        const res = await this.attempt(send, options);
        this.observe((res as { headers?: unknown } | undefined)?.headers);
        return res;
      } catch (err) {
        const waitMs = this.retryDelay(err, options, attempt);
        if (waitMs === undefined) throw err;
        this.stats.retries++;
        await sleep(waitMs);
      }
    }
  }

  private async attempt<O extends RequestOptions, R>(
    send: (options: O) => R | Promise<R>,
    options: O,
  ): Promise<R> {
    const method = options.method.toUpperCase();
    const isWrite = method !== 'GET' && method !== 'HEAD';
    const path = new URL(options.url, 'http://github.test').pathname;
    const notifies = isWrite && NOTIFYING.test(decodeURIComponent(path));
    if (isWrite) await this.writes.acquire();
    await this.all.acquire();
    const engaged = this.engaged();
    try {
      if (engaged) {
        this.stats.limited++;
        await this.engagedSlot.acquire();
      } else this.stats.direct++;
      try {
        if (engaged && this.pausedUntil > Date.now()) await sleep(this.pausedUntil - Date.now());
        if (isWrite) {
          const spacing = Math.max(this.opts.writeSpacingMs, engaged ? ENGAGED_WRITE_SPACING_MS : 0);
          await this.space('nextWriteAt', spacing);
        }
        if (notifies)
          await this.space('nextNotificationAt', Math.max(this.opts.writeSpacingMs, NOTIFICATION_SPACING_MS));
        return await send(options);
      } finally {
        if (engaged) this.engagedSlot.release();
      }
    } finally {
      this.all.release();
      if (isWrite) this.writes.release();
    }
  }

  /** Waits for this kind of request's turn, `spacingMs` after the last; no timer when it is due. */
  private async space(key: 'nextWriteAt' | 'nextNotificationAt', spacingMs: number): Promise<void> {
    if (spacingMs <= 0) return;
    const now = Date.now();
    const at = Math.max(now, this[key]);
    this[key] = at + spacingMs;
    if (at > now) await sleep(at - now);
  }

  private observe(headers: unknown): void {
    const remaining = header(headers, 'x-ratelimit-remaining');
    if (remaining === undefined) return;
    this.remaining = Number(remaining);
    this.limit = Number(header(headers, 'x-ratelimit-limit') ?? this.limit ?? 5000);
    this.resetAt = Number(header(headers, 'x-ratelimit-reset') ?? 0) * 1000;
  }

  /** How long to wait before retrying `err`, or undefined to give up on it. */
  private retryDelay(err: unknown, options: RequestOptions, attempt: number): number | undefined {
    if (!(err instanceof RequestError)) return undefined;
    const headers = err.response?.headers;
    this.observe(headers);
    const what = `${options.method} ${options.url}`;
    const retryAfter = Number(header(headers, 'retry-after'));
    const now = Date.now();
    if ((err.status === 403 || err.status === 429) && /\bsecondary rate\b/i.test(err.message)) {
      const ms = (retryAfter > 0 ? retryAfter : 60) * 1000;
      this.pausedUntil = Math.max(this.pausedUntil, now + ms);
      this.engagedUntil = Math.max(this.engagedUntil, now + ms + SECONDARY_COOLDOWN_MS);
      this.opts.log(`secondary rate limit on ${what}; retry ${attempt + 1} in ${ms / 1000}s`);
      return attempt < this.opts.maxRetries ? ms : undefined;
    }
    if ((err.status === 403 || err.status === 429) && header(headers, 'x-ratelimit-remaining') === '0') {
      const ms = Math.max(this.resetAt - now + 1000, 0);
      this.pausedUntil = Math.max(this.pausedUntil, now + ms);
      this.opts.log(`rate limit on ${what}; retry ${attempt + 1} in ${Math.ceil(ms / 1000)}s`);
      return attempt < this.opts.maxRetries ? ms : undefined;
    }
    if (err.status < 400 || DO_NOT_RETRY.has(err.status) || attempt >= this.opts.maxRetries) return undefined;
    return (retryAfter > 0 ? retryAfter : (attempt + 1) ** 2) * 1000;
  }
}
