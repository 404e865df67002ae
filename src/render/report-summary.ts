import { DAY_MS, TIMELINE_DAYS, type ReportModel, type TimelineBar } from '../report/model.js';
import { escapeMarkdown } from './markdown.js';

/**
 * The job summary of `command: report`: the dashboard's "now" table and a Mermaid gantt of the last
 * and next 14 days, both bounded (a job summary holds 1 MiB, and a gantt of thousands of rows helps
 * nobody): the first `maxRows` rows and the `ganttRows` bars nearest now, saying how many were left out.
 */

const when = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');

/** Mermaid has no escaping for task and section names: anything but a plain set of characters goes. */
export function mermaidName(text: string): string {
  const safe = text
    .replace(/[^A-Za-z0-9 ._@/+-]/g, '_')
    .slice(0, 60)
    .trim();
  return safe || '_';
}

export function reportSummaryMarkdown(
  model: ReportModel,
  opts: { repoUrl: string | undefined; maxRows?: number; ganttRows?: number; pagesUrl?: string },
): string {
  const maxRows = opts.maxRows ?? 200;
  const out: string[] = [
    `### grantops access report, ${when(model.now)}Z`,
    '',
    `${model.access.length} grant(s) give access now; ${model.expiring.length} expiring soon, ${model.overdue.length} overdue, ${model.pending.length} pending.` +
      (model.drift.checked
        ? ` Drift: ${model.drift.unexplained.length} access(es) no grant explains, ${model.drift.missing.length} grant(s) not applied.`
        : ' Drift was not checked (observe: false).'),
    '',
  ];
  if (model.access.length) {
    out.push(
      '| Target | User | Role | State | Since (UTC) | Until (UTC) | Approvers | PR |',
      '| --- | --- | --- | --- | --- | --- | --- | --- |',
    );
    for (const g of model.access.slice(0, maxRows)) {
      const pr =
        g.pr !== undefined && Number.isSafeInteger(g.pr) && g.pr > 0
          ? opts.repoUrl
            ? `[#${g.pr}](${opts.repoUrl}/pull/${g.pr})`
            : `#${g.pr}`
          : '';
      const approvers =
        g.approvalVerified === undefined
          ? 'none recorded'
          : `${g.approvers.map(escapeMarkdown).join(', ')}${g.approvalVerified ? '' : ' (unverified)'}`;
      out.push(
        `| ${[
          escapeMarkdown(g.target),
          escapeMarkdown(g.user),
          escapeMarkdown(g.role),
          g.state,
          when(g.since),
          g.until === undefined ? 'never' : when(g.until),
          approvers,
          pr,
        ].join(' | ')} |`,
      );
    }
    if (model.access.length > maxRows)
      out.push('', `The first ${maxRows} of ${model.access.length} rows; the dashboard has them all.`);
    out.push('');
  }
  out.push(ganttBlock(model, opts.ganttRows ?? 40));
  return `${out.join('\n')}\n`;
}

function ganttBlock(model: ReportModel, limit: number): string {
  const from = model.now - TIMELINE_DAYS * DAY_MS;
  const to = model.now + TIMELINE_DAYS * DAY_MS;
  // The bars nearest now first (what is live, then what ended last or starts next), then by target.
  const distance = (b: TimelineBar) =>
    b.start <= model.now && (b.end ?? Infinity) >= model.now
      ? 0
      : Math.min(Math.abs(b.start - model.now), Math.abs((b.end ?? b.start) - model.now));
  const chosen = [...model.timeline]
    .map((b, i) => ({ b, i }))
    .sort((x, y) => distance(x.b) - distance(y.b) || x.i - y.i)
    .slice(0, limit)
    .sort((x, y) => x.i - y.i)
    .map((x) => x.b);
  const title =
    model.timeline.length > chosen.length
      ? `Grants, last and next ${TIMELINE_DAYS} days (${chosen.length} nearest now of ${model.timeline.length})`
      : `Grants, last and next ${TIMELINE_DAYS} days`;
  const lines = [
    '```mermaid',
    'gantt',
    `  title ${title}`,
    '  dateFormat YYYY-MM-DD HH:mm',
    '  axisFormat %m-%d',
  ];
  const tag = { past: 'done, ', active: 'active, ', overdue: 'crit, ', pending: '' } as const;
  let section: string | undefined;
  chosen.forEach((b, i) => {
    if (b.target !== section) {
      section = b.target;
      lines.push(`  section ${mermaidName(b.target)}`);
    }
    const start = Math.max(b.start, from);
    const end = Math.max(start + 60_000, Math.min(b.end ?? to, to));
    lines.push(`  ${mermaidName(`${b.user} ${b.role}`)} :${tag[b.kind]}g${i}, ${when(start)}, ${when(end)}`);
  });
  lines.push('  section now', `  now :milestone, now, ${when(model.now)}, 0m`, '```');
  return lines.join('\n');
}
