import { simpleUser } from '../json/repos.js';
import { notFound, type Handler, type HandlerContext } from './context.js';

/** User lookups. */
export const userHandlers: Record<string, Handler> = {
  // As GitHub: an installation token (Actions' GITHUB_TOKEN, a Bot) may not read /user.
  'users/get-authenticated': (ctx) => {
    const { login, type } = ctx.server.actor;
    if (type === 'Bot')
      return {
        status: 403,
        body: {
          message: 'Resource not accessible by integration',
          documentation_url: 'https://docs.github.com/rest/users/users#get-the-authenticated-user',
        },
      };
    return { status: 200, body: profile(ctx, login) };
  },
  'users/get-by-username': (ctx) => {
    const login = ctx.op.params.username!;
    if (ctx.server.unknownUsers.has(login.toLowerCase())) return notFound;
    return { status: 200, body: profile(ctx, login) };
  },
};

function profile(ctx: HandlerContext, login: string) {
  const base = simpleUser(login, 'User', ctx.baseUrl);
  const id = ctx.server.accountIds.get(login.toLowerCase()) ?? base.id;
  return {
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
  };
}
