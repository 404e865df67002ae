import * as core from '@actions/core';
import { resolve } from 'node:path';
import { reportJob } from '../app/report-job.js';
import type { Wiring } from '../app/wiring.js';
import { reportSummaryMarkdown } from '../render/report-summary.js';
import type { ActionInputs } from './inputs.js';
import { runnerLog } from './log.js';

/**
 * `command: report`: the dashboard and calendars written to the `out` directory (for
 * actions/upload-pages-artifact), and the "now" table with a gantt of the last and next 14 days in
 * the job summary.
 */
export async function runReport(inputs: ActionInputs, w: Wiring): Promise<void> {
  const out = resolve(inputs.reportOut);
  runnerLog.startGroup('Build the access report');
  // Notes and the whole of main's line: a shallow checkout would show every grant as new.
  const r = await reportJob(w, { out, fetch: true, ...(inputs.observe ? { observe: true } : {}) });
  runnerLog.info(`history: ${r.cache.mode}, ${r.cache.commitsRead} commit(s) read`);
  runnerLog.info(`wrote ${out}: ${r.files.length} file(s)`);
  runnerLog.endGroup();
  if (r.shallow)
    runnerLog.warning(
      'the checkout is shallow and its history could not be fetched: the report misses what came before its oldest commit; use actions/checkout with fetch-depth: 0',
    );
  if (r.model.drift.checked)
    for (const u of r.model.drift.unreadable)
      runnerLog.warning(`target ${u.target} could not be read: ${u.error}`);
  await core.summary.addRaw(reportSummaryMarkdown(r.model, { repoUrl: r.repoUrl }), true).write();
  core.setOutput('report-dir', out);
}
