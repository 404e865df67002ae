import { ConfigError } from '../model/errors.js';
import { formatTimestamp } from '../model/time.js';
import { describeGrantChange } from '../plan/grant-change.js';
import { loadPolicies } from '../policy/load.js';
import { escapeMarkdown } from '../render/markdown.js';
import { renderTemplate } from '../render/render.js';
import { requestPlanView } from '../render/request-view.js';
import { templateSource } from '../render/template-source.js';
import {
  describeExtension,
  planExtension,
  type ExtendOptions,
  type Extension,
} from '../usecases/extend-grant.js';
import { proposeChange, type ProposalResult } from '../usecases/propose-change.js';
import { proposalBase, type ProposalBase } from './request-job.js';
import type { Wiring } from './wiring.js';
export { describeExtension } from '../usecases/extend-grant.js';

/**
 * `extend`: moves a grant's expiresAt later in its own file, as its policy allows. The plan (old and
 * new text) is made first and written only once accepted, atomically and only if the file is still
 * what was read; a pull-request opener can take `planExtension`'s result as it is.
 */
export async function extendJob(w: Wiring, opts: Omit<ExtendOptions, 'now'>): Promise<Extension> {
  const git = w.git;
  const extension = await planExtension(
    { ...opts, now: w.config.now },
    {
      work: w.work,
      registry: w.registry,
      // HEAD's first-parent line: on main, or on a branch made from it, the commit that brought the file.
      landedAt: async (path) => (git ? (await git.landedAt('HEAD', [path])).get(path) : undefined),
    },
  );
  await w.work.replaceFile(extension.path, extension.oldText, extension.newText);
  return extension;
}

export type ExtendPullRequestResult = Extension & {
  proposal: Exclude<ProposalResult, { outcome: 'taken' }>;
  base: ProposalBase['base'];
};

/**
 * `extend --open-pr`: the grant and its policy are read from the base branch as GitHub has it (never
 * the local checkout), the extension judged there, then proposed as a branch and a pull request whose
 * body carries the plan. Nothing is written locally; a rerun finds its own branch and pull request.
 */
export async function extendPullRequestJob(
  w: Wiring,
  opts: Omit<ExtendOptions, 'now'>,
  pr: { baseBranch?: string } = {},
): Promise<ExtendPullRequestResult> {
  const { gh, tree, label, base } = await proposalBase(w, 'extend --open-pr', pr.baseBranch);
  const now = w.config.now;
  const git = w.git;
  const extension = await planExtension(
    { ...opts, now },
    {
      work: tree,
      registry: w.registry,
      // When the file landed on the base, if this clone has that commit (else the PR's checks measure).
      landedAt: async (path) => {
        try {
          return git ? (await git.landedAt(base.commit, [path])).get(path) : undefined;
        } catch {
          return undefined;
        }
      },
    },
  );
  const { grant } = extension;
  const policy = (await loadPolicies(tree, w.registry)).byTarget.get(grant.target)?.policy;
  const row = describeGrantChange(grant, 'extended', policy, now);
  const plan = await renderTemplate('pr-comment.md', requestPlanView(row, label, now), templateSource(tree));
  const intro = `Extension requested with \`grantops extend --open-pr\`: ${escapeMarkdown(describeExtension(extension.plan))}.`;
  const stamp = formatTimestamp(now).replace(/[-:]/g, '').slice(0, 13).replace('T', '-');
  const proposal = await proposeChange(
    {
      branch: `grantops/extend/${grant.id}-${stamp}`,
      base,
      files: [{ path: extension.path, text: extension.newText }],
      commitMessage: `grantops: extend ${grant.id}\n\nGrant: ${grant.id}\n`,
      title: `Extend: ${grant.user} → ${grant.target}/${grant.role} until ${formatTimestamp(grant.expiresAt)}`,
      body: `${intro}\n\n${plan}`,
    },
    gh,
  );
  if (proposal.outcome === 'taken')
    throw new ConfigError(
      `branch ${proposal.branch} already holds another change to ${grant.id}: close or delete it, or run again a minute later`,
    );
  return { ...extension, proposal, base };
}
