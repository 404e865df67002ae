import { formatTimestamp } from '../model/time.js';
import type { ApplyReport } from '../usecases/apply-grants.js';

/** One row per planned action with its outcome: the CLI table, JSON output and the job summary. */
export function applyRows(report: ApplyReport) {
  const results = new Map(report.results.map((r) => [r.action, r]));
  return report.plan.actions.map((a) => {
    const r = results.get(a);
    return {
      kind: a.kind,
      target: a.target,
      user: a.user,
      entitlement: a.entitlement,
      reason: a.reason,
      grants: a.grantIds,
      ...(a.expiresAt ? { expiresAt: formatTimestamp(a.expiresAt) } : {}),
      result: !r ? 'planned' : r.ok ? 'done' : r.skipped ? 'skipped' : 'failed',
      ...(r?.error ? { error: r.error } : {}),
    };
  });
}

/** The whole report as the JSON document `apply --json` prints. */
export function applyJson(report: ApplyReport, dryRun: boolean) {
  return {
    ok: !report.failed,
    now: formatTimestamp(report.plan.at),
    dryRun,
    actions: applyRows(report),
    refused: report.refused.map((r) => ({
      grant: r.grant.id,
      file: r.grant.file,
      reason: r.reason,
      approvers: r.approvers,
      ...(r.pr ? { pr: r.pr } : {}),
      ...(r.undecided ? { undecided: true } : {}),
    })),
    held: report.plan.held,
    ...(report.historyError ? { historyError: report.historyError } : {}),
    drift: report.plan.drift,
    guards: report.plan.guards,
    unobserved: report.plan.unobserved,
    invalid: report.invalid.map((f) => ({
      file: f.file,
      line: f.line,
      column: f.column,
      message: f.message,
    })),
    concurrency: report.concurrency,
  };
}
