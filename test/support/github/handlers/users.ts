import { simpleUser } from '../json/repos.js';
import { notFound, type Handler } from './context.js';

/** User lookups. */
export const userHandlers: Record<string, Handler> = {
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
};
