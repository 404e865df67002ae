import { breakGlassLines } from '../render/break-glass-view.js';
import * as core from '@actions/core';
import { resolve } from 'node:path';
import { reapJob } from '../app/reap-job.js';
import { mergeShardsJob } from '../app/reap-shards.js';
import type { Wiring } from '../app/wiring.js';
import { formatDuration } from '../model/duration.js';
import { renderTemplate } from '../render/render.js';
import { revokedView } from '../render/reap-view.js';
import type { ActionInputs } from './inputs.js';
import { runnerLog } from './log.js';
import { annotate } from './report.js';
/** `command: reap` on schedule: revoke expired grants, commit and push the cleanup, alert. */
export async function runReap(inputs: ActionInputs, w: Wiring): Promise<void> {
  const now = w.config.now;
  runnerLog.startGroup(inputs.dryRun ? 'Reap (dry run)' : 'Revoke expired grants, then commit');
  if (inputs.mergeShards) {
    const files = inputs.mergeShards.map((f) => resolve(f));
    const merged = await mergeShardsJob(w, { files, push: inputs.push });
    for (const p of merged.problems) runnerLog.error(p);
    runnerLog.endGroup();
    runnerLog.info(
      `merged ${files.length} shard(s): ${merged.revoked.length} revoked grant(s)${merged.commit ? `, cleanup commit ${merged.commit.slice(0, 7)}${merged.pushed ? ' pushed' : ''}` : ''}`,
    );
    core.setOutput('revoked', String(merged.revoked.length));
    if (merged.problems.length > 0)
      throw new Error(`${merged.problems.length} problem(s) merging the shards`);
    return;
  }
  const { report, alerts, breakGlass } = await reapJob(w, {
    dryRun: inputs.dryRun,
    push: inputs.push ? 'if-origin' : 'no',
    ...(inputs.targets ? { only: inputs.targets } : {}),
    ...(inputs.shardOut ? { shardOut: resolve(inputs.shardOut) } : {}),
  });
  for (const r of report.revoked)
    runnerLog.info(`revoked ${r.grant.id} (${formatDuration(r.lagMs)} after expiry)`);
  for (const p of report.problems) runnerLog.error(p);
  runnerLog.endGroup();
  if (alerts) {
    runnerLog.info(
      `alerts: ${alerts.warningsPosted} expiry warning(s) posted, ${alerts.warningsAlreadySent} already sent`,
    );
    for (const e of alerts.errors) runnerLog.warning(`alert not sent: ${e}`);
  }
  const glass = breakGlassLines(breakGlass);
  for (const line of glass.info) runnerLog.info(line);
  for (const e of glass.warnings) runnerLog.warning(e);

  annotate(
    report.failed.map((f) => ({
      file: f.grant.file,
      line: 1,
      column: 1,
      message: `expired grant not revoked: ${f.reason}`,
      rule: 'revoke',
      severity: 'error' as const,
    })),
  );
  await core.summary
    .addRaw(
      await renderTemplate(
        'reap-summary.md',
        {
          dryRun: inputs.dryRun,
          revoked: report.revoked.map((r) => revokedView(r, now)),
          failed: report.failed.map((f) => ({ grant: f.grant.id, reason: f.reason })),
          problems: report.problems,
          ...(report.commit ? { commit: report.commit.slice(0, 7) } : {}),
          pushed: report.pushed,
          ...(report.pullRequest ? { pullRequest: String(report.pullRequest.number) } : {}),
        },
        w.templates,
      ),
      true,
    )
    .write();
  core.setOutput('revoked', String(report.revoked.length));
  if (report.failed.length > 0 || report.problems.length > 0)
    throw new Error(
      `${report.failed.length} expired grant(s) could not be revoked; ${report.problems.length} problem(s) (see the summary)`,
    );
}
