import { breakGlassLines } from '../render/break-glass-view.js';
import * as core from '@actions/core';
import { applyJob } from '../app/apply-job.js';
import type { Wiring } from '../app/wiring.js';
import { applyJson, applyRows } from '../render/apply-view.js';
import { renderTemplate } from '../render/render.js';
import type { ActionInputs } from './inputs.js';
import { runnerLog } from './log.js';
import { annotate } from './report.js';

/** `command: apply` on push to main: verify approvals, reconcile targets, record evidence, report. */
export async function runApply(inputs: ActionInputs, w: Wiring): Promise<void> {
  runnerLog.startGroup(inputs.dryRun ? 'Plan (dry run)' : 'Plan and apply');
  const { report, evidence, refusalIssues, breakGlass } = await applyJob(w, {
    dryRun: inputs.dryRun,
    ...(inputs.overrideGuard ? { overrideGuard: true } : {}),
    shareNotes: true,
    trackRefusals: true,
    ...(inputs.targets ? { only: inputs.targets } : {}),
  });
  for (const row of applyRows(report)) {
    runnerLog.info(
      `${row.kind} ${row.target} ${row.user} ${row.entitlement} (${row.reason}): ${row.result}${row.error ? `: ${row.error}` : ''}`,
    );
  }
  runnerLog.endGroup();
  if (evidence.recorded > 0)
    runnerLog.info(`recorded approval evidence on ${evidence.recorded} commit(s) in refs/notes/grantops`);
  if (refusalIssues && 'error' in refusalIssues)
    runnerLog.warning(`could not update refusal issues: ${refusalIssues.error}`);
  else if (refusalIssues)
    runnerLog.info(
      `refusal issues: ${refusalIssues.created} opened, ${refusalIssues.updated} updated, ${refusalIssues.closed} closed`,
    );

  const glass = breakGlassLines(breakGlass);
  for (const line of glass.info) runnerLog.info(line);
  for (const e of glass.warnings) runnerLog.warning(e);

  annotate(report.invalid);
  annotate(
    report.refused.map((r) => ({
      file: r.grant.file,
      line: 1,
      column: 1,
      message: `not applied: ${r.reason}`,
      rule: 'approval',
      severity: 'error' as const,
    })),
  );
  const json = applyJson(report, inputs.dryRun);
  await core.summary
    .addRaw(await renderTemplate('apply-summary.md', { ...json, rows: json.actions }, w.templates), true)
    .write();

  core.setOutput('ok', String(!report.failed));
  core.setOutput('plan', JSON.stringify(json));
  if (report.failed) {
    const failed = report.results.filter((r) => !r.ok).length;
    throw new Error(
      `apply incomplete: ${failed} action(s) failed, ${report.refused.length} grant(s) refused, ${report.plan.unobserved.length} target(s) unreachable`,
    );
  }
}
