import { formatTimestamp } from '../model/time.js';
import { escapeMarkdown } from '../render/markdown.js';
import type { AuditEvent } from './lifecycle.js';
import type { ActiveAccess, Violation } from './query.js';

export type AuditFormat = 'table' | 'json' | 'csv' | 'markdown';

export interface AuditOutput {
  events: AuditEvent[];
  activeAt?: { at: Date; rows: ActiveAccess[] };
  violations?: Violation[];
}

const ts = (d?: Date) => (d ? formatTimestamp(d) : '');

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
    ...(e.pr !== undefined ? { pr: e.pr } : {}),
    ...(e.reason !== undefined ? { reason: e.reason } : {}),
    ...(e.ticket ? { ticket: e.ticket } : {}),
    ...(e.startsAt ? { startsAt: ts(e.startsAt) } : {}),
    ...(e.expiresAt ? { expiresAt: ts(e.expiresAt) } : {}),
    ...(e.approvers ? { approvers: e.approvers } : {}),
    ...(e.changes ? { changes: e.changes } : {}),
    ...(e.renamedFrom ? { renamedFrom: e.renamedFrom } : {}),
    ...(e.regranted ? { regranted: true } : {}),
  };
}

function activeJson(a: ActiveAccess) {
  return {
    grant: a.grant,
    user: a.user,
    target: a.target,
    role: a.role,
    since: ts(a.since),
    ...(a.expiresAt ? { expiresAt: ts(a.expiresAt) } : {}),
    commit: a.commit,
    ...(a.pr !== undefined ? { pr: a.pr } : {}),
    ...(a.approvers ? { approvers: a.approvers } : {}),
    reason: a.reason,
  };
}

const EVENT_COLUMNS = [
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

/** Renders the audit answer in one of the four formats. */
export function formatAudit(
  out: AuditOutput,
  format: AuditFormat,
  table: (headers: string[], rows: string[][]) => string,
): string {
  if (format === 'json') {
    return `${JSON.stringify(
      {
        events: out.events.map(eventJson),
        ...(out.activeAt ? { at: ts(out.activeAt.at), activeAt: out.activeAt.rows.map(activeJson) } : {}),
        ...(out.violations ? { violations: out.violations } : {}),
      },
      null,
      2,
    )}\n`;
  }
  const sections: { title: string; headers: string[]; rows: string[][] }[] = [];
  if (out.activeAt) {
    sections.push({
      title: `Access at ${ts(out.activeAt.at)}`,
      headers: ['user', 'target', 'role', 'grant', 'since', 'expiresAt', 'pr', 'approvers', 'reason'],
      rows: out.activeAt.rows.map((a) => [
        a.user,
        a.target,
        a.role,
        a.grant,
        ts(a.since),
        ts(a.expiresAt),
        a.pr !== undefined ? `#${a.pr}` : '',
        (a.approvers ?? []).join(' '),
        a.reason,
      ]),
    });
  } else {
    sections.push({ title: 'Events', headers: [...EVENT_COLUMNS], rows: out.events.map(eventRow) });
  }
  if (out.violations) {
    sections.push({
      title: 'Compliance findings',
      headers: ['kind', 'grant', 'user', 'target', 'role', 'commit', 'finding'],
      rows: out.violations.map((v) => [
        v.kind,
        v.grant,
        v.user,
        v.target,
        v.role,
        v.commit.slice(0, 7),
        v.message,
      ]),
    });
  }
  if (format === 'csv') {
    return sections
      .map((s) => [s.headers, ...s.rows].map((r) => r.map(csvCell).join(',')).join('\r\n') + '\r\n')
      .join('\r\n');
  }
  if (format === 'markdown') {
    return sections
      .map(
        (s) =>
          `### ${s.title}\n\n| ${s.headers.join(' | ')} |\n| ${s.headers.map(() => '---').join(' | ')} |\n${s.rows
            .map((r) => `| ${r.map((c) => escapeMarkdown(c)).join(' | ')} |`)
            .join('\n')}\n`,
      )
      .join('\n');
  }
  return sections
    .map(
      (s) =>
        `${s.title}\n${
          s.rows.length
            ? table(
                s.headers.map((h) => h.toUpperCase()),
                s.rows,
              )
            : '(none)'
        }\n`,
    )
    .join('\n');
}

/** RFC 4180 quoting; a leading =, +, - or @ is prefixed so spreadsheets never run it as a formula. */
function csvCell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}
