import type { GitHubOctokit } from '../adapters/github-client.js';
import { TargetError } from '../model/errors.js';
import type { Policy } from '../model/policy.js';
import { ExecTargetAdapter } from './exec.js';
import { GithubRepoTargetAdapter, GithubTeamTargetAdapter } from './github-access.js';
import { PostgresTargetAdapter } from './postgres.js';
import type { Target } from '../ports/target.js';

export interface TargetDeps {
  repoRoot: string;
  /** Octokit with a token allowed to manage teams and collaborators; GitHub targets need it. */
  octokit?: GitHubOctokit;
  env?: NodeJS.ProcessEnv;
}

/** Builds the adapter for a policy's target. Throws TargetError when it cannot be reached. */
export function createTarget(policy: Policy, deps: TargetDeps): Target {
  const config = policy.target;
  switch (config.type) {
    case 'exec':
      return new ExecTargetAdapter(config, deps.repoRoot, deps.env);
    case 'postgres':
      return new PostgresTargetAdapter(config, policy, deps.env);
    case 'github-team':
    case 'github-repo': {
      if (!deps.octokit) {
        throw new TargetError(
          'a GitHub token allowed to manage it is needed (admin-token / GRANTOPS_ADMIN_TOKEN)',
          config.name,
        );
      }
      return config.type === 'github-team'
        ? new GithubTeamTargetAdapter(config, deps.octokit)
        : new GithubRepoTargetAdapter(config, deps.octokit);
    }
  }
}
