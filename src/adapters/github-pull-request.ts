import { posix } from 'node:path';
import { RequestError } from '@octokit/request-error';
import type { FileTree, TreeEntry } from '../model/file-tree.js';
import type {
  BranchCommit,
  FoundPullRequest,
  OpenedPullRequestRef,
  ProposedFile,
  PullRequestOpener,
} from '../ports/pull-request-opener.js';
import { tokenLogin, type GitHubOctokit } from './github-client.js';

const missing = (err: unknown, ...statuses: number[]) =>
  err instanceof RequestError && statuses.includes(err.status);

interface ApiEntry {
  path: string;
  kind: TreeEntry['kind'];
  sha: string;
  size: number;
}

/**
 * Branches, commits and pull requests through GitHub's REST API: the Git Data API writes a commit on
 * the base branch's tip without a clone or a push (peter-evans/create-pull-request pushes with git;
 * an Action run on an `issues` event has no credentials in its checkout, and the CLI may have none).
 */
export class OctokitPullRequestOpener implements PullRequestOpener {
  readonly slug: string;
  private me: Promise<string> | undefined;

  constructor(
    readonly octokit: GitHubOctokit,
    readonly owner: string,
    readonly repo: string,
    /** The login the token acts as, when configured (GRANTOPS_BOT_LOGIN): then GitHub is not asked. */
    private readonly botLogin?: string,
  ) {
    this.slug = `${owner}/${repo}`;
  }

  private get where() {
    return { owner: this.owner, repo: this.repo };
  }

  async defaultBranch(): Promise<string> {
    const { data } = await this.octokit.rest.repos.get(this.where);
    return data.default_branch;
  }

  async branchTip(branch: string): Promise<string | undefined> {
    try {
      const { data } = await this.octokit.rest.git.getRef({ ...this.where, ref: `heads/${branch}` });
      // A branch name that is a prefix of others answers a list elsewhere; here the ref is exact.
      return data.object.type === 'commit' ? data.object.sha : undefined;
    } catch (err) {
      if (missing(err, 404)) return undefined;
      throw err;
    }
  }

  treeAt(commit: string, label: string): FileTree {
    const listed = new Map<string, Promise<ApiEntry[]>>();
    const entries = new Map<string, ApiEntry>();
    const rootTree = this.octokit.rest.git
      .getCommit({ ...this.where, commit_sha: commit })
      .then(({ data }) => data.tree.sha);
    // Each level read once: policies/, templates/ and grants/<target>/ share the root's listing.
    const levels = new Map<string, Promise<{ path?: string; type?: string; sha?: string }[]>>();
    const subtrees = (sha: string) => {
      let p = levels.get(sha);
      if (!p) {
        p = this.octokit.rest.git.getTree({ ...this.where, tree_sha: sha }).then(({ data }) => data.tree);
        levels.set(sha, p);
      }
      return p;
    };
    // One level at a time down to `dir`, then `dir` whole: the grants of other targets are never listed.
    const listDir = (dir: string): Promise<ApiEntry[]> => {
      let p = listed.get(dir);
      if (!p) {
        p = (async () => {
          let sha = await rootTree;
          for (const part of dir.split('/').filter(Boolean)) {
            const level = await subtrees(sha);
            const sub = level.find((e) => e.path === part && e.type === 'tree');
            if (!sub?.sha) return [];
            sha = sub.sha;
          }
          const { data } = await this.octokit.rest.git.getTree({
            ...this.where,
            tree_sha: sha,
            recursive: 'true',
          });
          if (data.truncated) throw new Error(`${dir}/ at ${label} is too large for one request`);
          const found = data.tree
            .filter((e) => e.type === 'blob' && e.path && e.sha)
            .map((e): ApiEntry => ({
              path: posix.join(dir, e.path),
              kind: e.mode === '120000' ? 'symlink' : /^1006[0-9]{2}$/.test(e.mode ?? '') ? 'file' : 'other',
              sha: e.sha,
              size: e.size ?? 0,
            }))
            .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
          for (const e of found) entries.set(e.path, e);
          return found;
        })();
        listed.set(dir, p);
      }
      return p;
    };
    const blob = async (sha: string): Promise<Uint8Array> => {
      const { data } = await this.octokit.rest.git.getBlob({ ...this.where, file_sha: sha });
      return data.encoding === 'base64'
        ? Buffer.from(data.content, 'base64')
        : Buffer.from(data.content, 'utf8');
    };
    return {
      label,
      list: async (dir) => {
        const found = await listDir(dir);
        return Promise.all(
          found.map(async (e): Promise<TreeEntry> =>
            e.kind === 'symlink'
              ? { path: e.path, kind: e.kind, linkTarget: Buffer.from(await blob(e.sha)).toString('utf8') }
              : { path: e.path, kind: e.kind },
          ),
        );
      },
      read: async (path, maxBytes) => {
        await listDir(posix.dirname(path));
        const e = entries.get(path);
        if (!e || e.kind !== 'file') throw new Error(`${path} is not a file at ${label}`);
        if (e.size > maxBytes) return { tooLarge: e.size };
        return blob(e.sha);
      },
    };
  }

  async commitFiles(parent: string, files: readonly ProposedFile[], message: string): Promise<string> {
    const { data: base } = await this.octokit.rest.git.getCommit({ ...this.where, commit_sha: parent });
    const tree = await this.treeWith(base.tree.sha, files);
    const { data: commit } = await this.octokit.rest.git.createCommit({
      ...this.where,
      message,
      tree,
      parents: [parent],
    });
    return commit.sha;
  }

  async holdsExactly(commit: string, parent: string, files: readonly ProposedFile[]): Promise<boolean> {
    const get = (sha: string) => this.octokit.rest.git.getCommit({ ...this.where, commit_sha: sha });
    const [{ data: tip }, { data: base }] = await Promise.all([get(commit), get(parent)]);
    if (tip.parents.length !== 1 || tip.parents[0]?.sha !== parent) return false;
    // The tree these files make on the base, built as commitFiles builds it: git names a tree by
    // its content, so equal shas are equal trees (the objects left unused are GitHub's to collect).
    return (await this.treeWith(base.tree.sha, files)) === tip.tree.sha;
  }

  /** The sha of `baseTree` with `files` written into it. */
  private async treeWith(baseTree: string, files: readonly ProposedFile[]): Promise<string> {
    const blobs = await Promise.all(
      files.map(async (f) => {
        const { data } = await this.octokit.rest.git.createBlob({
          ...this.where,
          content: Buffer.from(f.text, 'utf8').toString('base64'),
          encoding: 'base64',
        });
        return { path: f.path, mode: '100644' as const, type: 'blob' as const, sha: data.sha };
      }),
    );
    const { data } = await this.octokit.rest.git.createTree({
      ...this.where,
      base_tree: baseTree,
      tree: blobs,
    });
    return data.sha;
  }

  async commitsSince(base: string, head: string): Promise<{ aheadBy: number; commits: BranchCommit[] }> {
    const { data } = await this.octokit.rest.repos.compareCommitsWithBasehead({
      ...this.where,
      basehead: `${base}...${head}`,
      per_page: 10,
    });
    return {
      aheadBy: data.ahead_by,
      commits: data.commits.map((c) => ({
        sha: c.sha,
        parents: c.parents.map((p) => p.sha),
        author: c.author?.login,
      })),
    };
  }

  async moveBranch(branch: string, commit: string): Promise<void> {
    await this.octokit.rest.git.updateRef({
      ...this.where,
      ref: `heads/${branch}`,
      sha: commit,
      force: true,
    });
  }

  async createBranch(branch: string, commit: string): Promise<boolean> {
    try {
      await this.octokit.rest.git.createRef({ ...this.where, ref: `refs/heads/${branch}`, sha: commit });
      return true;
    } catch (err) {
      // "Reference already exists": a concurrent run (or an earlier one) made it first.
      if (missing(err, 422) && (err as RequestError).message.includes('already exists')) return false;
      throw err;
    }
  }

  async openPullRequests(head: string, base: string): Promise<FoundPullRequest[]> {
    const { data } = await this.octokit.rest.pulls.list({
      ...this.where,
      state: 'open',
      head: `${this.owner}:${head}`,
      base,
      per_page: 10,
    });
    return data
      .map((p) => ({
        number: p.number,
        url: p.html_url,
        author: p.user?.login ?? '',
        headSha: p.head.sha,
        title: p.title,
        body: p.body ?? '',
      }))
      .sort((a, b) => a.number - b.number);
  }

  identity(): Promise<string> {
    // Another app's token with GRANTOPS_BOT_LOGIN unset is taken for github-actions[bot], so it
    // matches nothing grantops opened: it refuses to vouch rather than vouching wrongly.
    this.me ??= tokenLogin(this.octokit, this.botLogin);
    return this.me;
  }

  async createPullRequest(
    head: string,
    base: string,
    title: string,
    body: string,
  ): Promise<OpenedPullRequestRef> {
    const { data } = await this.octokit.rest.pulls.create({ ...this.where, head, base, title, body });
    return { number: data.number, url: data.html_url };
  }

  async updatePullRequest(number: number, title: string, body: string): Promise<void> {
    await this.octokit.rest.pulls.update({ ...this.where, pull_number: number, title, body });
  }
}
