import { notFound, repoOf, type Handler } from './context.js';

/** Git data: trees. */
export const gitHandlers: Record<string, Handler> = {
  'git/get-tree': (ctx) => {
    const tree = ctx.server.trees.get(ctx.op.params.tree_sha!);
    if (!tree) return notFound;
    return {
      status: 200,
      body: {
        sha: ctx.op.params.tree_sha,
        url: `${ctx.baseUrl}/repos/${repoOf(ctx)}/git/trees/${ctx.op.params.tree_sha}`,
        truncated: false,
        tree: [...tree].map(([path, sha]) => ({
          path,
          mode: '100644',
          type: 'blob',
          sha,
          size: 1,
          url: `${ctx.baseUrl}/blobs/${sha}`,
        })),
      },
    };
  },
};
