import { describe, expect, it } from 'vitest';
import { auditBreakGlass } from '../../src/audit/break-glass.js';
import type { GrantLifecycle, GrantVersion, Landing } from '../../src/audit/lifecycle-model.js';

// Red team: only the reaper writes `Revoked-Grant:`, and for a use that ends before its review
// deadline it never revokes before its expiresAt. A writer who removes their own unreviewed
// break-glass file early with that trailer in the commit message must not make the use vanish
// from `audit --verify`: it was used, and never reviewed.
const ms = (s: string) => Date.parse(s);
const H = 3_600_000;
const landing = (seq: number, commit: string, time: string): Landing => ({
  seq,
  commit,
  time: ms(time),
  author: 'alice',
  pr: seq,
});

function lifecycle(
  end: 'revoked' | 'removed',
  endedAt: string,
  expiresAt = '2026-11-28T10:00:00Z',
): GrantLifecycle {
  const landed = landing(1, 'c1', '2026-11-28T09:00:00Z');
  const version: GrantVersion = {
    id: 'vpn/alice-incident',
    file: 'grants/vpn/alice-incident.yaml',
    user: 'alice',
    target: 'vpn',
    role: 'ops',
    reason: 'INC-1',
    ticket: undefined,
    startsAt: undefined,
    expiresAt: ms(expiresAt), // by default a 1h use, review within 4h: due 13:00
    landed,
    policies: new Map(),
    approval: {
      pr: 1,
      headSha: 'h1',
      approvers: [],
      commit: 'c1',
      blob: 'b1',
      verifiedAt: '2026-11-28T09:00:00Z',
      breakGlass: { author: 'alice', landedAt: landed.time },
    },
    renamedFrom: undefined,
  };
  return {
    id: version.id,
    versions: [version],
    ended: { type: end, landed: landing(2, 'c2', endedAt) },
    regranted: false,
  };
}

const audit = (life: GrantLifecycle, within = 4 * H) =>
  auditBreakGlass(
    { lifecycles: [life] },
    {
      now: new Date('2026-11-29T09:00:00Z'),
      toleranceMs: 0.5 * H,
      reviewWithinAt: () => within,
      verifyEvidence: () => true,
    },
  ).violations.map((v) => v.kind);

describe('break-glass-never-reviewed survives a forged Revoked-Grant trailer (red team)', () => {
  it('a use removed early without the trailer is reported', () => {
    expect(audit(lifecycle('removed', '2026-11-28T09:30:00Z'))).toEqual(['break-glass-never-reviewed']);
  });

  it('a use removed early WITH a Revoked-Grant trailer (anyone can write it) is reported too', () => {
    expect(audit(lifecycle('revoked', '2026-11-28T09:30:00Z'))).toEqual(['break-glass-never-reviewed']);
  });

  it('the reaper removing it at its expiresAt is reported', () => {
    expect(audit(lifecycle('revoked', '2026-11-28T10:00:30Z'))).toEqual(['break-glass-never-reviewed']);
  });

  it('a longer use its writer removes before its review deadline (never reaped, never asked) is reported once due', () => {
    // 4h use, review within 1h (due 10:00): the file removed at 09:50, so nothing was left to revoke.
    for (const end of ['removed', 'revoked'] as const)
      expect(audit(lifecycle(end, '2026-11-28T09:50:00Z', '2026-11-28T13:00:00Z'), 1 * H)).toEqual([
        'break-glass-never-reviewed',
      ]);
  });

  it('the reaper revoking an unreviewed longer use at its deadline is the control acting: no finding', () => {
    expect(audit(lifecycle('revoked', '2026-11-28T10:00:30Z', '2026-11-28T13:00:00Z'), 1 * H)).toEqual([]);
  });
});
