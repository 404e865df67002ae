import type { Command } from 'commander';
import { formatTimestamp } from '../../model/time.js';
import type { ExtendOptions } from '../../usecases/extend-grant.js';
import { escapeJsonText, escapeTerminal } from '../../render/escape.js';
import { replacedNote } from '../output.js';
import type { CliCommand } from '../shared.js';
import { ConfigError } from '../../model/errors.js';

type ExtendFlags = Omit<ExtendOptions, 'now' | 'id'> & { openPr?: boolean; baseBranch?: string };

/** `grantops extend`. */
export const extendCommand: CliCommand = (program, { io, wire }) => {
  program
    .command('extend')
    .description("move a grant's expiresAt later in its own file (1 if the policy forbids it)")
    .argument('<id>', 'grant id: its path under grants/ without .yaml')
    .requiredOption('--for <duration>', 'how much later it ends, e.g. 30m, 2h')
    .requiredOption('--reason <text>', 'why more time is needed')
    .option('--ticket <id>', 'incident or change ticket')
    .option(
      '--open-pr',
      "open a pull request on GitHub instead of editing the file (GITHUB_TOKEN, GITHUB_REPOSITORY); judged by the base branch's policies",
    )
    .option(
      '--base-branch <name>',
      "with --open-pr: the pull request's base (default: the repository's default branch)",
    )
    .action(async (id: string, { openPr, baseBranch, ...opts }: ExtendFlags, cmd: Command) => {
      const { w, json } = await wire(cmd);
      const { extendJob, extendPullRequestJob, describeExtension } = await import('../../app/extend-job.js');
      if (openPr) {
        const r = await extendPullRequestJob(
          w,
          { ...opts, id },
          baseBranch !== undefined ? { baseBranch } : {},
        );
        const pr = r.proposal.pullRequest;
        if (json) {
          io.stdout(
            `${escapeJsonText(JSON.stringify({ path: r.path, id: r.plan.id, from: formatTimestamp(r.plan.from), expiresAt: formatTimestamp(r.plan.to), branch: r.proposal.branch, base: r.base.branch, pullRequest: { number: pr.number, url: pr.url }, outcome: r.proposal.outcome, textReplaced: r.proposal.textReplaced }))}\n`,
          );
        } else {
          io.stdout(`${escapeTerminal(pr.url)}\n`);
          io.stderr(
            `${r.proposal.outcome === 'found' ? 'already open' : r.proposal.outcome === 'moved' ? 'moved onto the base branch’s tip' : 'opened'}: pull request #${pr.number} (${escapeTerminal(r.proposal.branch)} into ${escapeTerminal(r.base.branch)}) extends ${escapeTerminal(describeExtension(r.plan))}${replacedNote(r.proposal)}\n`,
          );
        }
        return;
      }
      if (baseBranch !== undefined) throw new ConfigError('--base-branch needs --open-pr');
      const { path, plan } = await extendJob(w, { ...opts, id });
      if (json) {
        io.stdout(
          `${escapeJsonText(JSON.stringify({ path, id: plan.id, from: formatTimestamp(plan.from), expiresAt: formatTimestamp(plan.to) }))}\n`,
        );
      } else {
        io.stdout(`${escapeTerminal(path)}\n`);
        io.stderr(
          `extended ${escapeTerminal(path)}: ${escapeTerminal(describeExtension(plan))}; commit it and open a pull request (${plan.approvals} approval(s) required)\n`,
        );
      }
    });
};
