import type { GitRepo } from '../adapters/git/repo.js';
import { errorMessage } from '../model/errors.js';
import { systemClock } from '../ports/clock.js';
import type { AccessRepoGitHub } from '../ports/access-repo.js';
import type { ReapDeps, ReapOptions } from '../reaper/reap-expired.js';
import { renderTemplate } from '../render/render.js';
import { upsertPullRequest } from '../usecases/github-threads.js';
import type { Wiring } from './wiring.js';

/**
 * Where a cleanup commit goes and how it is made: the same for a reap and for the merge of a
 * sharded one. The branch is `--branch`, else the remote's default, else the checkout's own.
 */
export async function cleanupCommit(
  w: Wiring,
  branch: string | undefined,
): Promise<{
  git: GitRepo;
  remote: string | undefined;
  repo: AccessRepoGitHub | undefined;
  options: Pick<ReapOptions, 'remote' | 'branch' | 'cleanupBranch' | 'maxPushAttempts'>;
  deps: Pick<ReapDeps, 'git' | 'clock' | 'renderBody' | 'pulls'>;
}> {
  const git = w.requireGit();
  const remote = (await git.hasRemote('origin')) ? 'origin' : undefined;
  let target: string | { error: string };
  try {
    target =
      branch ??
      (remote
        ? await git.defaultBranch(remote)
        : ((await git.currentBranch()) ?? { error: 'HEAD is detached and there is no remote to ask' }));
  } catch (err) {
    target = { error: `${errorMessage(err)} (name it with --branch)` };
  }
  const repo = await w.accessRepo();
  return {
    git,
    remote,
    repo,
    options: { remote, branch: target, cleanupBranch: 'grantops/cleanup', maxPushAttempts: 5 },
    deps: {
      git,
      // Real waits between push attempts, whatever instant the run judges at.
      clock: systemClock,
      renderBody: (view) => renderTemplate('cleanup-commit.txt', view, w.templates),
      ...(repo
        ? { pulls: { upsert: (head, base, title, body) => upsertPullRequest(repo, head, base, title, body) } }
        : {}),
    },
  };
}
