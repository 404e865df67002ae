/**
 * Durations are written as one or more `<integer><unit>` parts, largest unit first:
 * `90m`, `8h`, `2d`, `1d12h`, `1w`. Anything else (`8`, `1.5h`, `8 hours`, `PT8H`) is refused
 * rather than guessed: a policy's limit must mean exactly one thing.
 */
const UNITS = { w: 604_800_000, d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000 } as const;
type Unit = keyof typeof UNITS;
const ORDER: readonly Unit[] = ['w', 'd', 'h', 'm', 's'];

export const DURATION_PATTERN = '^([0-9]+w)?([0-9]+d)?([0-9]+h)?([0-9]+m)?([0-9]+s)?$';

export type DurationResult = { ok: true; ms: number } | { ok: false; reason: string };

/** Parses a duration string to milliseconds. */
export function parseDuration(text: string): DurationResult {
  const bad = (): DurationResult => ({
    ok: false,
    reason: `"${text}" is not a duration; use whole numbers with units w, d, h, m, s, largest first (e.g. 90m, 8h, 1d12h)`,
  });
  if (text.length === 0 || text.length > 40) return bad();
  const re = /([0-9]+)([wdhms])/gy;
  let total = 0;
  let lastRank = -1;
  let consumed = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const unit = m[2] as Unit;
    const rank = ORDER.indexOf(unit);
    if (rank <= lastRank) return bad();
    lastRank = rank;
    total += Number(m[1]) * UNITS[unit];
    consumed = re.lastIndex;
  }
  if (consumed !== text.length) return bad();
  if (total <= 0) return { ok: false, reason: `"${text}" must be longer than zero` };
  if (!Number.isSafeInteger(total)) return bad();
  return { ok: true, ms: total };
}

/** Human form of a duration, largest units first, at most two parts: `2d 4h`, `45m`, `0m`. */
export function formatDuration(ms: number): string {
  const sign = ms < 0 ? '-' : '';
  let rest = Math.abs(ms);
  const parts: string[] = [];
  for (const unit of ['d', 'h', 'm'] as const) {
    const n = Math.floor(rest / UNITS[unit]);
    if (n > 0 || (unit === 'm' && parts.length === 0)) parts.push(`${n}${unit}`);
    rest -= n * UNITS[unit];
    if (parts.length === 2) break;
  }
  return sign + parts.join(' ');
}
