import { describe, expect, it } from 'vitest';
import { formatTimestamp, parseTimestamp } from '../../src/model/time.js';
import { grantStateAt, grantIdFromPath, type Grant } from '../../src/model/grant.js';

describe('parseTimestamp', () => {
  it.each([
    ['2026-11-28T18:00:00Z', '2026-11-28T18:00:00.000Z'],
    ['2026-11-28T19:30:00+01:30', '2026-11-28T18:00:00.000Z'],
    ['2026-11-28T13:00:00-05:00', '2026-11-28T18:00:00.000Z'],
    ['2026-11-28T18:00:00.250Z', '2026-11-28T18:00:00.250Z'],
    ['2024-02-29T00:00:00Z', '2024-02-29T00:00:00.000Z'],
  ])('reads %s', (text, iso) => {
    const r = parseTimestamp(text);
    expect(r.ok && r.date.toISOString()).toBe(iso);
  });

  it('refuses a date-time without an offset and shows the fix', () => {
    const r = parseTimestamp('2026-11-28T18:00:00');
    expect(r).toEqual({
      ok: false,
      reason:
        '"2026-11-28T18:00:00" has no time-zone offset; write it as RFC 3339 with Z or an explicit offset, e.g. 2026-11-28T18:00:00Z',
    });
  });

  it.each([
    '2026-11-28',
    '2026-02-30T00:00:00Z',
    '2025-02-29T00:00:00Z',
    '2026-11-28T24:00:00Z',
    'tomorrow',
    '2026-11-28T18:00Z',
    '2026-11-28T18:00:00+25:00',
  ])('refuses %s', (text) => {
    expect(parseTimestamp(text).ok).toBe(false);
  });

  it('formats in UTC at second precision', () => {
    expect(formatTimestamp(new Date('2026-11-28T18:00:00.000Z'))).toBe('2026-11-28T18:00:00Z');
  });

  // Date.UTC reads years 0-99 as 1900-1999: these came back 1950, 1999 and "not a real date".
  it.each([
    ['0050-01-01T00:00:00Z', 50],
    ['0099-12-31T23:59:59Z', 99],
    ['0000-02-29T00:00:00Z', 0],
    ['0001-01-01T00:30:00+00:30', 1],
    ['9999-12-31T23:59:59Z', 9999],
  ])('reads %s in year %d and formats it back as written', (text, year) => {
    const r = parseTimestamp(text);
    if (!r.ok) throw new Error(r.reason);
    expect(r.date.getUTCFullYear()).toBe(year);
    const utcText = text.replace('T00:30:00+00:30', 'T00:00:00Z');
    expect(formatTimestamp(r.date)).toBe(utcText);
    expect(parseTimestamp(formatTimestamp(r.date))).toEqual(r);
  });

  it('judges February by the year as written: 0000 and 0004 have a 29th, 0100 and 0001 do not', () => {
    expect(parseTimestamp('0000-02-29T00:00:00Z').ok).toBe(true);
    expect(parseTimestamp('0100-02-29T00:00:00Z').ok).toBe(false);
    expect(parseTimestamp('0001-02-29T00:00:00Z').ok).toBe(false);
    expect(parseTimestamp('0004-02-29T00:00:00Z').ok).toBe(true);
  });
});

describe('grantStateAt', () => {
  const grant: Grant = {
    id: 'x',
    file: 'grants/x.yaml',
    user: 'alice',
    target: 't',
    role: 'r',
    reason: 'r',
    startsAt: new Date('2026-11-28T10:00:00Z'),
    expiresAt: new Date('2026-11-28T18:00:00Z'),
  };
  const day = 86_400_000;
  it.each([
    ['2026-11-28T09:59:59Z', day, 'pending'],
    ['2026-11-28T10:00:00Z', 3_600_000, 'active'],
    ['2026-11-28T17:00:00Z', 3_600_000, 'expiring'],
    ['2026-11-28T18:00:00Z', 3_600_000, 'expired'],
  ] as const)('at %s (window %d) is %s', (now, window, state) => {
    expect(grantStateAt(grant, new Date(now), window)).toBe(state);
  });
});

describe('grantIdFromPath', () => {
  it('is the path under grants/ without .yaml', () => {
    expect(grantIdFromPath('grants/prod-db/alice-ro.yaml')).toEqual({ ok: true, id: 'prod-db/alice-ro' });
  });
  it.each([
    'grants/a b.yaml',
    'grants/$(rm -rf).yaml',
    'grants/-x.yaml',
    'grants/x\n.yaml',
    'grants/.hidden.yaml',
  ])('refuses %j', (path) => {
    expect(grantIdFromPath(path).ok).toBe(false);
  });
});
