import { simpleUser } from '../json/repos.js';
import { notFound, type Handler, type HandlerContext } from './context.js';

/** User lookups. */
export const userHandlers: Record<string, Handler> = {
  'users/get-authenticated': (ctx) => {
    // An installation token (GITHUB_TOKEN) may not ask who it is.
    if (ctx.server.actor.type === 'Bot')
      return {
        status: 403,
        body: {
          message: 'Resource not accessible by integration',
          documentation_url: 'https://docs.github.com/rest/users/users#get-the-authenticated-user',
        },
      };
    return { status: 200, body: userJson(ctx.server.actor.login, ctx) };
  },
  'users/get-by-username': (ctx) => {
    const login = ctx.op.params.username!;
    if (ctx.server.unknownUsers.has(login.toLowerCase())) return notFound;
    return { status: 200, body: userJson(login, ctx) };
  },
};

function userJson(login: string, ctx: HandlerContext) {
  const base = simpleUser(login, 'User', ctx.baseUrl);
  return {
    ...base,
    id: ctx.server.accountIds.get(login.toLowerCase()) ?? base.id,
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
  };
}
