import { breakGlassLines } from '../../render/break-glass-view.js';
import { type Command, Option } from 'commander';
import { formatFinding } from '../../model/errors.js';
import type { ApplyReport } from '../../usecases/apply-grants.js';
import { escapeTerminal } from '../../render/escape.js';
import { jsonDocument, paint, table, type CliIo } from '../output.js';
import { concurrencyOption } from '../flags.js';
import { progressLine, withProgress } from '../progress.js';
import type { CliCommand } from '../shared.js';

/** `grantops apply`. */
export const applyCommand: CliCommand = (program, { io, setExit, wire }) => {
  program
    .command('apply')
    .description(
      'reconcile targets to the unexpired, approved grants (1 if any action failed or a grant was refused)',
    )
    .option('--dry-run', 'plan only: print what would be granted and revoked')
    .option('--target <name...>', 'only these targets')
    .addOption(concurrencyOption())
    .option('--override-guard', 'let enforce revoke more than enforceMaxFraction of a scope in this run')
    .addOption(
      new Option(
        '--push-notes',
        'fetch approval evidence (refs/notes/grantops) from origin first, push what is recorded',
      ).conflicts('dryRun'),
    )
    .action(
      async (
        opts: {
          dryRun?: boolean;
          target?: string[];
          concurrency: number;
          overrideGuard?: boolean;
          pushNotes?: boolean;
        },
        cmd: Command,
      ) => {
        const { w, json } = await wire(cmd, { concurrency: opts.concurrency });
        const { applyJob } = await import('../../app/apply-job.js');
        const progress = progressLine(io, json, 'apply: calls to targets');
        const { report, evidence, breakGlass } = await withProgress(
          progress,
          applyJob(w, {
            dryRun: opts.dryRun === true,
            onProgress: (done, total) => progress.update(done, total),
            shareNotes: opts.pushNotes === true,
            ...(opts.target ? { only: opts.target } : {}),
            ...(opts.overrideGuard ? { overrideGuard: true } : {}),
          }),
        );
        if (evidence.recorded > 0)
          io.stderr(
            `recorded approval evidence on ${evidence.recorded} commit(s) in refs/notes/grantops${evidence.pushedTo ? ', pushed' : ''}\n`,
          );
        const glass = breakGlassLines(breakGlass);
        for (const w of glass.warnings) io.stderr(`warning: ${escapeTerminal(w)}\n`);
        for (const line of glass.info) io.stderr(`${line}\n`);
        await printApply(io, report, opts.dryRun === true, json);
        setExit(report.failed ? 1 : 0);
      },
    );
};

async function printApply(io: CliIo, report: ApplyReport, dryRun: boolean, json: boolean): Promise<void> {
  const { applyJson, applyRows } = await import('../../render/apply-view.js');
  for (const f of report.invalid)
    io.stderr(`${paint(io.color.stderr, 'red', escapeTerminal(formatFinding(f)))} (not applied)\n`);
  for (const r of report.refused) {
    io.stderr(
      `${paint(io.color.stderr, 'red', 'refused:')} ${escapeTerminal(r.grant.file)}: ${escapeTerminal(r.reason)}\n`,
    );
  }
  for (const u of report.plan.unobserved)
    io.stderr(
      `${paint(io.color.stderr, 'red', 'unreachable:')} ${escapeTerminal(u.target)}: ${escapeTerminal(u.error)}\n`,
    );
  for (const h of report.plan.held)
    io.stderr(
      `${paint(io.color.stderr, 'yellow', 'held:')} ${escapeTerminal(h.target)}: ${escapeTerminal([h.user, h.entitlement].filter(Boolean).join(' '))} (${escapeTerminal(h.grantIds.join(', '))}) not revoked: ${escapeTerminal(h.reason)}\n`,
    );
  if (report.historyError)
    io.stderr(
      `${paint(io.color.stderr, 'red', 'history:')} access of grants removed from main was not checked: ${escapeTerminal(report.historyError)}\n`,
    );
  for (const d of report.plan.drift) {
    io.stderr(
      `${paint(io.color.stderr, 'yellow', 'drift:')} ${escapeTerminal(d.target)}: ${escapeTerminal(d.user)} holds ${escapeTerminal(d.entitlement)} with no grant${d.heldByGuard ? ' (enforcement held by the guard)' : d.enforced ? ' (revoking: enforce)' : ''}\n`,
    );
  }
  for (const g of report.plan.guards) {
    io.stderr(
      `${paint(io.color.stderr, 'yellow', 'guard:')} ${escapeTerminal(g.target)}: would revoke ${g.wouldRevoke} of ${g.scope} users (max ${g.maxFraction * 100}%); rerun with --override-guard if intended\n`,
    );
  }
  const rows = applyRows(report);
  if (json) {
    io.stdout(jsonDocument(applyJson(report, dryRun)));
    return;
  }
  io.stdout(
    rows.length === 0
      ? report.plan.unobserved.length
        ? `nothing to do on the targets that could be read; unreachable, not checked: ${escapeTerminal(report.plan.unobserved.map((u) => u.target).join(', '))}\n`
        : 'nothing to do: every target matches the grants\n'
      : `${table(
          ['ACTION', 'TARGET', 'USER', 'ACCESS', 'WHY', 'UNTIL', 'RESULT'],
          rows.map((r) => [
            r.kind,
            r.target,
            r.user,
            r.entitlement,
            r.reason,
            r.expiresAt ?? '',
            r.error ? `failed: ${r.error}` : r.result,
          ]),
          80,
        )}\n`,
  );
  const failed = rows.filter((r) => r.result === 'failed').length;
  io.stderr(
    `${dryRun ? 'dry run: ' : ''}${rows.length} action(s)${dryRun ? ' planned' : `, ${failed} failed`}; ${report.refused.length} grant(s) refused for approval; ${report.plan.drift.length} drift${report.plan.unobserved.length ? `; ${report.plan.unobserved.length} target(s) unreachable: ${escapeTerminal(report.plan.unobserved.map((u) => u.target).join(', '))}` : ''}\n`,
  );
}
