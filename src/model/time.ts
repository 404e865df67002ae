/**
 * RFC 3339 date-time with a mandatory offset. `2026-11-28T18:00:00Z`, `2026-11-28T19:00:00+01:00`.
 * A date-time without an offset is ambiguous across runners' time zones, so it is refused, not guessed.
 */
const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

export type TimestampResult = { ok: true; date: Date } | { ok: false; reason: string };

/** Parses an RFC 3339 timestamp strictly: calendar-valid, offset required. */
export function parseTimestamp(text: string): TimestampResult {
  const m = RFC3339.exec(text);
  if (!m) {
    if (/^\d{4}-\d{2}-\d{2}([Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?$/.test(text)) {
      return {
        ok: false,
        reason: `"${text}" has no time-zone offset; write it as RFC 3339 with Z or an explicit offset, e.g. ${withZ(text)}`,
      };
    }
    return { ok: false, reason: `"${text}" is not an RFC 3339 date-time such as 2026-11-28T18:00:00Z` };
  }
  const [, y, mo, d, h, mi, s, frac, , sign, oh, om] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  const daysInMonth = new Date(utc(year, month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth || hour > 23 || minute > 59 || second > 60) {
    return { ok: false, reason: `"${text}" is not a real calendar date-time` };
  }
  let offsetMinutes = 0;
  if (sign) {
    const offH = Number(oh);
    const offM = Number(om);
    if (offH > 23 || offM > 59) return { ok: false, reason: `"${text}" has an invalid offset` };
    offsetMinutes = (sign === '-' ? -1 : 1) * (offH * 60 + offM);
  }
  const ms = frac ? Math.floor(Number(`0${frac}`) * 1000) : 0;
  // A leap second is folded into the next second: JavaScript time has no 60th second.
  const instant =
    utc(year, month - 1, day, hour, minute, Math.min(second, 59), ms) +
    (second === 60 ? 1000 : 0) -
    offsetMinutes * 60_000;
  return { ok: true, date: new Date(instant) };
}

/**
 * `Date.UTC` with the year taken as written: `Date.UTC` itself reads years 0-99 as 1900-1999, so
 * `0050-01-01` would become 1950 (and `0000-02-29` be refused, 1900 being no leap year).
 */
function utc(
  year: number,
  monthIndex: number,
  day: number,
  hour = 0,
  minute = 0,
  second = 0,
  ms = 0,
): number {
  const d = new Date(0);
  d.setUTCFullYear(year, monthIndex, day);
  d.setUTCHours(hour, minute, second, ms);
  return d.getTime();
}

function withZ(text: string): string {
  const base = text.replace(' ', 'T');
  if (/^\d{4}-\d{2}-\d{2}$/.test(base)) return `${base}T00:00:00Z`;
  if (/T\d{2}:\d{2}$/.test(base)) return `${base}:00Z`;
  return `${base}Z`;
}

/** Canonical UTC form used in generated files and JSON output: second precision, `Z`. */
export function formatTimestamp(date: Date): string {
  return date.toISOString().replace(/\.000Z$/, 'Z');
}

/** `date` cut down to its whole minute: times grantops writes carry no seconds or milliseconds. */
export function floorToMinute(date: Date): Date {
  return new Date(Math.floor(date.getTime() / 60_000) * 60_000);
}
