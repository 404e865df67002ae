import { PERMISSION_ROLE, invitationJson, permissions, simpleUser } from '../json/repos.js';
import { nextId } from '../state.js';
import { page, repoOf, unprocessable, type Handler } from './context.js';

/** Repository collaborators and their invitations. */
export const collaboratorHandlers: Record<string, Handler> = {
  'repos/list-collaborators': (ctx) =>
    page(
      [...ctx.server.repoCollaborators(repoOf(ctx)).values()].map((c) => ({
        ...simpleUser(c.login, 'User', ctx.baseUrl),
        permissions: permissions(c.permission),
        role_name: PERMISSION_ROLE[c.permission] ?? c.permission,
      })),
      ctx.query,
      ctx,
    ),
  'repos/add-collaborator': (ctx) => {
    const full = repoOf(ctx);
    const login = ctx.op.params.username!;
    if (ctx.server.unknownUsers.has(login.toLowerCase()))
      return unprocessable(`user ${login} does not exist`);
    const permission = (ctx.body as { permission?: string } | undefined)?.permission ?? 'push';
    const existing = ctx.server.repoCollaborators(full).get(login.toLowerCase());
    if (existing) {
      existing.permission = permission;
      return { status: 204 };
    }
    const invs = ctx.server.repoInvitations(full);
    let inv = invs.find((i) => i.login.toLowerCase() === login.toLowerCase());
    if (inv) inv.permission = permission;
    else invs.push((inv = { id: nextId(), login, permission }));
    return { status: 201, body: invitationJson(inv, full, ctx.baseUrl) };
  },
  'repos/remove-collaborator': (ctx) => {
    ctx.server.repoCollaborators(repoOf(ctx)).delete(ctx.op.params.username!.toLowerCase());
    return { status: 204 };
  },
  'repos/list-invitations': (ctx) =>
    page(
      ctx.server.repoInvitations(repoOf(ctx)).map((i) => invitationJson(i, repoOf(ctx), ctx.baseUrl)),
      ctx.query,
      ctx,
    ),
  'repos/delete-invitation': (ctx) => {
    const list = ctx.server.repoInvitations(repoOf(ctx));
    const i = list.findIndex((x) => x.id === Number(ctx.op.params.invitation_id));
    if (i >= 0) list.splice(i, 1);
    return { status: 204 };
  },
};
