import { describe, expect, it } from 'vitest';
import type { GrantLifecycle, GrantVersion, Landing } from '../../src/audit/lifecycle-model.js';
import { buildReport, DAY_MS } from '../../src/report/model.js';

const T = (iso: string) => Date.parse(iso);
const NOW = new Date('2026-11-28T12:00:00Z');
let seq = 0;
const landing = (iso: string, pr?: number): Landing => ({
  seq: seq++,
  commit: `${seq}`.padStart(40, 'a'),
  time: T(iso),
  author: 'someone',
  pr,
});

function version(id: string, landed: string, fields: Partial<GrantVersion> = {}): GrantVersion {
  return {
    id,
    file: `grants/${id}.yaml`,
    user: 'alice',
    target: 'prod-db',
    role: 'readonly',
    reason: 'INC-1 look',
    ticket: undefined,
    startsAt: undefined,
    expiresAt: T('2026-11-28T18:00:00Z'),
    landed: landing(landed, 7),
    policies: new Map(),
    approval: undefined,
    renamedFrom: undefined,
    ...fields,
  };
}
const life = (
  versions: GrantVersion[],
  ended?: { at: string; type: 'revoked' | 'removed' },
): GrantLifecycle => ({
  id: versions[versions.length - 1]!.id,
  versions,
  ended: ended ? { landed: landing(ended.at), type: ended.type } : undefined,
  regranted: false,
});
const window6h = () => 6 * 3_600_000;

describe('the report model (who has access at now, from lifecycles)', () => {
  it('sorts grants on main into active, expiring, pending and overdue by the status window', () => {
    const m = buildReport({
      now: NOW,
      expiringWindowMs: window6h,
      lifecycles: [
        life([
          version('a/active', '2026-11-28T08:00:00Z', { user: 'bob', expiresAt: T('2026-11-29T08:00:00Z') }),
        ]),
        life([version('a/expiring', '2026-11-28T08:00:00Z', { expiresAt: T('2026-11-28T17:00:00Z') })]),
        life([
          version('a/pending', '2026-11-28T08:00:00Z', {
            startsAt: T('2026-11-30T00:00:00Z'),
            expiresAt: T('2026-11-30T04:00:00Z'),
          }),
        ]),
        life([version('a/overdue', '2026-11-27T08:00:00Z', { expiresAt: T('2026-11-28T10:00:00Z') })]),
        life([version('a/ended', '2026-11-20T08:00:00Z')], { at: '2026-11-21T00:00:00Z', type: 'revoked' }),
      ],
    });
    expect(m.access.map((g) => [g.grant, g.state])).toEqual([
      ['a/expiring', 'expiring'],
      ['a/active', 'active'],
    ]);
    expect(m.expiring.map((g) => g.grant)).toEqual(['a/expiring']);
    expect(m.pending.map((g) => g.grant)).toEqual(['a/pending']);
    expect(m.overdue.map((g) => [g.grant, g.overdueMs, g.accessPresent])).toEqual([
      ['a/overdue', 2 * 3_600_000, undefined],
    ]);
    expect(m.drift).toEqual({ checked: false });
    expect(m.totals).toEqual({ lifecycles: 5, onMain: 4, targets: 1, users: 2 });
  });

  it('is the history as it stood at now: versions and ends that landed later do not count yet', () => {
    const grant = life(
      [
        version('g', '2026-11-28T08:00:00Z', { expiresAt: T('2026-11-28T20:00:00Z') }),
        version('g', '2026-11-28T13:00:00Z', { role: 'readwrite', expiresAt: T('2026-11-28T22:00:00Z') }),
      ],
      { at: '2026-11-28T14:00:00Z', type: 'removed' },
    );
    const later = life([version('later', '2026-11-28T15:00:00Z')]);
    const m = buildReport({ now: NOW, expiringWindowMs: () => 0, lifecycles: [grant, later] });
    expect(m.access.map((g) => [g.grant, g.role, g.until])).toEqual([
      ['g', 'readonly', T('2026-11-28T20:00:00Z')],
    ]);
    expect(m.totals.lifecycles).toBe(1);
  });

  it('puts on the timeline what meets the 14 days either side of now, ended grants as past', () => {
    const m = buildReport({
      now: NOW,
      expiringWindowMs: () => 0,
      lifecycles: [
        life([version('old', '2026-10-01T00:00:00Z', { expiresAt: T('2026-10-02T00:00:00Z') })], {
          at: '2026-10-02T00:05:00Z',
          type: 'revoked',
        }),
        life(
          [
            version('recent', '2026-11-20T00:00:00Z', {
              target: 'vpn',
              expiresAt: T('2026-11-21T00:00:00Z'),
            }),
          ],
          {
            at: '2026-11-21T00:10:00Z',
            type: 'revoked',
          },
        ),
        life([
          version('far', '2026-11-28T09:00:00Z', {
            startsAt: T('2027-01-01T00:00:00Z'),
            expiresAt: T('2027-01-01T04:00:00Z'),
          }),
        ]),
        life([version('now', '2026-11-28T09:00:00Z')]),
      ],
    });
    expect(m.timeline.map((b) => [b.target, b.grant, b.kind, b.end])).toEqual([
      ['prod-db', 'now', 'active', T('2026-11-28T18:00:00Z')],
      ['vpn', 'recent', 'past', T('2026-11-21T00:10:00Z')],
    ]);
    // Calendars: every grant on main, and expiries of the last 14 days.
    expect(m.expiries.map((e) => e.grant)).toEqual(['recent', 'now', 'far']);
    expect(m.pending[0]?.since).toBe(T('2027-01-01T00:00:00Z'));
    expect(NOW.getTime() - 14 * DAY_MS).toBeLessThan(T('2026-11-20T00:00:00Z'));
  });

  it('with observed targets: drift, grants whose access is missing, overdue access still present', () => {
    const m = buildReport({
      now: NOW,
      expiringWindowMs: () => 0,
      lifecycles: [
        life([version('late', '2026-11-27T08:00:00Z', { expiresAt: T('2026-11-28T11:00:00Z') })]),
        life([version('late2', '2026-11-27T08:00:00Z', { expiresAt: T('2026-11-28T11:30:00Z') })]),
        life([version('unapplied', '2026-11-28T08:00:00Z')]),
      ],
      observed: {
        unexplained: [{ target: 'vpn', user: 'mallory', entitlement: 'ops', enforced: false }],
        missing: new Set(['unapplied', 'gone-from-main']),
        outlives: new Map([['late', 3_600_000]]),
        unreadable: [{ target: 'db', error: 'connection refused' }],
      },
    });
    expect(m.overdue.map((g) => [g.grant, g.accessPresent])).toEqual([
      ['late', true],
      ['late2', false],
    ]);
    expect(m.drift.checked && m.drift.missing.map((g) => g.grant)).toEqual(['unapplied']);
    expect(m.drift.checked && m.drift.unexplained).toEqual([
      { target: 'vpn', user: 'mallory', entitlement: 'ops', enforced: false },
    ]);
    expect(m.drift.checked && m.drift.unreadable).toHaveLength(1);
  });

  it('shows recorded approvers and whether their signature checks out', () => {
    const evidence = {
      pr: 7,
      headSha: 'h',
      approvers: ['bob'],
      commit: 'c',
      blob: 'b',
      verifiedAt: '2026-11-28T08:00:00Z',
    };
    const m = buildReport({
      now: NOW,
      expiringWindowMs: () => 0,
      verifyEvidence: (id) => id === 'signed',
      lifecycles: [
        life([version('signed', '2026-11-28T08:00:00Z', { approval: evidence })]),
        life([version('forged', '2026-11-28T08:00:00Z', { approval: evidence })]),
        life([version('none', '2026-11-28T08:00:00Z')]),
      ],
    });
    expect(m.access.map((g) => [g.grant, g.approvers, g.approvalVerified])).toEqual([
      ['forged', ['bob'], false],
      ['none', [], undefined],
      ['signed', ['bob'], true],
    ]);
  });
});
