import { ApprovalFinder } from './find-approvals.js';
import { fixedClock, systemClock } from '../ports/clock.js';
import type { GitRepo } from '../adapters/git.js';
import type { GitHubOctokit } from '../adapters/github.js';
import { WorkTree } from '../adapters/work-tree.js';
import { loadEvidenceVerifier } from '../policy/evidence-signature.js';
import { SchemaRegistry } from '../policy/schema-registry.js';
import { reapExpired, type CleanupPullRequests, type ReapReport } from '../reaper/reap.js';
import { renderTemplate } from '../render/render.js';
import { templateSource } from '../render/template-source.js';
import { createTarget } from '../targets/registry.js';
import { applyGrants } from './apply.js';

export interface ReapRepositoryOptions {
  now: Date;
  dryRun: boolean;
  push: boolean;
  concurrency: number;
}

/**
 * The reaper wired to a real checkout: the CLI and the Action both call this, so they revoke,
 * commit and push the same way. Which live grants still justify access is decided from recorded
 * evidence only: taking access away never needs GitHub.
 */
export async function reapRepository(
  git: GitRepo,
  opts: ReapRepositoryOptions,
  deps: { admin?: GitHubOctokit; env?: NodeJS.ProcessEnv; pulls?: CleanupPullRequests },
): Promise<ReapReport> {
  if (opts.push) await git.fetchNotes('origin');
  const work = new WorkTree(git.root);
  // With the evidence key committed, a note that is not signed by it keeps no access.
  const verifyEvidence = await loadEvidenceVerifier(work);
  return reapExpired(
    {
      now: opts.now,
      dryRun: opts.dryRun,
      push: opts.push,
      remote: 'origin',
      branch: (await git.currentBranch()) ?? 'main',
      cleanupBranch: 'grantops/cleanup',
      maxPushAttempts: 5,
    },
    {
      git,
      clock: systemClock,
      revokeExpired: () =>
        applyGrants(
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
          },
        ),
      renderBody: (view) => renderTemplate('cleanup-commit.txt', view, templateSource(work)),
      ...(deps.pulls ? { pulls: deps.pulls } : {}),
    },
  );
}
