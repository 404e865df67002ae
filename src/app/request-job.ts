import { posix } from 'node:path';
import { ConfigError } from '../model/errors.js';
import type { FileTree } from '../model/file-tree.js';
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
  /**
   * The branch for a grant id; default `grantops/request/<id>`. `attempt` counts from 1 and goes up
   * each time a name is taken (a branch holding anything else, or someone else's pull request).
   */
  branch?: (id: string, attempt: number) => string;
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

/** Where a change is proposed: the base branch's tip, and its files read through GitHub's API. */
export interface ProposalBase {
  gh: PullRequestOpener;
  base: { branch: string; commit: string };
  /** `main (1a2b3c4)`: how messages and the plan name the policies that judged. */
  label: string;
  tree: FileTree;
}

/**
 * The base of a pull request grantops opens (`request --open-pr`, `extend --open-pr`): `baseBranch`
 * or the repository's default branch, at its tip now. Judge the change by `tree` (the base's
 * policies and grants), then hand it to proposeChange with `base`.
 */
export async function proposalBase(w: Wiring, what: string, baseBranch?: string): Promise<ProposalBase> {
  const gh = await requireOpener(w, what);
  const branch = baseBranch ?? (await gh.defaultBranch());
  const commit = await gh.branchTip(branch);
  if (commit === undefined) throw new ConfigError(`${gh.slug} has no branch ${branch}`);
  const label = `${branch} (${commit.slice(0, 7)})`;
  return { gh, base: { branch, commit }, label, tree: gh.treeAt(commit, label) };
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
  const { gh, tree, label, base } = await proposalBase(w, 'request --open-pr', pr.baseBranch);
  const now = w.config.now;
  let proposal: RequestPullRequestResult['proposal'] | undefined;
  const result = await requestGrant(
    { ...opts, now },
    {
      work: tree,
      registry: w.registry,
      createFile: async (path, text, { grant, policy, attempt }) => {
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
            branch: (pr.branch ?? ((i) => `grantops/request/${i}`))(id, attempt),
            base,
            files: [{ path, text }],
            commitMessage: `grantops: request ${grant.role} on ${grant.target} for ${grant.user}\n\nGrant: ${id}\n`,
            title: `Access: ${grant.user} → ${grant.target}/${grant.role} until ${formatTimestamp(grant.expiresAt)}`,
            body: `${requestIntro(row, pr.from)}\n${plan}`,
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
  return { ...result, proposal, base };
}
