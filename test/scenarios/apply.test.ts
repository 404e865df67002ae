import { describe, expect, it } from 'vitest';
import { aGrant } from '../support/builders.js';
import { execTarget, Scenario } from '../support/fakes/scenario.js';

/** apply and approval finding, as rules: each scenario is a few merges and one run, in memory. */
const VPN_POLICY = `target: { name: vpn, type: exec, command: [./scripts/vpn.sh] }
roles:
  ops: { maxDuration: 12h, approvals: 1, approvers: [bob, "@acme/sre"] }
`;
const VPN = execTarget('vpn');
const grant = (user: string, expiresAt = '2026-11-28T18:00:00Z') =>
  aGrant().for(user).on('vpn', 'ops').expiresAt(expiresAt).without('ticket').yaml();

const repo = () => new Scenario({ 'policies/vpn.yaml': VPN_POLICY });

describe('apply: reviewer approval is the grant', () => {
  it('grants an approved grant and records its evidence as a note on the merge commit', async () => {
    const s = repo();
    const merge = s.mergePullRequest({
      number: 1,
      author: 'alice',
      files: { 'grants/alice.yaml': grant('alice') },
      approvedBy: ['bob'],
    });
    const r = await s.apply('2026-11-28T12:00:00Z');
    expect(r.failed).toBe(false);
    expect(s.target('vpn').holds('alice', 'ops')).toBe(true);
    expect(r.recorded).toBe(1);
    const note = JSON.parse(s.remote.notes.get(merge)!) as {
      grants: Record<string, { pr: number; approvers: string[] }>;
    };
    expect(note.grants.alice).toMatchObject({ pr: 1, approvers: ['bob'] });
  });

  it('refuses a grant pushed straight to main, grants nothing and fails the run', async () => {
    const s = repo();
    s.pushToMain({ 'grants/mallory.yaml': grant('mallory') });
    const r = await s.apply('2026-11-28T12:00:00Z');
    expect(r.failed).toBe(true);
    expect(r.refused.map((x) => [x.grant.id, x.reason])).toEqual([
      ['mallory', expect.stringContaining('no merged pull request')],
    ]);
    expect(s.log.filter((c) => c.startsWith('grant '))).toEqual([]);
  });

  it('never counts the grant’s user or the PR author, whoever else they are', async () => {
    const s = repo();
    s.github.teams.set('acme/sre', new Set(['bob', 'carol']));
    // bob asks for himself and approves his own PR; carol opens a PR for dan and approves it too.
    s.mergePullRequest({
      number: 1,
      author: 'bob',
      files: { 'grants/bob.yaml': grant('bob') },
      approvedBy: ['bob'],
    });
    s.mergePullRequest({
      number: 2,
      author: 'carol',
      files: { 'grants/dan.yaml': grant('dan') },
      approvedBy: ['carol'],
    });
    const r = await s.apply('2026-11-28T12:00:00Z');
    expect(r.refused.map((x) => x.grant.id).sort()).toEqual(['bob', 'dan']);
    expect(s.target('vpn').holds('bob', 'ops')).toBe(false);
    expect(s.target('vpn').holds('dan', 'ops')).toBe(false);
  });

  it('counts a team approver only while a member, and the latest review of each reviewer', async () => {
    const s = repo();
    s.github.teams.set('acme/sre', new Set(['carol']));
    s.mergePullRequest({
      number: 1,
      author: 'alice',
      files: { 'grants/alice.yaml': grant('alice') },
      approvedBy: ['erin'],
    });
    s.mergePullRequest({
      number: 2,
      author: 'frank',
      files: { 'grants/frank.yaml': grant('frank') },
      approvedBy: ['carol'],
    });
    s.mergePullRequest({
      number: 3,
      author: 'gina',
      files: { 'grants/gina.yaml': grant('gina') },
      approvedBy: ['bob'],
      reviews: [{ user: 'bob', state: 'CHANGES_REQUESTED' }],
    });
    const r = await s.apply('2026-11-28T12:00:00Z');
    expect([...r.approved].filter(([, v]) => v.approved).map(([id]) => id)).toEqual(['frank']);
    expect(r.refused.map((x) => x.grant.id).sort()).toEqual(['alice', 'gina']);
  });

  it('refuses an approval given to an earlier head, and a file changed after the reviewed head', async () => {
    const s = repo();
    s.mergePullRequest({
      number: 1,
      author: 'alice',
      files: { 'grants/alice.yaml': grant('alice') },
      reviews: [{ user: 'bob', state: 'APPROVED', onHead: false }],
    });
    s.mergePullRequest({
      number: 2,
      author: 'dan',
      files: { 'grants/dan.yaml': grant('dan', '2026-11-28T23:00:00Z') },
      headFiles: { 'grants/dan.yaml': grant('dan') },
      approvedBy: ['bob'],
    });
    const r = await s.apply('2026-11-28T12:00:00Z');
    const reasons = Object.fromEntries(r.refused.map((x) => [x.grant.id, x.reason]));
    expect(reasons.alice).toContain('0 of the 1 approval(s)');
    expect(reasons.dan).toContain('differs from the file at the reviewed head of PR #2');
  });

  it('revokes the access of an expired grant and leaves its file to the reaper', async () => {
    const s = repo().holding(VPN, 'alice', 'ops');
    s.mergePullRequest({
      number: 1,
      author: 'alice',
      files: { 'grants/alice.yaml': grant('alice', '2026-11-28T11:00:00Z') },
      approvedBy: ['bob'],
    });
    const r = await s.apply('2026-11-28T12:00:00Z');
    expect(s.target('vpn').calls).toContain('revoke alice ops');
    expect(s.target('vpn').holds('alice', 'ops')).toBe(false);
    expect(r.failed).toBe(false);
    expect(s.git.exists('grants/alice.yaml')).toBe(true);
  });

  it('reports access without a grant as drift and leaves it without enforce', async () => {
    const s = repo().holding(VPN, 'zoe', 'ops');
    const r = await s.apply('2026-11-28T12:00:00Z');
    expect(r.plan.drift.map((d) => d.user)).toEqual(['zoe']);
    expect(s.target('vpn').holds('zoe', 'ops')).toBe(true);
  });

  it('isolates a target that cannot be built: the run fails, the other targets are still applied', async () => {
    const s = new Scenario({
      'policies/vpn.yaml': VPN_POLICY,
      'policies/bastion.yaml': VPN_POLICY.replace('name: vpn', 'name: bastion'),
    });
    s.broken.add('bastion');
    s.mergePullRequest({
      number: 1,
      author: 'alice',
      files: {
        'grants/alice.yaml': grant('alice'),
        'grants/alice-bastion.yaml': aGrant().for('alice').on('bastion', 'ops').without('ticket').yaml(),
      },
      approvedBy: ['bob'],
    });
    const r = await s.apply('2026-11-28T12:00:00Z');
    expect(r.failed).toBe(true);
    expect(r.plan.unobserved.map((u) => u.target)).toEqual(['bastion']);
    expect(s.target('vpn').holds('alice', 'ops')).toBe(true);
  });

  it('asks GitHub once per pull request, however many grants it brought', async () => {
    const s = repo();
    const files = Object.fromEntries(['u1', 'u2', 'u3', 'u4'].map((u) => [`grants/${u}.yaml`, grant(u)]));
    s.mergePullRequest({ number: 1, author: 'alice', files, approvedBy: ['bob'] });
    await s.apply('2026-11-28T12:00:00Z');
    expect(s.github.calls.filter((c) => c === 'pullRequestForCommit')).toHaveLength(1);
    expect(s.github.calls.filter((c) => c === 'reviews')).toHaveLength(1);
    expect(s.github.calls.filter((c) => c === 'pullRequestCommits')).toHaveLength(1);
    expect(s.github.calls.filter((c) => c === 'fileBlobs')).toHaveLength(1);
  });
});
