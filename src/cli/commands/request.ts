import { type Command, Option } from 'commander';
import { ConfigError } from '../../model/errors.js';
import { formatTimestamp } from '../../model/time.js';
import type { RequestOptions } from '../../usecases/request-grant.js';
import { escapeJsonText, escapeTerminal } from '../../render/escape.js';
import { replacedNote } from '../output.js';
import type { CliCommand } from '../shared.js';

type RequestFlags = Omit<RequestOptions, 'now'> & { openPr?: boolean; baseBranch?: string };

/** `grantops request`. */
export const requestCommand: CliCommand = (program, { io, wire }) => {
  program
    .command('request')
    .description('write a grant file the policies accept, and print its path (1 if the policy forbids it)')
    .requiredOption('--user <login>', 'GitHub login receiving access')
    .requiredOption('--target <name>', 'target named in policies/')
    .requiredOption('--role <role>', "a role the target's policy offers")
    .requiredOption('--for <duration>', 'how long, e.g. 90m, 2h, 1d')
    .requiredOption('--reason <text>', 'why access is needed')
    .option('--ticket <id>', 'incident or change ticket')
    .addOption(new Option('--starts-at <rfc3339>', 'not active before this instant'))
    .option(
      '--open-pr',
      "open a pull request on GitHub instead of writing the file (GITHUB_TOKEN, GITHUB_REPOSITORY); judged by the base branch's policies",
    )
    .option(
      '--base-branch <name>',
      "with --open-pr: the pull request's base (default: the repository's default branch)",
    )
    .action(async ({ openPr, baseBranch, ...opts }: RequestFlags, cmd: Command) => {
      const { w, json } = await wire(cmd);
      const jobs = await import('../../app/request-job.js');
      if (!openPr) {
        if (baseBranch !== undefined) throw new ConfigError('--base-branch needs --open-pr');
        const result = await jobs.requestJob(w, opts);
        if (json) {
          io.stdout(
            `${escapeJsonText(JSON.stringify({ path: result.path, id: result.grant.id, expiresAt: formatTimestamp(result.grant.expiresAt) }))}\n`,
          );
        } else {
          io.stdout(`${escapeTerminal(result.path)}\n`);
          io.stderr(
            `wrote ${escapeTerminal(result.path)}: ${escapeTerminal(`${result.grant.user} → ${result.grant.target}/${result.grant.role}`)} until ${formatTimestamp(result.grant.expiresAt)}; commit it and open a pull request\n`,
          );
        }
        return;
      }
      const r = await jobs.requestPullRequestJob(w, opts, baseBranch !== undefined ? { baseBranch } : {});
      const pr = r.proposal.pullRequest;
      if (json) {
        io.stdout(
          `${escapeJsonText(
            JSON.stringify({
              path: r.path,
              id: r.grant.id,
              expiresAt: formatTimestamp(r.grant.expiresAt),
              branch: r.proposal.branch,
              base: r.base.branch,
              pullRequest: { number: pr.number, url: pr.url },
              outcome: r.proposal.outcome,
              textReplaced: r.proposal.textReplaced,
            }),
          )}\n`,
        );
      } else {
        io.stdout(`${escapeTerminal(pr.url)}\n`);
        const what =
          r.proposal.outcome === 'found'
            ? 'already open'
            : r.proposal.outcome === 'resumed'
              ? 'opened from the existing branch'
              : r.proposal.outcome === 'moved'
                ? 'moved onto the base branch’s tip'
                : 'opened';
        io.stderr(
          `${what}: pull request #${pr.number} (${escapeTerminal(r.proposal.branch)} into ${escapeTerminal(r.base.branch)}) adds ${escapeTerminal(r.path)}: ${escapeTerminal(`${r.grant.user} → ${r.grant.target}/${r.grant.role}`)} until ${formatTimestamp(r.grant.expiresAt)}${replacedNote(r.proposal)}\n`,
        );
      }
    });
};
