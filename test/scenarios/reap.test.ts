import { describe, expect, it } from 'vitest';
import { aGrant } from '../support/builders.js';
import { MemoryGit } from '../support/fakes/memory-git.js';
import { execTarget, Scenario } from '../support/fakes/scenario.js';

/** The reaper's rules, in memory: revoke first, then one cleanup commit, pushed like a careful person. */
const POLICY = `target: { name: vpn, type: exec, command: [./scripts/vpn.sh] }
roles:
  ops: { maxDuration: 1d, approvals: 0 }
`;
const VPN = execTarget('vpn');
const grant = (user: string, expiresAt: string) =>
  aGrant().for(user).on('vpn', 'ops').expiresAt(expiresAt).without('ticket').yaml();

function repo(): Scenario {
  const s = new Scenario({ 'policies/vpn.yaml': POLICY });
  s.mergePullRequest({
    number: 1,
    author: 'lead',
    files: {
      'grants/alice.yaml': grant('alice', '2026-11-28T11:00:00Z'),
      'grants/bob.yaml': grant('bob', '2026-11-28T11:30:00Z'),
      'grants/carol.yaml': grant('carol', '2026-11-28T20:00:00Z'),
    },
  });
  for (const u of ['alice', 'bob', 'carol']) s.holding(VPN, u, 'ops');
  return s;
}
const originFiles = (s: Scenario) =>
  [...s.remote.branches.get('main')!.files.keys()].filter((p) => p.startsWith('grants/')).sort();

describe('reap', () => {
  it('revokes every expired grant, then removes their files in one commit with a trailer each', async () => {
    const s = repo();
    const r = await s.reap('2026-11-28T12:00:00Z');
    expect(r.revoked.map((x) => [x.grant.id, x.lagMs])).toEqual([
      ['alice', 3_600_000],
      ['bob', 1_800_000],
    ]);
    expect(s.target('vpn').holds('alice', 'ops')).toBe(false);
    expect(s.target('vpn').holds('carol', 'ops')).toBe(true);
    const tip = s.remote.branches.get('main')!;
    expect(tip.message).toMatch(/^grantops: revoke 2 expired grant\(s\)\n/);
    expect(tip.message).toContain('Revoked-Grant: alice\nRevoked-Grant: bob\n');
    expect(originFiles(s)).toEqual(['grants/carol.yaml']);
    // Revoke before forget: both revocations happened before the commit was made.
    const commit = s.log.indexOf('commit grants/alice.yaml,grants/bob.yaml');
    expect(commit).toBeGreaterThan(s.log.indexOf('revoke alice ops'));
    expect(commit).toBeGreaterThan(s.log.indexOf('revoke bob ops'));
    expect(s.log.indexOf('revoke alice ops')).toBeGreaterThan(-1);
  });

  it('keeps the file of a grant whose revocation failed, and says why', async () => {
    const s = repo();
    s.target('vpn').failRevokeFor.add('bob');
    const r = await s.reap('2026-11-28T12:00:00Z');
    expect(r.failed.map((f) => [f.grant.id, f.reason])).toEqual([
      ['bob', expect.stringContaining('directory unavailable')],
    ]);
    expect(originFiles(s)).toEqual(['grants/bob.yaml', 'grants/carol.yaml']);
    expect(s.target('vpn').holds('bob', 'ops')).toBe(true);
  });

  it('after a rejected push, waits a jittered moment, redoes the commit on the new tip, and never removes a file twice', async () => {
    const s = repo();
    s.randoms = [0.25];
    // Another reaper removed alice's grant while this one was revoking.
    const other = MemoryGit.cloneOf(s.remote);
    other.commit('grantops: revoke 1 expired grant(s)\n\nRevoked-Grant: alice\n', {
      'grants/alice.yaml': null,
    });
    let raced = false;
    s.remote.beforePush = () => {
      if (raced) return;
      raced = true;
      other.publish();
    };
    const r = await s.reap('2026-11-28T12:00:00Z');
    expect(s.clock.slept).toEqual([50 + Math.floor(0.25 * 200)]);
    expect(r.removedElsewhere).toEqual(['alice']);
    expect(r.pushed).toBe(true);
    const tip = s.remote.branches.get('main')!;
    expect(tip.message).toContain('Revoked-Grant: bob');
    expect(tip.message).not.toContain('Revoked-Grant: alice');
    expect(originFiles(s)).toEqual(['grants/carol.yaml']);
  });

  it('opens one cleanup pull request when main refuses pushes, and updates it on the next run', async () => {
    const s = repo();
    s.remote.protectedBranches.add('main');
    const first = await s.reap('2026-11-28T12:00:00Z');
    expect(first.pullRequest).toMatchObject({ created: true });
    expect(s.remote.branches.get('grantops/cleanup')?.message).toContain('Revoked-Grant: alice');
    const again = await s.reap('2026-11-28T12:15:00Z', { git: MemoryGit.cloneOf(s.remote) });
    expect(again.pullRequest).toEqual({ number: first.pullRequest!.number, created: false });
    expect(s.github.pullRequestsOpened).toHaveLength(1);
  });

  it('makes no commit and no push on a dry run', async () => {
    const s = repo();
    const r = await s.reap('2026-11-28T12:00:00Z', { dryRun: true });
    expect(r.revoked.map((x) => x.grant.id)).toEqual(['alice', 'bob']);
    expect(s.target('vpn').calls.filter((c) => c.startsWith('revoke'))).toEqual([]);
    expect(s.remote.pushes).toBe(0);
  });
});
