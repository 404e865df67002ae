import { lsTree } from './git-data.js';
import { notFound, repoOf, type Handler } from './context.js';

/** Git data: trees, from the trees a test seeded or else from the repository's bare repo. */
export const gitHandlers: Record<string, Handler> = {
  'git/get-tree': (ctx) => {
    const sha = ctx.op.params.tree_sha!;
    const url = `${ctx.baseUrl}/repos/${repoOf(ctx)}/git/trees/${sha}`;
    const tree = ctx.server.trees.get(sha);
    if (!tree) {
      const dir = ctx.server.gitRepos.get(repoOf(ctx));
      if (!dir) return notFound;
      let entries;
      try {
        entries = lsTree(dir, sha, ['1', 'true'].includes(ctx.query.get('recursive') ?? ''));
      } catch {
        return notFound;
      }
      return {
        status: 200,
        body: {
          sha,
          url,
          truncated: false,
          tree: entries.map((e) => ({
            ...e,
            url: `${ctx.baseUrl}/repos/${repoOf(ctx)}/git/${e.type}s/${e.sha}`,
          })),
        },
      };
    }
    return {
      status: 200,
      body: {
        sha,
        url,
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
