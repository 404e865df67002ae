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
  repo.git('checkout', '-q', 'main');
  repo.git('merge', '-q', '--no-ff', '-m', `Merge pull request #${opts.number} from acme/${branch}`, branch);
  const mergeSha = repo.git('rev-parse', 'HEAD');
  const tree = new Map<string, string>();
  for (const line of repo.git('ls-tree', '-r', head).split('\n')) {
    const [meta, path] = line.split('\t');
    const sha = meta?.split(' ')[2];
    if (path && sha) tree.set(path, sha);
  }
  gh.trees.set(head, tree);
  gh.repoPulls(opts.repoName ?? 'acme/access').push({
    number: opts.number,
    author: opts.author,
    headSha: head,
    headRef: branch,
    mergeCommitSha: mergeSha,
    mergedAt: '2026-11-28T11:00:00Z',
    commits: [first, head, mergeSha],
    reviews: opts.reviews.map((r) => ({
      user: r.user,
      state: r.state ?? 'APPROVED',
      commitId: r.onCommit === 'first' ? first : head,
    })),
  });
  return { mergeSha, headSha: head };
}
