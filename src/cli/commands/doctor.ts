import { type Command } from 'commander';
import { escapeTerminal } from '../../render/escape.js';
import { paint } from '../output.js';
import type { CliCommand } from '../shared.js';

/** `grantops doctor`. */
export const doctorCommand: CliCommand = (program, { io, setExit, wire }) => {
  program
    .command('doctor')
    .description(
      'check what grantops needs on every target: privileges, scripts, tokens (1 if anything is missing)',
    )
    .action(async (_opts: object, cmd: Command) => {
      const { w, json } = await wire(cmd);
      const { doctorJob } = await import('../../app/doctor-job.js');
      const report = await doctorJob(w);
      if (json) io.stdout(`${JSON.stringify({ ok: report.problems.length === 0, ...report })}\n`);
      else for (const p of report.problems) io.stdout(`${p.target}: ${escapeTerminal(p.problem)}\n`);
      io.stderr(
        report.problems.length
          ? `${paint(io.color.stderr, 'red', '✗')} ${report.problems.length} problem(s) on ${report.targets.length} target(s)\n`
          : `${paint(io.color.stderr, 'green', '✓')} ${report.targets.length} target(s): nothing missing\n`,
      );
      setExit(report.problems.length > 0 ? 1 : 0);
    });
};
