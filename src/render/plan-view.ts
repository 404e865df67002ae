import { formatDuration } from '../model/duration.js';
import { formatTimestamp } from '../model/time.js';
import type { GrantChangeRow } from '../plan/grant-change.js';
import type { ValidationReport } from '../usecases/validate-repo.js';

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
    approvalsText: row.breakGlass
      ? `BREAK-GLASS: none before merge if opened by its user, one of ${row.breakGlass.allowed.join(', ')}; then 1 from ${row.approvers.join(', ')} within ${row.breakGlass.reviewWithin}, else revoked early`
      : row.approvals === 0
        ? 'none (merge grants)'
        : `${row.approvals} from ${row.approvers.join(', ')}`,
  };
}

export interface ApprovalProgress {
  approvers: string[];
  required: number;
  ok: boolean;
}

/** "1 of 2 from @acme/dba, bob: approved by bob" — what the plan comment shows on review events. */
export function progressText(row: GrantChangeRow, p: ApprovalProgress): string {
  if (row.breakGlass && !p.ok) return planRowView(row).approvalsText;
  if (p.required === 0) return 'none (merge grants)';
  const by = p.approvers.length > 0 ? `: ${p.approvers.join(', ')}` : '';
  return `${p.ok ? '✅' : '⏳'} ${Math.min(p.approvers.length, p.required)} of ${p.required} from ${row.approvers.join(', ')}${by}`;
}

/** The view the `pr-comment.md` template receives. */
export function validationView(
  report: ValidationReport,
  now: Date,
  progress?: ReadonlyMap<string, ApprovalProgress>,
) {
  const errors = report.findings.filter((f) => f.severity === 'error');
  const warnings = report.findings.filter((f) => f.severity === 'warning');
  const code = new Set(report.codeChanges.map((c) => c.path));
  return {
    ok: report.ok,
    errorCount: errors.length,
    rows: report.plan.map((row) => {
      const view = planRowView(row);
      const p = progress?.get(row.id);
      return p ? { ...view, approvalsText: progressText(row, p) } : view;
    }),
    removed: report.removed,
    errors,
    warnings,
    // All of them, as before (overrides iterate it); the default template splits code from rules.
    ruleChanges: report.ruleChanges,
    policyChanges: report.ruleChanges.filter((c) => !code.has(c.path)),
    codeChanges: report.codeChanges.map((c) => ({ ...c, targets: c.targets.join(', ') })),
    policySource: report.base
      ? `${report.base.ref} (${report.base.commit.slice(0, 7)})`
      : report.policySource,
    grantsChecked: report.grantsChecked,
    now: formatTimestamp(now),
  };
}
