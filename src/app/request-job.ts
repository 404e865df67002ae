import { posix } from 'node:path';
import { ConfigError } from '../model/errors.js';
import { GRANTS_DIR } from '../model/grant.js';
import { formatTimestamp } from '../model/time.js';
import { describeGrantChange } from '../plan/grant-change.js';
import type { PullRequestOpener } from '../ports/pull-request-opener.js';
import { renderTemplate } from '../render/render.js';
import { requestIntro, requestPlanView } from '../render/request-view.js';
import { templateSource } from '../render/template-source.js';
import { proposeChange, type ProposalResult } from '../usecases/propose-change.js';
import { requestGrant, type RequestOptions } from '../usecases/request-grant.js';
import type { Wiring } from './wiring.js';

/** `request`: writes a grant file the policies accept (never over an existing one). */
export async function requestJob(
  w: Wiring,
  opts: Omit<RequestOptions, 'now'>,
): ReturnType<typeof requestGrant> {
  return requestGrant(
    { ...opts, now: w.config.now },
    { work: w.work, registry: w.registry, createFile: (path, text) => w.work.createFile(path, text) },
  );
}

export interface OpenPullRequestOptions {
  /** Default: the repository's default branch, from the API. */
  baseBranch?: string;
  /** The branch for a grant id; default `grantops/request/<id>`. */
  branch?: (id: string) => string;
  /** See ChangeProposal.existing: `reuse` for one branch per issue. */
  existing?: 'same-files' | 'reuse';
  /** Said in the pull request's body. */
  from?: { issue?: number; author?: string };
}

export type RequestPullRequestResult = Awaited<ReturnType<typeof requestGrant>> & {
  proposal: Extract<ProposalResult, { pullRequest: unknown }>;
  base: { branch: string; commit: string };
};

/** The Git Data API and pull requests of the access repo, or a usage error naming what is missing. */
export async function requireOpener(w: Wiring, what: string): Promise<PullRequestOpener> {
  const gh = await w.pullRequestOpener();
  if (!gh) {
    throw new ConfigError(
      `${what} needs GitHub: set GITHUB_TOKEN (a token that may push branches and open pull requests) and GITHUB_REPOSITORY (owner/name); GITHUB_API_URL for GitHub Enterprise Server`,
    );
  }
  return gh;
}

/**
 * `request --open-pr`: the grant is judged by the policies of the base branch as GitHub has them
 * now (read through the API, never the local checkout), then proposed as a branch and a pull
 * request whose body carries the plan validate will show. Nothing is written locally. A path
 * already on the base, or proposed by another branch, is skipped like an existing local file.
 */
export async function requestPullRequestJob(
  w: Wiring,
  opts: Omit<RequestOptions, 'now'>,
  pr: OpenPullRequestOptions = {},
): Promise<RequestPullRequestResult> {
  const gh = await requireOpener(w, 'request --open-pr');
  const baseBranch = pr.baseBranch ?? (await gh.defaultBranch());
  const baseCommit = await gh.branchTip(baseBranch);
  if (baseCommit === undefined) throw new ConfigError(`${gh.slug} has no branch ${baseBranch}`);
  const label = `${baseBranch} (${baseCommit.slice(0, 7)})`;
  const tree = gh.treeAt(baseCommit, label);
  const now = w.config.now;
  let proposal: RequestPullRequestResult['proposal'] | undefined;
  const result = await requestGrant(
    { ...opts, now },
    {
      work: tree,
      registry: w.registry,
      createFile: async (path, text, { grant, policy }) => {
        if ((await tree.list(posix.dirname(path))).some((e) => e.path === path)) return false;
        const row = describeGrantChange(grant, 'added', policy, now);
        const plan = await renderTemplate(
          'pr-comment.md',
          requestPlanView(row, label, now),
          templateSource(tree),
        );
        const id = path.slice(GRANTS_DIR.length + 1, -'.yaml'.length);
        const r = await proposeChange(
          {
            branch: (pr.branch ?? ((i) => `grantops/request/${i}`))(id),
            base: { branch: baseBranch, commit: baseCommit },
            files: [{ path, text }],
            commitMessage: `grantops: request ${grant.role} on ${grant.target} for ${grant.user}\n\nGrant: ${id}\n`,
            title: `Access: ${grant.user} → ${grant.target}/${grant.role} until ${formatTimestamp(grant.expiresAt)}`,
            body: `${requestIntro(row, pr.from)}\n${plan}`,
            existing: pr.existing ?? 'same-files',
          },
          gh,
        );
        if (r.outcome === 'taken') return false;
        proposal = r;
        return true;
      },
    },
  );
  if (!proposal) throw new Error('request: no pull request was proposed');
  return { ...result, proposal, base: { branch: baseBranch, commit: baseCommit } };
}
