import { commentJson } from '../json/pulls.js';
import { nextId, type StoredComment } from '../state.js';
import { notFound, now, page, type Handler } from './context.js';

/** Issue comments. */
export const commentHandlers: Record<string, Handler> = {
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
      id: nextId(),
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
    return notFound;
  },
};
