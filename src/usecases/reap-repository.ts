import { ApprovalFinder } from './find-approvals.js';
import { fixedClock, systemClock } from '../ports/clock.js';
import { errorMessage } from '../model/errors.js';
import type { GitRepo } from '../adapters/git/repo.js';
import type { GitHubOctokit } from '../adapters/github.js';
import { WorkTree } from '../adapters/work-tree.js';
import { loadEvidenceVerifier } from '../policy/evidence-signature.js';
import { SchemaRegistry } from '../policy/schema-registry.js';
import { reapExpired, type CleanupPullRequests, type ReapReport } from '../reaper/reap-expired.js';
import { renderTemplate } from '../render/render.js';
import { templateSource } from '../render/template-source.js';
import { createTarget } from '../targets/registry.js';
import { applyGrants } from './apply.js';
import { gitGrantHistory } from './audit.js';

export interface ReapRepositoryOptions {
  now: Date;
  dryRun: boolean;
  push: boolean;
  concurrency: number;
  /** The branch the cleanup belongs on; default: the remote's default branch. */
  branch?: string;
}

/**
 * The reaper wired to a real checkout: the CLI and the Action both call this, so they revoke,
 * commit and push the same way. Which live grants still justify access is decided from recorded
 * evidence only: taking access away never needs GitHub, and a grant without evidence is undecided
 * (its access kept), never refused.
 */
export async function reapRepository(
  git: GitRepo,
  opts: ReapRepositoryOptions,
  deps: {
    admin?: GitHubOctokit;
    /** What exec scripts may be given (their policy's allowlist picks from it). */
    env?: NodeJS.ProcessEnv;
    pulls?: CleanupPullRequests;
    /** The evidence key's public half from the environment; else .grantops/evidence-key.pub on main. */
    evidenceKey?: string;
  },
): Promise<ReapReport> {
  const remote = (await git.hasRemote('origin')) ? 'origin' : undefined;
  let branch: string | { error: string };
  try {
    branch =
      opts.branch ??
      (remote
        ? await git.defaultBranch(remote)
        : ((await git.currentBranch()) ?? { error: 'HEAD is detached and there is no remote to ask' }));
  } catch (err) {
    branch = { error: `${errorMessage(err)} (name it with --branch)` };
  }
  const work = new WorkTree(git.root);
  return reapExpired(
    {
      now: opts.now,
      dryRun: opts.dryRun,
      push: opts.push,
      remote,
      branch,
      cleanupBranch: 'grantops/cleanup',
      maxPushAttempts: 5,
    },
    {
      git,
      clock: systemClock,
      revokeExpired: async () => {
        // With the evidence key committed, a note that is not signed by it keeps no access.
        const verifyEvidence = await loadEvidenceVerifier(work, deps.evidenceKey);
        return applyGrants(
          { now: opts.now, dryRun: opts.dryRun, concurrency: opts.concurrency, mode: 'reap' },
          {
            work,
            registry: new SchemaRegistry(),
            // Keeping access a live grant justifies: recorded evidence is enough (a note never grants).
            approvals: new ApprovalFinder(git, undefined, fixedClock(opts.now), new SchemaRegistry(), {
              concurrency: opts.concurrency,
              trustNotes: true,
              ...(verifyEvidence ? { verifyEvidence } : {}),
            }),
            createTarget: (policy) =>
              createTarget(policy, {
                repoRoot: git.root,
                ...(deps.env ? { env: deps.env } : {}),
                ...(deps.admin ? { octokit: deps.admin } : {}),
              }),
            history: gitGrantHistory(git),
          },
        );
      },
      renderBody: (view) => renderTemplate('cleanup-commit.txt', view, templateSource(work)),
      ...(deps.pulls ? { pulls: deps.pulls } : {}),
    },
  );
}
