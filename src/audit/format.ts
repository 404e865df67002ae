import { formatTimestamp } from '../model/time.js';
import { escapeJsonText, escapeTerminal } from '../render/escape.js';
import { escapeMarkdown } from '../render/markdown.js';
import { alignedLines } from '../render/table.js';
import { describeEvent } from './lifecycle-events.js';
import type { AuditEvent, HistoryEvent } from './lifecycle-model.js';
import type { ActiveAccess, Violation } from './query.js';
import type { BreakGlassRow } from './break-glass.js';

export type AuditFormat = 'table' | 'json' | 'csv' | 'markdown';

export interface AuditOutput {
  events: readonly HistoryEvent[];
  activeAt?: { at: Date; rows: ActiveAccess[] };
  violations?: Violation[];
  /** With --verify: every break-glass use and whether it was reviewed in time. */
  breakGlass?: BreakGlassRow[];
}

const ts = (d?: Date) => (d ? formatTimestamp(d) : '');

// Literals with every key (JSON leaves out the undefined ones): one shape, no conditional spreads,
// which made the garbage of a long audit survive into the old generation.
function eventJson(e: AuditEvent) {
  return {
    time: ts(e.time),
    type: e.type,
    grant: e.grant,
    user: e.user,
    target: e.target,
    role: e.role,
    commit: e.commit,
    author: e.author,
    pr: e.pr,
    reason: e.reason,
    ticket: e.ticket || undefined,
    startsAt: e.startsAt ? ts(e.startsAt) : undefined,
    expiresAt: e.expiresAt ? ts(e.expiresAt) : undefined,
    approvers: e.approvers,
    changes: e.changes,
    renamedFrom: e.renamedFrom || undefined,
    from: e.from ? ts(e.from) : undefined,
    to: e.to ? ts(e.to) : undefined,
    regranted: e.regranted ? true : undefined,
  };
}

function activeJson(a: ActiveAccess) {
  return {
    grant: a.grant,
    user: a.user,
    target: a.target,
    role: a.role,
    since: ts(a.since),
    expiresAt: a.expiresAt ? ts(a.expiresAt) : undefined,
    commit: a.commit,
    pr: a.pr,
    approvers: a.approvers,
    reason: a.reason,
  };
}

const EVENT_COLUMNS: readonly string[] = [
  'time',
  'type',
  'grant',
  'user',
  'target',
  'role',
  'pr',
  'author',
  'detail',
  'commit',
] as const;
function eventRow(e: AuditEvent): string[] {
  const detail =
    e.type === 'approved'
      ? `approved by ${(e.approvers ?? []).join(', ') || '(merge)'}`
      : e.type === 'extended'
        ? `extended ${ts(e.from)} -> ${ts(e.to)}: ${e.reason ?? ''}`
        : e.changes?.length
          ? e.changes.join('; ')
          : e.type === 'requested'
            ? `until ${ts(e.expiresAt)}${e.regranted ? ' (re-granted)' : ''}: ${e.reason ?? ''}`
            : e.renamedFrom
              ? `renamed from ${e.renamedFrom}`
              : '';
  return [
    ts(e.time),
    e.type,
    e.grant,
    e.user,
    e.target,
    e.role,
    e.pr !== undefined ? `#${e.pr}` : '',
    e.author,
    detail,
    e.commit.slice(0, 7),
  ];
}

interface Section {
  title: string;
  headers: readonly string[];
  count: number;
  /** The rows, made on demand: a history of 100,000 events is never one array of strings. */
  rows(): Iterable<string[]>;
}

function sections(out: AuditOutput): Section[] {
  const list: Section[] = [];
  if (out.activeAt) {
    const active = out.activeAt.rows;
    list.push({
      title: `Access at ${ts(out.activeAt.at)}`,
      headers: ['user', 'target', 'role', 'grant', 'since', 'expiresAt', 'pr', 'approvers', 'reason'],
      count: active.length,
      *rows() {
        for (const a of active) {
          yield [
            a.user,
            a.target,
            a.role,
            a.grant,
            ts(a.since),
            ts(a.expiresAt),
            a.pr !== undefined ? `#${a.pr}` : '',
            (a.approvers ?? []).join(' '),
            a.reason,
          ];
        }
      },
    });
  } else {
    const events = out.events;
    list.push({
      title: 'Events',
      headers: EVENT_COLUMNS,
      count: events.length,
      *rows() {
        for (const e of events) yield eventRow(describeEvent(e));
      },
    });
  }
  if (out.violations) {
    const violations = out.violations;
    list.push({
      title: 'Compliance findings',
      headers: ['kind', 'grant', 'user', 'target', 'role', 'commit', 'finding'],
      count: violations.length,
      *rows() {
        for (const v of violations)
          yield [v.kind, v.grant, v.user, v.target, v.role, v.commit.slice(0, 7), v.message];
      },
    });
  }
  if (out.breakGlass) {
    const uses = out.breakGlass;
    list.push({
      title: 'Break-glass uses',
      headers: [
        'grant',
        'user',
        'target',
        'role',
        'PR',
        'applied',
        'review by',
        'reviewed by',
        'reviewed at',
        'in time',
        'revoked early',
        'record',
      ],
      count: uses.length,
      *rows() {
        for (const u of uses)
          yield [
            u.grant,
            u.user,
            u.target,
            u.role,
            `#${u.pr}`,
            u.appliedAt,
            u.reviewBy,
            u.reviewedBy,
            u.reviewedAt,
            u.inTime,
            u.revokedEarly ? 'yes' : 'no',
            u.evidence,
          ];
      },
    });
  }
  return list;
}

/**
 * Renders the audit answer in one of the four formats, piece by piece, so the CLI can write a long
 * history without holding all of it as one string. `cell` sanitises and clips a table cell.
 */
export function* auditChunks(
  out: AuditOutput,
  format: AuditFormat,
  cell: (text: string) => string = (t) => escapeTerminal(t),
): Generator<string> {
  if (format === 'json') {
    // The same bytes as JSON.stringify(document, null, 2), one element at a time.
    const items = function* (key: string, values: Iterable<unknown>, last: boolean): Generator<string> {
      yield `  ${JSON.stringify(key)}: [`;
      let first = true;
      for (const v of values) {
        yield `${first ? '' : ','}\n    ${escapeJsonText(JSON.stringify(v, null, 2)).replace(/\n/g, '\n    ')}`;
        first = false;
      }
      yield `${first ? ']' : '\n  ]'}${last ? '' : ','}\n`;
    };
    yield '{\n';
    const events = out.events;
    yield* items(
      'events',
      (function* () {
        for (const e of events) yield eventJson(describeEvent(e));
      })(),
      !out.activeAt && !out.violations,
    );
    if (out.activeAt) {
      yield `  "at": ${JSON.stringify(ts(out.activeAt.at))},\n`;
      yield* items('activeAt', out.activeAt.rows.map(activeJson), !out.violations);
    }
    if (out.violations) yield* items('violations', out.violations, !out.breakGlass);
    if (out.breakGlass) yield* items('breakGlass', out.breakGlass, true);
    yield '}\n';
    return;
  }
  const parts = sections(out);
  if (format === 'csv') {
    for (const [i, section] of parts.entries()) {
      if (i > 0) yield '\r\n';
      yield `${section.headers.map(csvCell).join(',')}\r\n`;
      for (const row of section.rows()) yield `${row.map(csvCell).join(',')}\r\n`;
    }
    return;
  }
  if (format === 'markdown') {
    for (const [i, section] of parts.entries()) {
      if (i > 0) yield '\n';
      yield `### ${section.title}\n\n| ${section.headers.join(' | ')} |\n| ${section.headers.map(() => '---').join(' | ')} |\n`;
      for (const row of section.rows()) yield `| ${row.map((c) => escapeMarkdown(c)).join(' | ')} |\n`;
    }
    return;
  }
  for (const [i, section] of parts.entries()) {
    if (i > 0) yield '\n';
    yield `${section.title}\n`;
    if (section.count === 0) {
      yield '(none)\n';
      continue;
    }
    const headers = section.headers.map((h) => h.toUpperCase());
    for (const line of alignedLines(headers, () => section.rows(), cell)) yield `${line}\n`;
  }
}

/** The whole audit answer as one string (for small outputs: the job summary, tests). */
export function formatAudit(out: AuditOutput, format: AuditFormat, cell?: (text: string) => string): string {
  let text = '';
  for (const chunk of auditChunks(out, format, cell)) text += chunk;
  return text;
}

/**
 * RFC 4180 quoting; a leading =, +, - or @ is prefixed so spreadsheets never run it as a formula.
 * Control characters but line feed and tab (data inside a quoted cell) are shown escaped, as on a
 * terminal: CSV is printed to one as often as it is opened in a spreadsheet.
 */
function csvCell(text: string): string {
  const value = escapeTerminal(text, { keepLineFeedAndTab: true });
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** The audit as Markdown for the job summary: whole if it fits, else its newest events and findings. */
export function boundedMarkdown(out: AuditOutput, limit: number, file: string): string {
  const whole = formatAudit(out, 'markdown');
  if (Buffer.byteLength(whole) <= limit) return whole;
  for (const keep of [2000, 200, 0]) {
    const events = out.events.slice(out.events.length - keep);
    const violations = out.violations?.slice(0, Math.max(keep, 100));
    const text =
      `> The audit log has ${out.events.length} events${out.violations ? ` and ${out.violations.length} findings` : ''}, more than a job summary holds: ` +
      `${keep ? `the newest ${keep} events` : 'no events'}${violations && violations.length < (out.violations?.length ?? 0) ? ` and the first ${violations.length} findings` : ''} are shown; all of it is in \`${file}\` (the \`audit-file\` output).\n\n` +
      formatAudit({ ...out, events, ...(violations ? { violations } : {}) }, 'markdown');
    if (Buffer.byteLength(text) <= limit) return text;
  }
  return `> The audit log is too large for a job summary: it is in \`${file}\` (the \`audit-file\` output).\n`;
}
