import type { MatchedOperation } from '../../openapi.js';
import type { FakeGitHub } from '../server.js';

/** What a route handler gets and answers, and the answers several of them share. */
export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}
export interface HandlerContext {
  op: MatchedOperation;
  body: unknown;
  query: URLSearchParams;
  server: FakeGitHub;
  baseUrl: string;
}
export type Handler = (ctx: HandlerContext) => Reply;

/** `owner/repo` of a repository-scoped operation. */
export const repoOf = (ctx: HandlerContext): string => `${ctx.op.params.owner}/${ctx.op.params.repo}`;

/** Now, to the second, as GitHub writes timestamps. */
export const now = (): string => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

export function page<T>(items: T[], query: URLSearchParams, ctx: HandlerContext): Reply {
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

export const notFound: Reply = {
  status: 404,
  body: { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' },
};
export const unprocessable = (message: string): Reply => ({
  status: 422,
  body: {
    message: 'Validation Failed',
    errors: [{ resource: 'User', code: 'invalid', message }],
    documentation_url: 'https://docs.github.com/rest',
  },
});
