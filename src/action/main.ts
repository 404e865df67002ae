import * as core from '@actions/core';
import { statusJob } from '../app/status-job.js';
import { publishPlanComment, validateJob } from '../app/validate-job.js';
import { compose, type Wiring } from '../app/wiring.js';
import { ConfigError, formatFinding } from '../model/errors.js';
import { formatTimestamp, parseTimestamp } from '../model/time.js';
import { systemClock } from '../ports/clock.js';
import { escapeHtml } from '../render/escape.js';
import { validationView } from '../render/plan-view.js';
import { renderTemplate } from '../render/render.js';
import { templateSource } from '../render/template-source.js';
import { actionConfig, type ActionInputs } from './inputs.js';
import { runnerLog } from './log.js';
import { annotate } from './report.js';
import { runApply } from './run-apply.js';
import { runAudit } from './run-audit.js';
import { runReap } from './run-reap.js';
import { runReport } from './run-report.js';
import { runRequestFromIssue } from './run-request-from-issue.js';

export const VALIDATE_MARKER = '<!-- grantops:validate -->';

/** Runs one Action command. Returns normally on success; throws to fail the step. */
export async function runAction(
  inputs: ActionInputs,
  env: Readonly<Record<string, string | undefined>> = process.env,
  root: typeof compose = compose,
): Promise<void> {
  const now = resolveNow(inputs.now);
  const w = await root(actionConfig(inputs, env, now), {
    warning: (m) => runnerLog.warning(m),
    debug: (m) => runnerLog.debug(m),
  });
  switch (inputs.command) {
    case 'validate':
      return runValidate(inputs, w);
    case 'status':
      return runStatus(w);
    case 'apply':
      return runApply(inputs, w);
    case 'reap':
      return runReap(inputs, w);
    case 'audit':
      return runAudit(inputs, w);
    case 'report':
      return runReport(inputs, w);
    case 'request-from-issue':
      return runRequestFromIssue(inputs, w);
  }
}

function resolveNow(text: string | undefined): Date {
  if (!text) return systemClock.now();
  const p = parseTimestamp(text);
  if (!p.ok) throw new ConfigError(`input "now": ${p.reason}`);
  return p.date;
}

async function runValidate(inputs: ActionInputs, w: Wiring): Promise<void> {
  const base = inputs.base ?? inputs.pullRequest?.baseSha;
  const pr = inputs.pullRequest;
  runnerLog.startGroup('Validate grants and policies');
  const { report, progress, progressError, fetchedBase } = await validateJob(w, {
    ...(base ? { base } : {}),
    ...(!inputs.base && pr?.baseRef ? { baseLabel: pr.baseRef } : {}),
    // "Reviewer approval is the grant": show reviewers how far each grant is from being applied.
    ...(pr ? { pullRequest: { number: pr.number, author: pr.author ?? '', headSha: pr.headSha } } : {}),
  });
  // actions/checkout fetches only the merge commit by default; the base was one fetch away.
  if (fetchedBase) runnerLog.info(`fetched base commit ${fetchedBase}`);
  for (const f of report.findings) runnerLog.info(formatFinding(f));
  runnerLog.endGroup();
  annotate(report.findings);
  if (progressError) runnerLog.warning(`could not read the reviews: ${progressError}`);

  // The comment's template comes from the base: a PR cannot restyle the verdict on itself.
  const templates = base ? templateSource(w.requireGit().treeAt(base)) : w.templates;
  const markdown = await renderTemplate(
    'pr-comment.md',
    validationView(report, w.config.now, progress),
    templates,
  );
  await core.summary.addRaw(markdown, true).write();

  if (pr) {
    const r = await publishPlanComment(w, pr.number, VALIDATE_MARKER, markdown);
    if (r && 'error' in r) runnerLog.warning(`could not write the plan comment: ${r.error}`);
    else if (r) runnerLog.info(`${r.created ? 'created' : 'updated'} plan comment ${r.id} on #${pr.number}`);
  }

  core.setOutput('ok', String(report.ok));
  core.setOutput('grants', String(report.grantsChecked));
  core.setOutput('errors', String(report.findings.filter((f) => f.severity === 'error').length));
  if (report.policyInvalid) throw new ConfigError('policy files are invalid');
  if (!report.ok) {
    throw new Error(`${report.findings.filter((f) => f.severity === 'error').length} grant problem(s) found`);
  }
}

async function runStatus(w: Wiring): Promise<void> {
  const { report } = await statusJob(w, {});
  annotate(report.problems.map((f) => ({ ...f, severity: 'warning' as const })));
  const rows = report.rows.map((r) => [
    r.grant.id,
    r.grant.user,
    r.grant.target,
    r.grant.role,
    r.state,
    formatTimestamp(r.grant.expiresAt),
  ]);
  await core.summary
    .addHeading('grantops status', 3)
    .addTable([
      ['Grant', 'User', 'Target', 'Role', 'State', 'Expires'].map((data) => ({ data, header: true })),
      ...rows.map((r) => r.map(escapeHtml)),
    ])
    .write();
  core.setOutput('grants', String(report.rows.length));
}
