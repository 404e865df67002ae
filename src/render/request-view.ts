import { formatTimestamp } from '../model/time.js';
import type { GrantChangeRow } from '../plan/grant-change.js';
import { escapeMarkdown, mention } from './markdown.js';
import { planRowView } from './plan-view.js';

/**
 * The view `pr-comment.md` receives for a pull request grantops opens (`request --open-pr`, an
 * issue; `extend --open-pr` with a `modified` row): the plan validate will show for it, one grant
 * judged by the base's policies.
 */
export function requestPlanView(row: GrantChangeRow, policySource: string, now: Date) {
  return {
    ok: true,
    errorCount: 0,
    rows: [planRowView(row)],
    removed: [],
    errors: [],
    warnings: [],
    ruleChanges: [],
    policyChanges: [],
    codeChanges: [],
    policySource,
    grantsChecked: 1,
    now: formatTimestamp(now),
  };
}

/** Who asked and why, above the plan in the pull request's body (every value escaped). */
export function requestIntro(row: GrantChangeRow, from: { issue?: number; author?: string } = {}): string {
  const who = from.author !== undefined ? mention(from.author) : undefined;
  const asker = who === undefined ? '' : typeof who === 'string' ? escapeMarkdown(who) : who.text;
  const lines = [
    from.issue !== undefined
      ? `Access requested by ${asker} in #${from.issue}, opened by grantops.`
      : 'Access requested with `grantops request --open-pr`.',
    '',
    `- File: \`${row.file.replace(/`/g, '')}\``,
    `- Reason: ${escapeMarkdown(row.reason)}`,
    ...(row.ticket !== undefined ? [`- Ticket: ${escapeMarkdown(row.ticket)}`] : []),
    '',
    'Reviewer approval is the grant: it is applied on merge once the approvals below are given.',
    '',
  ];
  return lines.join('\n');
}
