import { errorMessage } from '../model/errors.js';
import type { Grant } from '../model/grant.js';
import { upsertStickyComment } from '../usecases/github-threads.js';
import { validateAccessRepo, type ValidationReport } from '../usecases/validate-repo.js';
import type { Wiring } from './wiring.js';

/** The pull request a validation runs for (the Action, on pull_request events). */
export interface PullRequestRef {
  number: number;
  author: string;
  headSha: string;
}

export interface ValidateJobOptions {
  /** Judge the grants changed since this ref by the policies at it. */
  base?: string;
  /** How to name the base in messages (the PR's base branch). */
  baseLabel?: string;
  /** Show reviewers how far each grant is from approval. */
  pullRequest?: PullRequestRef;
}

export type ApprovalProgress = Map<string, { approvers: string[]; required: number; ok: boolean }>;

export interface ValidateJobResult {
  report: ValidationReport;
  /** Per grant id, when a pull request was given and its reviews could be read. */
  progress?: ApprovalProgress;
  /** Why the reviews could not be read. */
  progressError?: string;
  /** The base commit was not in the clone and was fetched from origin. */
  fetchedBase?: string;
}

/** `validate`: the grants against the policies (the base's, with a base), and approval progress. */
export async function validateJob(w: Wiring, opts: ValidateJobOptions): Promise<ValidateJobResult> {
  const git = opts.base !== undefined ? w.requireGit() : w.git;
  let fetchedBase: string | undefined;
  if (git && opts.base && /^[0-9a-f]{40}$/.test(opts.base) && !(await git.hasCommit(opts.base))) {
    // actions/checkout fetches only the merge commit by default; the base is one fetch away.
    if (await git.hasRemote('origin')) {
      await git.fetchCommit('origin', opts.base);
      fetchedBase = opts.base;
    }
  }
  const report = await validateAccessRepo(
    {
      now: w.config.now,
      ...(opts.base !== undefined ? { base: opts.base } : {}),
      ...(opts.baseLabel ? { baseLabel: opts.baseLabel } : {}),
    },
    { work: w.work, registry: w.registry, ...(git ? { history: git } : {}) },
  );
  const result: ValidateJobResult = { report, ...(fetchedBase ? { fetchedBase } : {}) };
  const pr = opts.pullRequest;
  if (pr && report.grants.length > 0 && (await w.accessRepo())) {
    try {
      const finder = await w.approvals('grant');
      result.progress = await finder.progressOnPullRequest(pr, report.grants, (g: Grant) =>
        report.policies.get(g.target)?.roles.get(g.role),
      );
    } catch (err) {
      result.progressError = errorMessage(err);
    }
  }
  return result;
}

/** Writes (or edits in place) the one plan comment on a pull request. */
export async function publishPlanComment(
  w: Wiring,
  pr: number,
  marker: string,
  markdown: string,
): Promise<{ id: number; created: boolean } | { error: string } | undefined> {
  const repo = await w.accessRepo();
  if (!repo) return undefined;
  try {
    // Known by grantops' login when configured (GRANTOPS_BOT_LOGIN), else by any bot's.
    return await upsertStickyComment(repo, pr, marker, markdown, w.config.github?.botLogin);
  } catch (err) {
    // A fork's read-only token cannot comment; the annotations and summary still carry the verdict.
    return { error: errorMessage(err) };
  }
}
