import type { FakeGitHub } from './github-server.js';
import type { TempRepo } from './repo.js';

/**
 * Simulates a pull request merged on GitHub: a branch with commits, merged into main with a merge
 * commit (as the merge button does), registered on the local GitHub server with its reviews and
 * the tree of its head.
 */
export function mergePullRequest(
  repo: TempRepo,
  gh: FakeGitHub,
  opts: {
    number: number;
    author: string;
    files: Record<string, string>;
    /** Reviews on the final head unless `onCommit: 'first'`. */
    reviews: { user: string; state?: string; onCommit?: 'first' | 'head' }[];
    /** Extra commit pushed after the reviews (approval then no longer on the final head). */
    pushAfterReview?: Record<string, string>;
    repoName?: string;
  },
): { mergeSha: string; headSha: string } {
  const branch = `pr-${opts.number}`;
  repo.git('checkout', '-q', '-b', branch, 'main');
  repo.write(opts.files);
  const first = repo.commit(`grant request #${opts.number}`);
  let head = first;
  if (opts.pushAfterReview) {
    repo.write(opts.pushAfterReview);
    head = repo.commit(`change after review #${opts.number}`);
  }
  const mergeSha = mergeBranch(repo, gh, {
    number: opts.number,
    author: opts.author,
    branch,
    mergedAt: '2026-11-28T11:00:00Z',
    commits: [first, head],
    reviews: opts.reviews.map((r) => ({
      user: r.user,
      state: r.state ?? 'APPROVED',
      commitId: r.onCommit === 'first' ? first : head,
    })),
    ...(opts.repoName ? { repoName: opts.repoName } : {}),
  });
  return { mergeSha, headSha: head };
}

/**
 * Merges `branch` into main as the merge button does and registers the pull request on the local
 * GitHub server: its head (the branch's tip), the tree of that head, the commits and the reviews.
 */
export function mergeBranch(
  repo: TempRepo,
  gh: FakeGitHub,
  pr: {
    number: number;
    author: string;
    branch: string;
    mergedAt: string;
    /** The branch's commits, oldest first; the last is the head. */
    commits: string[];
    reviews: { user: string; state: string; commitId: string }[];
    repoName?: string;
  },
): string {
  const head = pr.commits[pr.commits.length - 1]!;
  repo.git('checkout', '-q', 'main');
  repo.git(
    'merge',
    '-q',
    '--no-ff',
    '-m',
    `Merge pull request #${pr.number} from acme/${pr.branch}`,
    pr.branch,
  );
  const mergeSha = repo.git('rev-parse', 'HEAD');
  const tree = new Map<string, string>();
  for (const line of repo.git('ls-tree', '-r', head).split('\n')) {
    const [meta, path] = line.split('\t');
    const sha = meta?.split(' ')[2];
    if (path && sha) tree.set(path, sha);
  }
  gh.trees.set(head, tree);
  gh.repoPulls(pr.repoName ?? 'acme/access').push({
    number: pr.number,
    author: pr.author,
    headSha: head,
    headRef: pr.branch,
    mergeCommitSha: mergeSha,
    mergedAt: pr.mergedAt,
    commits: [...pr.commits, mergeSha],
    reviews: pr.reviews,
  });
  return mergeSha;
}
