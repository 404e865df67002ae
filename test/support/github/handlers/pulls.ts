import { openPullJson, prCommitJson, pullJson } from '../json/pulls.js';
import { simpleUser } from '../json/repos.js';
import type { FakeOpenPull } from '../state.js';
import { execFileSync } from 'node:child_process';
import { notFound, page, repoOf, unprocessable, type Handler } from './context.js';

function branchTip(dir: string | undefined, branch: string): string | undefined {
  if (!dir) return undefined;
  try {
    return execFileSync('git', ['rev-parse', '--verify', '-q', `refs/heads/${branch}^{commit}`], {
      cwd: dir,
      encoding: 'utf8',
    }).trim();
  } catch {
    return undefined;
  }
}
const branchExists = (dir: string, branch: string) => branchTip(dir, branch) !== undefined;

/** Pull requests: merged ones with their reviews, and those opened through the API. */
export const pullHandlers: Record<string, Handler> = {
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
  'pulls/list-commits': (ctx) => {
    // A PR the test did not register exists without commits.
    const pr = ctx.server.repoPulls(repoOf(ctx)).find((p) => p.number === Number(ctx.op.params.pull_number));
    if (!pr) return page([], ctx.query, ctx);
    const shas = [...new Set(pr.commits.filter((c) => c !== pr.mergeCommitSha))];
    return page(
      (shas.length > 0 ? shas : [pr.headSha]).map((sha) => {
        const who = pr.commitAuthors?.[sha] ?? { author: pr.author, committer: pr.author };
        return prCommitJson(repoOf(ctx), sha, who, ctx.baseUrl);
      }),
      ctx.query,
      ctx,
    );
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
    const dir = ctx.server.gitRepos.get(repoOf(ctx));
    return page(
      list.map((p) => openPullJson(p, repoOf(ctx), ctx.baseUrl, false, branchTip(dir, p.head))),
      ctx.query,
      ctx,
    );
  },
  'pulls/create': (ctx) => {
    const b = ctx.body as { head: string; base: string; title: string; body?: string };
    const dir = ctx.server.gitRepos.get(repoOf(ctx));
    // With a real repository behind it, both branches must exist, as on GitHub.
    if (dir && !(branchExists(dir, b.head) && branchExists(dir, b.base)))
      return unprocessable(`head ${b.head} or base ${b.base} is not a branch`);
    const list = ctx.server.openPulls.get(repoOf(ctx)) ?? [];
    ctx.server.openPulls.set(repoOf(ctx), list);
    const pr: FakeOpenPull = {
      number: 100 + list.length,
      head: b.head,
      base: b.base,
      title: b.title,
      body: b.body ?? '',
      state: 'open',
      author: ctx.server.actor.login,
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
};
