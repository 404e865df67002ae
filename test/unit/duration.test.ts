import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../src/model/duration.js';

describe('parseDuration', () => {
  it.each([
    ['90m', 90 * 60_000],
    ['8h', 8 * 3_600_000],
    ['2d', 2 * 86_400_000],
    ['1w', 7 * 86_400_000],
    ['1d12h', 36 * 3_600_000],
    ['1h30m', 90 * 60_000],
    ['45s', 45_000],
  ])('reads %s', (text, ms) => {
    expect(parseDuration(text)).toEqual({ ok: true, ms });
  });

  it.each(['', '8', '1.5h', '8 hours', '8H', 'PT8H', '30m1h', '1h1h', '-1h', 'h', '0h', ' 8h', '8h '])(
    'refuses %j instead of guessing',
    (text) => {
      const r = parseDuration(text);
      expect(r.ok).toBe(false);
    },
  );

  it('explains the accepted form', () => {
    const r = parseDuration('8 hours');
    expect(r).toMatchObject({ ok: false, reason: expect.stringContaining('90m, 8h, 1d12h') as string });
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0m'],
    [45 * 60_000, '45m'],
    [8 * 3_600_000, '8h'],
    [26 * 3_600_000 + 5 * 60_000, '1d 2h'],
    [-90 * 60_000, '-1h 30m'],
  ])('%d ms is %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
