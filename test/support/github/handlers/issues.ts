import { issueJson } from '../json/pulls.js';
import type { FakeIssue } from '../state.js';
import { notFound, now, page, repoOf, type Handler } from './context.js';

/** Issues. */
export const issueHandlers: Record<string, Handler> = {
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
      user: ctx.server.actor.login,
      userType: ctx.server.actor.type,
      created_at: ctx.server.issueClock?.() ?? now(),
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
};
