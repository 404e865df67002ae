import * as core from '@actions/core';
import { requestFromIssueJob } from '../app/request-from-issue-job.js';
import type { Wiring } from '../app/wiring.js';
import { PolicyViolationError } from '../model/errors.js';
import type { ActionInputs } from './inputs.js';
import { runnerLog } from './log.js';

/**
 * `command: request-from-issue` (issues: opened, edited): the submitted access-request form becomes
 * a pull request, linked from a comment on the issue; a refused one fails the step after the
 * comment says why. Outputs `pull-request` (its number) when there is one.
 */
export async function runRequestFromIssue(inputs: ActionInputs, w: Wiring): Promise<void> {
  const outcome = await requestFromIssueJob(w, inputs.issue);
  switch (outcome.kind) {
    case 'ignored':
      runnerLog.info(`nothing to do: ${outcome.reason}`);
      return;
    case 'opened': {
      const { proposal, grant } = outcome.result;
      const pr = proposal.pullRequest;
      runnerLog.info(
        proposal.outcome !== 'found' && proposal.outcome !== 'moved'
          ? `opened pull request #${pr.number} (${proposal.branch}) for ${grant.user} on ${grant.target}/${grant.role}`
          : `pull request #${pr.number} (${proposal.branch}) already carries this request${proposal.textReplaced ? "; its title and body were replaced by grantops' own" : ''}`,
      );
      core.setOutput('pull-request', String(pr.number));
      return;
    }
    case 'refused':
      for (const p of outcome.problems) runnerLog.error(p);
      throw new PolicyViolationError(
        `the access request in #${inputs.issue?.number ?? ''} was refused (${outcome.problems.length} problem(s)); the issue says why`,
      );
  }
}
