import { type Command } from 'commander';
import { escapeTerminal } from '../../render/escape.js';
import { jsonDocument, paint } from '../output.js';
import type { CliCommand } from '../shared.js';

/** `grantops doctor`. */
export const doctorCommand: CliCommand = (program, { io, setExit, wire }) => {
  program
    .command('doctor')
    .description(
      'check what grantops needs: node, git, tokens, the evidence key, and on every target its privileges and scripts (1 if anything is missing)',
    )
    .action(async (_opts: object, cmd: Command) => {
      const { w, json } = await wire(cmd);
      const { doctorJob } = await import('../../app/doctor-job.js');
      const report = await doctorJob(w);
      const problems = report.environment.length + report.problems.length;
      if (json) io.stdout(jsonDocument({ ok: problems === 0, ...report }));
      else {
        for (const e of report.environment) io.stdout(`${e.check}: ${escapeTerminal(e.problem)}\n`);
        for (const p of report.problems) io.stdout(`${p.target}: ${escapeTerminal(p.problem)}\n`);
      }
      io.stderr(
        problems
          ? `${paint(io.color.stderr, 'red', '✗')} ${problems} problem(s): ${report.environment.length} in the environment, ${report.problems.length} on ${report.targets.length} target(s)\n`
          : `${paint(io.color.stderr, 'green', '✓')} environment and ${report.targets.length} target(s): nothing missing\n`,
      );
      setExit(problems > 0 ? 1 : 0);
    });
};
