import { formatDuration } from '../model/duration.js';
import { formatTimestamp } from '../model/time.js';
import type { GrantChangeRow } from '../plan/grant-change.js';
import type { ValidationReport } from '../usecases/validate.js';

export interface PlanRowView {
  change: string;
  user: string;
  target: string;
  role: string;
  from: string;
  until: string;
  duration: string;
  approvalsText: string;
}

/** Plain-text fields of a plan row, shared by the PR comment, the job summary and the CLI. */
export function planRowView(row: GrantChangeRow): PlanRowView {
  return {
    change: row.change,
    user: row.user,
    target: row.target,
    role: row.role,
    from: row.startsAt ? formatTimestamp(row.startsAt) : 'on merge',
    until: formatTimestamp(row.expiresAt),
    duration: formatDuration(row.durationMs),
    approvalsText:
      row.approvals === 0 ? 'none (merge grants)' : `${row.approvals} from ${row.approvers.join(', ')}`,
  };
}

/** The view the `pr-comment.md` template receives. */
export function validationView(report: ValidationReport, now: Date) {
  const errors = report.findings.filter((f) => f.severity === 'error');
  const warnings = report.findings.filter((f) => f.severity === 'warning');
  return {
    ok: report.ok,
    errorCount: errors.length,
    rows: report.plan.map(planRowView),
    removed: report.removed,
    errors,
    warnings,
    ruleChanges: report.ruleChanges,
    policySource: report.base
      ? `${report.base.ref} (${report.base.commit.slice(0, 7)})`
      : report.policySource,
    grantsChecked: report.grantsChecked,
    now: formatTimestamp(now),
  };
}
