import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commitJson, fullRepository, refJson, type CommitFacts } from '../json/git.js';
import { prCommitJson } from '../json/pulls.js';
import { notFound, repoOf, type Handler, type HandlerContext } from './context.js';

/**
 * The Git Data API (refs, commits, trees, blobs) over a real bare repository that a test registers
 * with `gitRepos.set('owner/repo', dir)`: a branch made through the API is a real branch a test can
 * clone, diff and validate. GitHub's dates are pinned, like every test commit.
 */
const PINNED_DATE = '2026-11-28T12:00:00Z';
const IDENT = { name: 'GitHub', email: 'noreply@github.example', date: PINNED_DATE };

function git(
  dir: string,
  args: string[],
  opts: { input?: string | Buffer; env?: Record<string, string> } = {},
) {
  return execFileSync('git', args, {
    cwd: dir,
    input: opts.input ?? '',
    env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', ...opts.env },
    maxBuffer: 64 * 1024 * 1024,
  });
}
const text = (b: Buffer) => b.toString('utf8').trim();

function bare(ctx: HandlerContext): string | undefined {
  return ctx.server.gitRepos.get(repoOf(ctx));
}

function resolve(dir: string, rev: string): string | undefined {
  try {
    return text(git(dir, ['rev-parse', '--verify', '-q', `${rev}^{commit}`]));
  } catch {
    return undefined;
  }
}

function isAncestor(dir: string, a: string, b: string): boolean {
  try {
    git(dir, ['merge-base', '--is-ancestor', a, b]);
    return true;
  } catch {
    return false;
  }
}

function objectType(dir: string, sha: string): string | undefined {
  try {
    return text(git(dir, ['cat-file', '-t', sha]));
  } catch {
    return undefined;
  }
}

function readCommit(dir: string, sha: string): CommitFacts {
  const raw = text(git(dir, ['cat-file', 'commit', sha]));
  const [head = '', ...rest] = raw.split('\n\n');
  const who = (line: string | undefined) => {
    const m = /^\w+ (.*) <(.*)> (\d+) [+-]\d{4}$/.exec(line ?? '');
    return {
      name: m?.[1] ?? '',
      email: m?.[2] ?? '',
      date: new Date(Number(m?.[3] ?? 0) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    };
  };
  const lines = head.split('\n');
  return {
    sha,
    tree: lines.find((l) => l.startsWith('tree '))!.slice(5),
    parents: lines.filter((l) => l.startsWith('parent ')).map((l) => l.slice(7)),
    author: who(lines.find((l) => l.startsWith('author '))),
    committer: who(lines.find((l) => l.startsWith('committer '))),
    message: rest.join('\n\n'),
  };
}

/** `git ls-tree -l` of a tree-ish, as GitHub's tree entries. */
export function lsTree(dir: string, treeish: string, recursive: boolean) {
  const out = git(dir, ['ls-tree', '-l', '-z', ...(recursive ? ['-r', '-t'] : []), treeish]).toString('utf8');
  return out
    .split('\0')
    .filter(Boolean)
    .map((line) => {
      const [meta = '', path = ''] = line.split('\t');
      const [mode = '', type = '', sha = '', size = '-'] = meta.split(/\s+/);
      return { path, mode, type, sha, ...(type === 'blob' ? { size: Number(size) } : {}) };
    });
}

const unprocessable = (message: string) => ({
  status: 422,
  body: { message, documentation_url: 'https://docs.github.com/rest' },
});

export const gitDataHandlers: Record<string, Handler> = {
  'repos/get': (ctx) => {
    const dir = bare(ctx);
    if (!dir) return notFound;
    const head = text(git(dir, ['symbolic-ref', '--short', 'HEAD']));
    return { status: 200, body: fullRepository(repoOf(ctx), head, ctx.baseUrl) };
  },
  'git/get-ref': (ctx) => {
    const dir = bare(ctx);
    const ref = `refs/${ctx.op.params.ref!}`;
    if (!dir) return notFound;
    try {
      const sha = text(git(dir, ['rev-parse', '--verify', '-q', `${ref}^{commit}`]));
      return { status: 200, body: refJson(repoOf(ctx), ref, sha, ctx.baseUrl) };
    } catch {
      return notFound;
    }
  },
  'git/create-ref': (ctx) => {
    const dir = bare(ctx);
    if (!dir) return notFound;
    const b = ctx.body as { ref: string; sha: string };
    if (!/^refs\/[^\s]+$/.test(b.ref) || b.ref.split('/').length < 3)
      return unprocessable('Reference name is invalid');
    if (objectType(dir, b.sha) !== 'commit') return unprocessable('Object does not exist');
    try {
      // The empty old value: create only, as GitHub does ("Reference already exists").
      git(dir, ['update-ref', b.ref, b.sha, '0000000000000000000000000000000000000000']);
    } catch {
      return unprocessable('Reference already exists');
    }
    return { status: 201, body: refJson(repoOf(ctx), b.ref, b.sha, ctx.baseUrl) };
  },
  'git/get-commit': (ctx) => {
    const dir = bare(ctx);
    const sha = ctx.op.params.commit_sha!;
    if (!dir || objectType(dir, sha) !== 'commit') return notFound;
    return { status: 200, body: commitJson(repoOf(ctx), readCommit(dir, sha), ctx.baseUrl) };
  },
  'git/create-commit': (ctx) => {
    const dir = bare(ctx);
    if (!dir) return notFound;
    const b = ctx.body as { message: string; tree: string; parents?: string[] };
    if (objectType(dir, b.tree) !== 'tree') return unprocessable('Tree SHA does not exist');
    for (const p of b.parents ?? [])
      if (objectType(dir, p) !== 'commit')
        return unprocessable('Parent SHA does not exist or is not a commit object');
    const env = {
      GIT_AUTHOR_NAME: IDENT.name,
      GIT_AUTHOR_EMAIL: IDENT.email,
      GIT_AUTHOR_DATE: PINNED_DATE,
      GIT_COMMITTER_NAME: IDENT.name,
      GIT_COMMITTER_EMAIL: IDENT.email,
      GIT_COMMITTER_DATE: PINNED_DATE,
    };
    const sha = text(
      git(dir, ['commit-tree', b.tree, ...(b.parents ?? []).flatMap((p) => ['-p', p]), '-F', '-'], {
        input: b.message,
        env,
      }),
    );
    // GitHub attributes a commit made through the API to the token's account.
    ctx.server.apiCommitAuthors.set(sha, ctx.server.actor.login);
    return { status: 201, body: commitJson(repoOf(ctx), readCommit(dir, sha), ctx.baseUrl) };
  },
  'git/update-ref': (ctx) => {
    const dir = bare(ctx);
    if (!dir) return notFound;
    const ref = `refs/${ctx.op.params.ref!}`;
    const b = ctx.body as { sha: string; force?: boolean };
    const old = resolve(dir, ref);
    if (!old) return unprocessable('Reference does not exist');
    if (objectType(dir, b.sha) !== 'commit') return unprocessable('Object does not exist');
    if (!b.force && !isAncestor(dir, old, b.sha)) return unprocessable('Update is not a fast forward');
    git(dir, ['update-ref', ref, b.sha, old]);
    return { status: 200, body: refJson(repoOf(ctx), ref, b.sha, ctx.baseUrl) };
  },
  'repos/compare-commits-with-basehead': (ctx) => {
    const dir = bare(ctx);
    const [baseRev = '', headRev = ''] = ctx.op.params.basehead!.split('...');
    const base = dir && resolve(dir, baseRev);
    const head = dir && resolve(dir, headRev);
    if (!dir || !base || !head) return notFound;
    const full = repoOf(ctx);
    // author and committer: the account GitHub maps them to; a commit pushed with git maps to none here.
    const json = (sha: string, parents: string[]) => {
      const login = ctx.server.apiCommitAuthors.get(sha) ?? null;
      const c = prCommitJson(full, sha, { author: login, committer: login }, ctx.baseUrl);
      return {
        ...c,
        parents: parents.map((p) => ({ sha: p, url: `${ctx.baseUrl}/repos/${full}/commits/${p}` })),
      };
    };
    const ahead = text(git(dir, ['rev-list', '--reverse', '--parents', `${base}..${head}`]))
      .split('\n')
      .filter(Boolean)
      .map((line) => line.split(' '));
    const behind = Number(text(git(dir, ['rev-list', '--count', `${head}..${base}`])));
    const mergeBase = text(git(dir, ['merge-base', base, head]));
    const u = `${ctx.baseUrl}/repos/${full}/compare/${baseRev}...${headRev}`;
    return {
      status: 200,
      body: {
        url: u,
        html_url: `https://github.example/${full}/compare/${baseRev}...${headRev}`,
        permalink_url: `https://github.example/${full}/compare/${base}...${head}`,
        diff_url: `https://github.example/${full}/compare/${baseRev}...${headRev}.diff`,
        patch_url: `https://github.example/${full}/compare/${baseRev}...${headRev}.patch`,
        base_commit: json(base, []),
        merge_base_commit: json(mergeBase, []),
        status:
          ahead.length && behind ? 'diverged' : ahead.length ? 'ahead' : behind ? 'behind' : 'identical',
        ahead_by: ahead.length,
        behind_by: behind,
        total_commits: ahead.length,
        commits: ahead.map(([sha = '', ...parents]) => json(sha, parents)),
      },
    };
  },
  'git/create-blob': (ctx) => {
    const dir = bare(ctx);
    if (!dir) return notFound;
    const b = ctx.body as { content: string; encoding?: string };
    const bytes = b.encoding === 'base64' ? Buffer.from(b.content, 'base64') : Buffer.from(b.content, 'utf8');
    const sha = text(git(dir, ['hash-object', '-w', '--stdin'], { input: bytes }));
    return { status: 201, body: { url: `${ctx.baseUrl}/repos/${repoOf(ctx)}/git/blobs/${sha}`, sha } };
  },
  'git/get-blob': (ctx) => {
    const dir = bare(ctx);
    const sha = ctx.op.params.file_sha!;
    if (!dir || objectType(dir, sha) !== 'blob') return notFound;
    const content = git(dir, ['cat-file', 'blob', sha]);
    return {
      status: 200,
      body: {
        sha,
        node_id: `B_${sha.slice(0, 8)}`,
        url: `${ctx.baseUrl}/repos/${repoOf(ctx)}/git/blobs/${sha}`,
        size: content.length,
        content: content.toString('base64'),
        encoding: 'base64',
      },
    };
  },
  'git/create-tree': (ctx) => {
    const dir = bare(ctx);
    if (!dir) return notFound;
    const b = ctx.body as {
      base_tree?: string;
      tree: { path: string; mode: string; type: string; sha?: string | null; content?: string }[];
    };
    if (b.base_tree && objectType(dir, b.base_tree) !== 'tree')
      return unprocessable('base_tree is not a valid tree');
    // A scratch index: read the base tree, apply the entries by path, write the new tree.
    const scratch = mkdtempSync(join(tmpdir(), 'fake-gh-index-'));
    const env = { GIT_INDEX_FILE: join(scratch, 'index') };
    try {
      if (b.base_tree) git(dir, ['read-tree', b.base_tree], { env });
      else git(dir, ['read-tree', '--empty'], { env });
      for (const e of b.tree) {
        if (e.sha === null) {
          git(dir, ['update-index', '--force-remove', '--', e.path], { env });
          continue;
        }
        const sha =
          e.content !== undefined
            ? text(git(dir, ['hash-object', '-w', '--stdin'], { input: e.content }))
            : e.sha;
        if (!sha || objectType(dir, sha) !== 'blob')
          return unprocessable(`tree.sha ${sha ?? ''} is not a valid blob`);
        git(dir, ['update-index', '--add', '--cacheinfo', `${e.mode},${sha},${e.path}`], { env });
      }
      const sha = text(git(dir, ['write-tree'], { env }));
      const entries = lsTree(dir, sha, false).map((e) => ({
        ...e,
        url: `${ctx.baseUrl}/repos/${repoOf(ctx)}/git/${e.type}s/${e.sha}`,
      }));
      return {
        status: 201,
        body: {
          sha,
          url: `${ctx.baseUrl}/repos/${repoOf(ctx)}/git/trees/${sha}`,
          truncated: false,
          tree: entries,
        },
      };
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  },
};
