import { type Command, Option } from 'commander';
import { formatTimestamp } from '../../model/time.js';
import type { RequestOptions } from '../../usecases/request-grant.js';
import { escapeJsonText, escapeTerminal } from '../../render/escape.js';
import type { CliCommand } from '../shared.js';

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
    .action(async (opts: Omit<RequestOptions, 'now'>, cmd: Command) => {
      const { w, json } = await wire(cmd);
      const { requestJob } = await import('../../app/request-job.js');
      const result = await requestJob(w, opts);
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
    });
};
