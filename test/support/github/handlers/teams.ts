import { simpleUser, teamJson } from '../json/repos.js';
import { notFound, page, unprocessable, type Handler } from './context.js';

/** Team lookups and memberships. */
export const teamHandlers: Record<string, Handler> = {
  'teams/list-members-in-org': (ctx) => {
    const role = ctx.query.get('role') ?? 'all';
    const members = [...ctx.server.team(`${ctx.op.params.org}/${ctx.op.params.team_slug}`).values()]
      .filter((m) => role === 'all' || m.role === role)
      .map((m) => simpleUser(m.login, 'User', ctx.baseUrl));
    return page(members, ctx.query, ctx);
  },
  'teams/get-by-name': (ctx) => {
    const { org = '', team_slug: slug = '' } = ctx.op.params;
    const members = ctx.server.teams.get(`${org}/${slug}`);
    return members ? { status: 200, body: teamJson(org, slug, members.size, ctx.baseUrl) } : notFound;
  },
  'teams/get-membership-for-user-in-org': (ctx) => {
    // Reading does not create the team: a team no test made is one the token cannot see.
    const m = ctx.server.teams
      .get(`${ctx.op.params.org}/${ctx.op.params.team_slug}`)
      ?.get(ctx.op.params.username!.toLowerCase());
    return m ? { status: 200, body: { url: `${ctx.baseUrl}/x`, role: m.role, state: 'active' } } : notFound;
  },
  'teams/add-or-update-membership-for-user-in-org': (ctx) => {
    const login = ctx.op.params.username!;
    if (ctx.server.unknownUsers.has(login.toLowerCase()))
      return unprocessable(`user ${login} does not exist`);
    const role = (ctx.body as { role?: 'member' | 'maintainer' }).role ?? 'member';
    ctx.server
      .team(`${ctx.op.params.org}/${ctx.op.params.team_slug}`)
      .set(login.toLowerCase(), { login, role });
    return { status: 200, body: { url: `${ctx.baseUrl}/x`, role, state: 'active' } };
  },
  'teams/remove-membership-for-user-in-org': (ctx) => {
    ctx.server
      .team(`${ctx.op.params.org}/${ctx.op.params.team_slug}`)
      .delete(ctx.op.params.username!.toLowerCase());
    return { status: 204 };
  },
};
