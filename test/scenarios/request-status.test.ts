import { describe, expect, it } from 'vitest';
import { SchemaRegistry } from '../../src/policy/schema-registry.js';
import { requestGrant } from '../../src/usecases/request-grant.js';
import { reportStatus } from '../../src/usecases/grant-status.js';
import { aGrant } from '../support/builders.js';
import { memoryTree } from '../support/memory-tree.js';
import type { Files } from '../support/repo.js';

const POLICY = `target: { name: vpn, type: exec, command: [./x] }
roles:
  ops: { maxDuration: 8h, approvals: 1, approvers: [bob] }
alerts: { before: [1h] }
grantSchema:
  required: [ticket]
`;
const registry = new SchemaRegistry();

/** request writes only what validate accepts, and never overwrites; status tells the state at T. */
function workTree(files: Files) {
  const written: Files = { ...files };
  return {
    written,
    deps: {
      work: memoryTree(written),
      registry,
      createFile: (path: string, text: string) => {
        if (written[path] !== undefined) return Promise.resolve(false);
        written[path] = text;
        return Promise.resolve(true);
      },
    },
  };
}
const request = { user: 'alice', target: 'vpn', role: 'ops', reason: 'INC-7 disk full', ticket: 'INC-7' };

describe('request', () => {
  it('writes a grant the policy accepts, expiring after the asked duration', async () => {
    const w = workTree({ 'policies/vpn.yaml': POLICY });
    const r = await requestGrant({ ...request, for: '2h', now: new Date('2026-11-28T12:00:00Z') }, w.deps);
    expect(r.path).toBe('grants/vpn/alice-ops-20261128-1200.yaml');
    expect(r.grant.expiresAt.toISOString()).toBe('2026-11-28T14:00:00.000Z');
    expect(w.written[r.path]).toContain('ticket: INC-7');
  });

  it('writes expiresAt in whole minutes, cut down so the grant never outlasts maxDuration', async () => {
    const w = workTree({ 'policies/vpn.yaml': POLICY });
    const now = new Date('2026-11-28T12:34:56.789Z');
    const r = await requestGrant({ ...request, for: '8h', now }, w.deps);
    expect(w.written[r.path]).toContain('expiresAt: 2026-11-28T20:34:00Z\n');
    expect(r.grant.expiresAt.getTime() - now.getTime()).toBeLessThanOrEqual(8 * 3_600_000);
  });

  it('refuses what the policy forbids, writing nothing', async () => {
    const w = workTree({ 'policies/vpn.yaml': POLICY });
    const now = new Date('2026-11-28T12:00:00Z');
    await expect(requestGrant({ ...request, for: '9h', now }, w.deps)).rejects.toThrow(/maxDuration|8h/);
    const { ticket: _omit, ...noTicket } = request;
    await expect(requestGrant({ ...noTicket, for: '1h', now }, w.deps)).rejects.toThrow(/ticket/);
    expect(Object.keys(w.written)).toEqual(['policies/vpn.yaml']);
  });

  it('never overwrites an existing file: the next free name is taken', async () => {
    const w = workTree({ 'policies/vpn.yaml': POLICY, 'grants/vpn/alice-ops-20261128-1200.yaml': 'taken' });
    const r = await requestGrant({ ...request, for: '1h', now: new Date('2026-11-28T12:00:00Z') }, w.deps);
    expect(r.path).toBe('grants/vpn/alice-ops-20261128-1200-2.yaml');
    expect(w.written['grants/vpn/alice-ops-20261128-1200.yaml']).toBe('taken');
  });
});

describe('status', () => {
  it('tells pending, active, expiring and expired at T, soonest first', async () => {
    const g = (user: string, expiresAt: string, startsAt?: string) => {
      const b = aGrant().for(user).on('vpn', 'ops').with('ticket', 'INC-1').expiresAt(expiresAt);
      return (startsAt ? b.startsAt(startsAt) : b).yaml();
    };
    const work = memoryTree({
      'policies/vpn.yaml': POLICY,
      'grants/a.yaml': g('a', '2026-11-28T11:00:00Z'),
      'grants/b.yaml': g('b', '2026-11-28T12:30:00Z'),
      'grants/c.yaml': g('c', '2026-11-28T18:00:00Z'),
      'grants/d.yaml': g('d', '2026-11-28T20:00:00Z', '2026-11-28T14:00:00Z'),
    });
    const r = await reportStatus({ now: new Date('2026-11-28T12:00:00Z') }, { work, registry });
    expect(r.rows.map((x) => [x.grant.id, x.state])).toEqual([
      ['a', 'expired'],
      ['b', 'expiring'],
      ['c', 'active'],
      ['d', 'pending'],
    ]);
  });

  it('shows a fresh grant as active: "expiring" is at most the last quarter of the role\'s maxDuration', async () => {
    // No alerts.before: the first alert window is 24h, longer than the whole 8h role.
    const policy = POLICY.replace('alerts: { before: [1h] }\n', '');
    const w = workTree({ 'policies/vpn.yaml': policy });
    const now = new Date('2026-11-28T12:00:00Z');
    await requestGrant({ ...request, for: '8h', now }, w.deps);
    const stateAt = async (t: string, expiringWithinMs?: number) => {
      const r = await reportStatus(
        { now: new Date(t), ...(expiringWithinMs !== undefined ? { expiringWithinMs } : {}) },
        { work: memoryTree(w.written), registry },
      );
      return r.rows.map((x) => x.state);
    };
    expect(await stateAt('2026-11-28T12:00:00Z')).toEqual(['active']);
    expect(await stateAt('2026-11-28T17:59:00Z')).toEqual(['active']);
    expect(await stateAt('2026-11-28T18:00:00Z')).toEqual(['expiring']); // 2h left: a quarter of 8h
    expect(await stateAt('2026-11-28T12:00:00Z', 86_400_000)).toEqual(['expiring']); // asked for 24h
  });

  it("keeps a policy's first alert window when it is the shorter one", async () => {
    const w = workTree({ 'policies/vpn.yaml': POLICY }); // alerts.before: [1h]
    await requestGrant({ ...request, for: '8h', now: new Date('2026-11-28T12:00:00Z') }, w.deps);
    const at = async (t: string) =>
      (await reportStatus({ now: new Date(t) }, { work: memoryTree(w.written), registry })).rows[0]?.state;
    expect(await at('2026-11-28T18:30:00Z')).toBe('active');
    expect(await at('2026-11-28T19:00:00Z')).toBe('expiring');
  });
});
