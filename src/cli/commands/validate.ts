import { type Command } from 'commander';
import { formatFinding } from '../../model/errors.js';
import { planRowView } from '../../render/plan-view.js';
import { escapeTerminal } from '../../render/escape.js';
import { jsonDocument, paint, table } from '../output.js';
import { jsonFinding } from '../shared.js';
import type { CliCommand } from '../shared.js';

/** `grantops validate`. */
export const validateCommand: CliCommand = (program, { io, setExit, wire }) => {
  program
    .command('validate')
    .description('validate grants and policies (0 valid, 1 violations, 2 invalid policy or usage)')
    .option('--base <ref>', 'judge the grants changed since <ref> by the policies at <ref>')
    .action(async (opts: { base?: string }, cmd: Command) => {
      const { w, json } = await wire(cmd);
      const { validateJob } = await import('../../app/validate-job.js');
      const { report } = await validateJob(w, opts.base !== undefined ? { base: opts.base } : {});
      const errors = report.findings.filter((f) => f.severity === 'error');
      const warnings = report.findings.filter((f) => f.severity === 'warning');
      for (const f of report.findings) {
        const line = escapeTerminal(formatFinding(f));
        io.stderr(
          `${f.severity === 'error' ? paint(io.color.stderr, 'red', line) : paint(io.color.stderr, 'yellow', line)}\n`,
        );
      }
      if (json) {
        io.stdout(
          jsonDocument({
            ok: report.ok,
            grants: report.grantsChecked,
            errors: errors.map(jsonFinding),
            warnings: warnings.map(jsonFinding),
            policySource: report.policySource,
            ...(report.base ? { base: report.base } : {}),
            ruleChanges: report.ruleChanges,
            codeChanges: report.codeChanges,
            plan: report.plan.map((r) => ({ id: r.id, file: r.file, ...planRowView(r) })),
            removed: report.removed,
          }),
        );
      } else {
        const code = new Map(report.codeChanges.map((c) => [c.path, c]));
        for (const c of report.ruleChanges) {
          const run = code.get(c.path);
          io.stderr(
            run
              ? `${paint(io.color.stderr, 'yellow', 'note:')} this change touches ${escapeTerminal(c.path)} (${c.status}), code an exec target runs${run.targets.length ? ` (${escapeTerminal(run.targets.join(', '))})` : ''} with its credentials once merged; reviewers must read it\n`
              : `${paint(io.color.stderr, 'yellow', 'note:')} this change touches ${escapeTerminal(c.path)} (${c.status}); it is judged by the rules at ${escapeTerminal(report.policySource)}\n`,
          );
        }
        if (report.plan.length > 0 && report.base) {
          io.stdout(
            `${table(
              ['CHANGE', 'USER', 'TARGET', 'ROLE', 'FROM', 'UNTIL', 'DURATION', 'APPROVALS'],
              report.plan.map((r) => {
                const v = planRowView(r);
                return [v.change, v.user, v.target, v.role, v.from, v.until, v.duration, v.approvalsText];
              }),
            )}\n`,
          );
        }
        const summary = `${report.grantsChecked} grant file(s) checked against ${report.policies.size} polic${report.policies.size === 1 ? 'y' : 'ies'} at ${escapeTerminal(report.policySource)}`;
        io.stderr(
          report.ok
            ? `${paint(io.color.stderr, 'green', '✓')} ${summary}${warnings.length ? `, ${warnings.length} warning(s)` : ''}\n`
            : `${paint(io.color.stderr, 'red', '✗')} ${errors.length} error(s), ${warnings.length} warning(s); ${summary}\n`,
        );
      }
      setExit(report.policyInvalid ? 2 : report.ok ? 0 : 1);
    });
};
