import type { Command } from 'commander';
import { formatTimestamp } from '../../model/time.js';
import type { ExtendOptions } from '../../usecases/extend-grant.js';
import { escapeJsonText, escapeTerminal } from '../../render/escape.js';
import type { CliCommand } from '../shared.js';

/** `grantops extend`. */
export const extendCommand: CliCommand = (program, { io, wire }) => {
  program
    .command('extend')
    .description("move a grant's expiresAt later in its own file (1 if the policy forbids it)")
    .argument('<id>', 'grant id: its path under grants/ without .yaml')
    .requiredOption('--for <duration>', 'how much later it ends, e.g. 30m, 2h')
    .requiredOption('--reason <text>', 'why more time is needed')
    .option('--ticket <id>', 'incident or change ticket')
    .action(async (id: string, opts: Omit<ExtendOptions, 'now' | 'id'>, cmd: Command) => {
      const { w, json } = await wire(cmd);
      const { extendJob, describeExtension } = await import('../../app/extend-job.js');
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
