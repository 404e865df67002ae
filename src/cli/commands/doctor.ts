import { type Command } from 'commander';
import { WorkTree } from '../../adapters/work-tree.js';
import { SchemaRegistry } from '../../policy/schema-registry.js';
import { escapeTerminal } from '../../render/escape.js';
import { paint } from '../output.js';
import { githubFromEnv } from '../shared.js';
import type { CliCommand } from '../shared.js';

/** `grantops doctor`. */
export const doctorCommand: CliCommand = (program, { io, setExit, context }) => {
  program
    .command('doctor')
    .description(
      'check what grantops needs on every target: privileges, scripts, tokens (1 if anything is missing)',
    )
    .action(async (_opts: object, cmd: Command) => {
      const ctx = context(cmd);
      const [{ createTarget }, { checkTargets }] = await Promise.all([
        import('../../targets/registry.js'),
        import('../../usecases/doctor.js'),
      ]);
      const github = await githubFromEnv(io.env, 4);
      const report = await checkTargets({
        work: new WorkTree(ctx.repo),
        registry: new SchemaRegistry(),
        createTarget: (policy) =>
          createTarget(policy, {
            repoRoot: ctx.repo,
            env: io.env,
            ...(github.admin ? { octokit: github.admin } : {}),
          }),
      });
      if (ctx.json) io.stdout(`${JSON.stringify({ ok: report.problems.length === 0, ...report })}\n`);
      else for (const p of report.problems) io.stdout(`${p.target}: ${escapeTerminal(p.problem)}\n`);
      io.stderr(
        report.problems.length
          ? `${paint(io, 'red', '✗')} ${report.problems.length} problem(s) on ${report.targets.length} target(s)\n`
          : `${paint(io, 'green', '✓')} ${report.targets.length} target(s): nothing missing\n`,
      );
      setExit(report.problems.length > 0 ? 1 : 0);
    });
};
