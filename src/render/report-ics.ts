import { createHash } from 'node:crypto';
import type { Expiry } from '../report/model.js';

/**
 * Grant expiries as an iCalendar feed (RFC 5545), one VEVENT per grant and expiresAt. Written by hand:
 * the format needs about sixty lines here (text escaping, folding, CRLF), fewer than a dependency's
 * options. Deterministic: DTSTAMP is the run's instant, UIDs hash the grant and its expiresAt, so the
 * same history at the same --now gives the same bytes and a calendar updates events in place.
 */

/** RFC 5545 §3.3.11 TEXT: backslash, semicolon, comma and line breaks escaped; other controls dropped. */
export function escapeIcsText(text: string): string {
  return (
    text
      .replace(/\\/g, '\\\\')
      .replace(/;/g, '\\;')
      .replace(/,/g, '\\,')
      .replace(/\r\n?|\n/g, '\\n')
      // Controls other than HTAB are not allowed in TEXT (§3.1: "CONTROL"); bidi overrides and
      // zero-width characters would reorder or hide what people read in their calendar.
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g, '')
  );
}

/** RFC 5545 §3.1: lines of at most 75 octets, continued after CRLF + one space, never inside a character. */
export function foldIcsLine(line: string): string {
  // Most lines are short ASCII: one octet per character, cut by index (20k calendars spent 1.6 s
  // measuring each character's octets).
  // eslint-disable-next-line no-control-regex
  if (/^[\u0000-\u007f]*$/.test(line)) {
    if (line.length <= 75) return line;
    const parts = [line.slice(0, 75)];
    for (let i = 75; i < line.length; i += 74) parts.push(line.slice(i, i + 74));
    return parts.join('\r\n ');
  }
  const out: string[] = [];
  let current = '';
  let octets = 0;
  for (const ch of line) {
    const cp = ch.codePointAt(0) ?? 0;
    const size = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    // The first line holds 75 octets; a continuation's leading space is one of its 75.
    if (octets + size > (out.length === 0 ? 75 : 74)) {
      out.push(current);
      current = '';
      octets = 0;
    }
    current += ch;
    octets += size;
  }
  out.push(current);
  return out.join('\r\n ');
}

/** UTC DATE-TIME form: 20261128T180000Z. */
export function icsTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => (n < 10 ? `0${n}` : String(n));
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}T${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
}

export interface CalendarOptions {
  /** The run's instant (DTSTAMP). */
  now: number;
  /** Shown as the calendar's name (X-WR-CALNAME). */
  name: string;
  /** The access repo's web URL, built from configuration (never from history): PR links. */
  repoUrl: string | undefined;
}

/** One VCALENDAR with an event at each expiry (a 15-minute block, with a reminder an hour before). */
export function renderCalendar(expiries: readonly Expiry[], opts: CalendarOptions): string {
  return calendarOf(
    expiries.map((e) => renderEvent(e, opts)),
    opts.name,
  );
}

/**
 * A VCALENDAR around events already rendered (renderEvent): the report renders each expiry once and
 * puts it in the feed of everyone and in its user's feed.
 */
export function calendarOf(events: readonly string[], name: string): string {
  const head = [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//grantops//access report//EN',
    'CALSCALE:GREGORIAN',
    'METHOD:PUBLISH',
    `X-WR-CALNAME:${escapeIcsText(name)}`,
  ]
    .map(foldIcsLine)
    .join('\r\n');
  return `${head}\r\n${events.join('')}END:VCALENDAR\r\n`;
}

/** One VEVENT, its lines folded, each ending in CRLF. */
export function renderEvent(e: Expiry, opts: Omit<CalendarOptions, 'name'>): string {
  const uid = createHash('sha256').update(`${e.grant}\n${e.expiresAt}`).digest('hex').slice(0, 32);
  const link = opts.repoUrl && e.pr !== undefined ? `${opts.repoUrl}/pull/${e.pr}` : undefined;
  const lines = [
    'BEGIN:VEVENT',
    `UID:${uid}@grantops`,
    `DTSTAMP:${icsTime(opts.now)}`,
    `DTSTART:${icsTime(e.expiresAt)}`,
    `DTEND:${icsTime(e.expiresAt + 15 * 60_000)}`,
    `SUMMARY:${escapeIcsText(`Access ends: ${e.user} on ${e.target} (${e.role})`)}`,
    `DESCRIPTION:${escapeIcsText(
      `Grant ${e.grant} expires: ${e.user} loses ${e.role} on ${e.target}.\nReason: ${e.reason}${link ? `\nPull request: ${link}` : ''}`,
    )}`,
    ...(link ? [`URL:${link}`] : []),
    'TRANSP:TRANSPARENT',
    'BEGIN:VALARM',
    'ACTION:DISPLAY',
    'TRIGGER:-PT1H',
    `DESCRIPTION:${escapeIcsText(`Access of ${e.user} on ${e.target} ends in an hour`)}`,
    'END:VALARM',
    'END:VEVENT',
  ];
  return `${lines.map(foldIcsLine).join('\r\n')}\r\n`;
}

/**
 * The file a user's calendar is written to under calendars/: the login in lower case when it is a
 * GitHub login (letters, digits, hyphens), else a hash, so no login from history can name a path.
 */
export function calendarFileName(user: string): string {
  const login = user.toLowerCase();
  if (/^[a-z0-9](?:[a-z0-9-]{0,38})$/.test(login)) return `${login}.ics`;
  return `user-${createHash('sha256').update(login).digest('hex').slice(0, 16)}.ics`;
}
