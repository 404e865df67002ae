import { describe, expect, it } from 'vitest';
import { aGrant } from '../support/builders.js';
import { execTarget as execTargetOf, Scenario } from '../support/fakes/scenario.js';

/**
 * Issue 11, in memory: revocation that cannot be lost. The reaper revokes first and never assumes
 * (a list that shows nothing is not a revoke), revocation is state-based (a skipped run loses
 * nothing), and git failures are reported next to the revocations already done.
 */
const POLICY = `target: { name: vpn, type: exec, command: [./scripts/vpn.sh] }
roles:
  ops: { maxDuration: 1d, approvals: 1, approvers: [lead] }
`;
const STRICT = `target: { name: vpn, type: exec, command: [./scripts/vpn.sh] }
roles:
  ops: { maxDuration: 1d, approvals: 1, approvers: [lead] }
grantSchema:
  required: [ticket]
`;
const grant = (user: string, expiresAt: string) =>
  aGrant().for(user).on('vpn', 'ops').expiresAt(expiresAt).without('ticket').yaml();

/** alice (expired at 11:00) and carol (live until 20:00), both approved, applied and recorded. */
async function applied(): Promise<Scenario> {
  const s = new Scenario({ 'policies/vpn.yaml': POLICY });
  s.mergePullRequest({
    number: 1,
    author: 'alice',
    files: { 'grants/alice.yaml': grant('alice', '2026-11-28T11:00:00Z') },
    approvedBy: ['lead'],
  });
  s.mergePullRequest({
    number: 2,
    author: 'carol',
    files: { 'grants/carol.yaml': grant('carol', '2026-11-28T20:00:00Z') },
    approvedBy: ['lead'],
  });
  const r = await s.apply('2026-11-28T10:00:00Z');
  expect(r.failed).toBe(false);
  expect(s.target('vpn').holds('alice', 'ops') && s.target('vpn').holds('carol', 'ops')).toBe(true);
  return s;
}
const originFiles = (s: Scenario) =>
  [...s.remote.branches.get('main')!.files.keys()].filter((p) => p.startsWith('grants/')).sort();
const revokes = (s: Scenario) => s.log.filter((c) => c.startsWith('revoke '));

describe('the reaper revokes, it never assumes', () => {
  it('calls revoke for an expired grant even when the target lists nothing', async () => {
    const s = await applied();
    s.target('vpn').listsNothingOnce = true;
    const r = await s.reap('2026-11-28T12:00:00Z');
    expect(revokes(s)).toEqual(['revoke alice ops']);
    expect(s.target('vpn').holds('alice', 'ops')).toBe(false);
    expect(r.revoked.map((x) => x.grant.id)).toEqual(['alice']);
    expect(originFiles(s)).toEqual(['grants/carol.yaml']);
  });

  it('revokes explicitly when the list fails, and reports the unreadable target', async () => {
    const s = await applied();
    s.target('vpn').observeError = 'connection refused';
    const r = await s.reap('2026-11-28T12:00:00Z');
    expect(revokes(s)).toEqual(['revoke alice ops']);
    expect(r.revoked.map((x) => x.grant.id)).toEqual(['alice']);
    expect(r.problems).toEqual([expect.stringMatching(/target vpn could not be read.*connection refused/)]);
    expect(s.target('vpn').holds('carol', 'ops')).toBe(true);
  });

  it('keeps the files of a target it could not set up, and says why', async () => {
    const s = await applied();
    s.broken.add('vpn');
    const r = await s.reap('2026-11-28T12:00:00Z');
    expect(r.revoked).toEqual([]);
    expect(r.failed.map((f) => [f.grant.id, f.reason])).toEqual([
      ['alice', expect.stringContaining('credentials missing')],
    ]);
    expect(originFiles(s)).toEqual(['grants/alice.yaml', 'grants/carol.yaml']);
  });

  it('revokes a grant whose file became invalid after it was applied, from what history says it granted', async () => {
    const s = await applied();
    // The policy later requires a ticket: alice's file (no ticket) is no longer a valid grant.
    s.pushToMain({ 'policies/vpn.yaml': STRICT });
    const r = await s.reap('2026-11-28T12:00:00Z');
    expect(s.target('vpn').holds('alice', 'ops')).toBe(false);
    expect(r.revoked.map((x) => x.grant.id)).toContain('alice');
    expect(originFiles(s)).not.toContain('grants/alice.yaml');
    // Reported, not silent: the invalid files are named.
    expect(r.problems.join('\n')).toMatch(/grants\/alice\.yaml.*ticket/);
  });

  it('revokes a typo-broken expired file by every user history says it named', async () => {
    const s = await applied();
    s.pushToMain({ 'grants/alice.yaml': 'user: alice\ntarget: vpn\nrole: ops\nexpiresAt: [oops\n' });
    const r = await s.reap('2026-11-28T12:00:00Z');
    expect(s.target('vpn').holds('alice', 'ops')).toBe(false);
    expect(r.revoked.map((x) => x.grant.id)).toEqual(['alice']);
  });
});

describe('revocation is state-based: a skipped run loses nothing', () => {
  it('revokes the access of a grant removed from main even though no apply ran for the removal', async () => {
    const s = await applied();
    // carol's grant is withdrawn early; the apply run for that push never happens.
    s.mergePullRequest({ number: 3, author: 'lead', files: { 'grants/carol.yaml': null } });
    await s.reap('2026-11-28T12:00:00Z');
    expect(s.target('vpn').holds('carol', 'ops')).toBe(false);
    expect(revokes(s)).toContain('revoke carol ops');
  });

  it('apply, too, revokes what a removed grant gave, without knowing the previous push', async () => {
    const s = await applied();
    s.mergePullRequest({ number: 3, author: 'lead', files: { 'grants/carol.yaml': null } });
    s.mergePullRequest({
      number: 4,
      author: 'lead',
      files: { 'policies/other.yaml': POLICY.replace('vpn', 'vpn2') },
    });
    const r = await s.apply('2026-11-28T10:30:00Z');
    expect(r.plan.actions.map((a) => `${a.kind} ${a.user} ${a.reason}`)).toContain('revoke carol removed');
    expect(s.target('vpn').holds('carol', 'ops')).toBe(false);
  });

  it('revokes what an approved grant gave when an unreviewed edit replaces it on main', async () => {
    const s = await applied();
    // carol pushes an extension straight to main: refused, and her old access ends with it.
    s.pushToMain({ 'grants/carol.yaml': grant('carol', '2026-11-29T08:00:00Z') });
    const r = await s.apply('2026-11-28T10:30:00Z');
    expect(r.refused.map((x) => x.grant.id)).toEqual(['carol']);
    expect(s.target('vpn').holds('carol', 'ops')).toBe(false);
  });

  it('takes nothing away when GitHub cannot answer: the approval is undecided, not refused', async () => {
    const s = await applied();
    s.pushToMain({ 'grants/carol.yaml': grant('carol', '2026-11-29T08:00:00Z') });
    s.github.failing.add('pullRequestForCommit');
    const r = await s.apply('2026-11-28T10:30:00Z');
    expect(r.failed).toBe(true);
    expect(r.approved.get('carol')).toMatchObject({ approved: false, undecided: true });
    expect(s.target('vpn').holds('carol', 'ops')).toBe(true);
    expect(r.plan.drift).toEqual([]);
  });

  it('keeps live access whose approval note could not be fetched, and says so', async () => {
    const s = await applied();
    const clone = (await import('../support/fakes/memory-git.js')).MemoryGit.cloneOf(s.remote);
    clone.faults.add('fetchNotes');
    const r = await s.reap('2026-11-28T12:00:00Z', { git: clone });
    expect(s.target('vpn').holds('carol', 'ops')).toBe(true);
    expect(s.target('vpn').holds('alice', 'ops')).toBe(false);
    expect(r.problems.join('\n')).toMatch(/could not fetch approval notes/);
  });
});

describe('git failures come after the revocations, and are reported with them', () => {
  it('revokes when the origin is unreachable, then reports the fetch failure and commits nothing', async () => {
    const s = await applied();
    s.git.faults.add('fetch');
    const r = await s.reap('2026-11-28T12:00:00Z');
    expect(s.target('vpn').holds('alice', 'ops')).toBe(false);
    expect(r.revoked.map((x) => x.grant.id)).toEqual(['alice']);
    expect(r.commit).toBeUndefined();
    expect(r.problems.join('\n')).toMatch(/could not bring the checkout to origin\/main.*unable to access/);
    expect(originFiles(s)).toContain('grants/alice.yaml');
  });

  it('reports a stale lock file at commit time next to the revocation done', async () => {
    const s = await applied();
    s.git.faults.add('commit');
    const r = await s.reap('2026-11-28T12:00:00Z');
    expect(r.revoked.map((x) => x.grant.id)).toEqual(['alice']);
    expect(r.problems.join('\n')).toMatch(/index\.lock/);
    expect(r.pushed).toBe(false);
  });

  it('reports a failed push instead of an internal error', async () => {
    const s = await applied();
    s.git.faults.add('push');
    const r = await s.reap('2026-11-28T12:00:00Z');
    expect(r.revoked.map((x) => x.grant.id)).toEqual(['alice']);
    expect(r.problems.join('\n')).toMatch(/push of the cleanup commit to origin\/main failed/);
  });

  it('refuses a dirty work tree with a clear message, after revoking, and discards nothing', async () => {
    const s = await applied();
    s.git.dirty = ['policies/vpn.yaml'];
    const before = s.git.head;
    const r = await s.reap('2026-11-28T12:00:00Z');
    expect(s.target('vpn').holds('alice', 'ops')).toBe(false);
    expect(r.problems.join('\n')).toMatch(
      /uncommitted changes \(policies\/vpn\.yaml\).*neither commits nor discards/,
    );
    expect(s.git.head).toBe(before);
    expect(s.log).not.toContain('reset origin/main');
  });

  it('refuses a detached HEAD and an unknown default branch, after revoking', async () => {
    const s = await applied();
    s.git.detached = true;
    const r = await s.reap('2026-11-28T12:00:00Z');
    expect(r.revoked.map((x) => x.grant.id)).toEqual(['alice']);
    expect(r.problems.join('\n')).toMatch(/HEAD is detached/);
    expect(r.commit).toBeUndefined();
  });

  it('does not remove a grant that was extended on main while its cleanup push was being redone', async () => {
    const s = await applied();
    const { MemoryGit } = await import('../support/fakes/memory-git.js');
    const other = MemoryGit.cloneOf(s.remote);
    other.commit('Merge pull request #9', { 'grants/alice.yaml': grant('alice', '2026-11-28T23:00:00Z') });
    let raced = false;
    s.remote.beforePush = () => {
      if (!raced) other.publish();
      raced = true;
    };
    const r = await s.reap('2026-11-28T12:00:00Z');
    expect(r.changedElsewhere).toEqual(['alice']);
    expect(originFiles(s)).toContain('grants/alice.yaml');
    expect(r.commit).toBeUndefined();
  });
});

describe('a grant that starts later', () => {
  it('is applied by the first scheduled apply after its startsAt, not by the merge run', async () => {
    const s = new Scenario({ 'policies/vpn.yaml': POLICY });
    s.mergePullRequest({
      number: 1,
      author: 'dave',
      files: {
        'grants/dave.yaml': aGrant()
          .for('dave')
          .on('vpn', 'ops')
          .startsAt('2026-11-28T14:00:00Z')
          .expiresAt('2026-11-28T18:00:00Z')
          .without('ticket')
          .yaml(),
      },
      approvedBy: ['lead'],
    });
    const atMerge = await s.apply('2026-11-28T12:00:00Z');
    expect(atMerge.plan.actions).toEqual([]);
    const scheduled = await s.apply('2026-11-28T14:10:00Z');
    expect(scheduled.plan.actions.map((a) => `${a.kind} ${a.user} ${a.reason}`)).toEqual(['grant dave new']);
    expect(s.target('vpn').holds('dave', 'ops')).toBe(true);
  });
});

describe('one slow target', () => {
  it('does not keep another target from being read, even with one call in flight', async () => {
    const s = new Scenario({
      'policies/vpn.yaml': POLICY,
      'policies/wiki.yaml': POLICY.replace('name: vpn', 'name: wiki'),
    });
    s.holding({ ...execTargetOf('vpn') }, 'zed', 'ops').holding({ ...execTargetOf('wiki') }, 'zed', 'ops');
    let release!: () => void;
    s.target('vpn').observeGate = new Promise<void>((r) => (release = r));
    const run = s.apply('2026-11-28T12:00:00Z', { concurrency: 1 });
    // Let the run reach the reads: wiki is read while vpn's list still hangs.
    const reads = () => s.log.filter((c) => c === 'observe').length;
    for (let i = 0; i < 200 && reads() < 2; i++) await new Promise((r) => setImmediate(r));
    expect(reads()).toBe(2);
    release();
    await run;
  });
});

describe('red-team findings (issue 11 review)', () => {
  it('keeps the file of an expired grant whose user became exempt: no revoke, so no removal', async () => {
    const s = await applied();
    s.pushToMain({
      'policies/vpn.yaml': POLICY.replace(
        'command: [./scripts/vpn.sh]',
        'command: [./scripts/vpn.sh], exempt: [alice]',
      ),
    });
    const r = await s.reap('2026-11-28T12:00:00Z');
    expect(r.revoked).toEqual([]);
    expect(r.failed.map((f) => [f.grant.id, f.reason])).toEqual([
      ['alice', expect.stringContaining('no revoke call')],
    ]);
    expect(originFiles(s)).toContain('grants/alice.yaml');
  });

  it('revokes a grant removed by hand whatever the list says', async () => {
    const s = await applied();
    s.mergePullRequest({ number: 3, author: 'lead', files: { 'grants/carol.yaml': null } });
    s.target('vpn').listsNothingOnce = true;
    await s.reap('2026-11-28T12:00:00Z');
    expect(s.target('vpn').holds('carol', 'ops')).toBe(false);
  });

  it('leaves alone access restored by hand long after a grant was reaped', async () => {
    const s = await applied();
    await s.reap('2026-11-28T12:00:00Z');
    expect(s.target('vpn').holds('alice', 'ops')).toBe(false);
    s.target('vpn').give('alice', 'ops');
    const r = await s.apply('2027-03-01T12:00:00Z');
    expect(s.target('vpn').holds('alice', 'ops')).toBe(true);
    expect(r.plan.drift.map((d) => d.user)).toEqual(['alice']);
  });
});

describe('red-team findings, round 2', () => {
  it('revokes explicitly a grant whose file a writer removed with a forged Revoked-Grant trailer', async () => {
    const s = await applied();
    s.pushToMain({ 'grants/alice.yaml': null }); // the message below is what matters
    s.git.head = { ...s.git.head, message: 'tidy\n\nRevoked-Grant: alice\n' };
    s.git.publish();
    s.target('vpn').listsNothingOnce = true;
    await s.reap('2026-11-28T12:00:00Z');
    expect(revokes(s)).toContain('revoke alice ops');
    expect(s.target('vpn').holds('alice', 'ops')).toBe(false);
  });

  it('takes back what a grant gave once its approval is withdrawn', async () => {
    const s = await applied();
    s.github.pulls.find((p) => p.number === 2)!.reviews = [];
    const r = await s.apply('2026-11-28T10:30:00Z');
    expect(r.refused.map((x) => x.grant.id)).toEqual(['carol']);
    expect(r.plan.actions.map((a) => `${a.kind} ${a.user} ${a.reason}`)).toContain('revoke carol withdrawn');
    expect(s.target('vpn').holds('carol', 'ops')).toBe(false);
  });
});
