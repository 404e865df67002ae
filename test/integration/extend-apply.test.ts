import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FakeGitHub } from '../support/github-server.js';
import { mergeBranch } from '../support/merge.js';
import { type TempRepo } from '../support/repo.js';
import { extendFixture, type ExtendFixture } from '../support/extend-fixture.js';

/**
 * An extension is approved like any grant change: on merge it is the file's newest introducing
 * commit, and apply asks GitHub for the reviews of that pull request. Real git, the local GitHub
 * server, an exec target keeping its state in a file.
 */
let fx: ExtendFixture;
let gh: FakeGitHub;
let repo: TempRepo;

beforeEach(async () => {
  fx = await extendFixture();
  ({ gh, repo } = fx);
});
afterEach(() => fx.stop());

const run = (now: string, ...argv: string[]) => fx.run(now, argv);
const holders = (dir?: string): string[] => fx.holders(dir);

/** alice runs `grantops extend` on a branch, and the pull request is merged with these reviews. */
async function mergeExtension(reviews: string[]): Promise<void> {
  repo.git('checkout', '-q', '-b', 'pr-2', 'main');
  const r = await run(
    '2026-11-28T12:00:00Z',
    'extend',
    'alice',
    '--for',
    '2h',
    '--reason',
    'rollback still running',
  );
  expect(r.code).toBe(0);
  const head = repo.commit('extend alice by 2h');
  mergeBranch(repo, gh, {
    number: 2,
    author: 'alice',
    branch: 'pr-2',
    mergedAt: '2026-11-28T12:10:00Z',
    commits: [head],
    reviews: reviews.map((user) => ({ user, state: 'APPROVED', commitId: head })),
  });
}

describe('apply after an extension', () => {
  it('approved: the access outlives the old expiresAt and ends at the new one', async () => {
    expect((await run('2026-11-28T12:00:00Z', 'apply')).code).toBe(0);
    expect(holders()).toEqual(['alice']);
    await mergeExtension(['bob']);
    const later = await run('2026-11-28T17:00:00Z', 'apply');
    expect(later.code).toBe(0);
    expect(holders()).toEqual(['alice']);
    const end = await run('2026-11-28T18:00:00Z', 'apply');
    expect(end.code).toBe(0);
    expect(end.stdout).toMatch(/revoke\s+vpn\s+alice\s+ops\s+expired/);
    expect(holders()).toEqual([]);

    // The audit shows one lifecycle: requested, approved, then extended by PR #2.
    const audit = await run('2026-11-28T18:00:00Z', 'audit', '--format', 'json');
    const events = (JSON.parse(audit.stdout) as { events: Record<string, unknown>[] }).events;
    const verify = await run('2026-11-28T18:00:00Z', 'audit', '--verify', '--format', 'json');
    const kinds = (JSON.parse(verify.stdout) as { violations: { kind: string }[] }).violations.map(
      (v) => v.kind,
    );
    expect(kinds).not.toContain('max-total'); // 18:00 is 9 h after it landed: within the 12h maxTotal
    // (Approvals sort by when apply verified them, after these pinned commit dates.)
    expect(
      events.filter((e) => e.type !== 'approved').map((e) => `${String(e.type)} ${String(e.grant)}`),
    ).toEqual(['requested alice', 'extended alice']);
    expect(events.filter((e) => e.type === 'approved').map((e) => e.pr)).toEqual([1, 2]);
    const extended = events.find((e) => e.type === 'extended');
    expect(extended).toMatchObject({
      type: 'extended',
      from: '2026-11-28T16:00:00Z',
      to: '2026-11-28T18:00:00Z',
      expiresAt: '2026-11-28T18:00:00Z',
      reason: 'rollback still running',
      pr: 2,
      author: expect.stringContaining('Test Author') as unknown,
    });
  });

  it('without the required approval: refused, exit 1, and the target is not extended', async () => {
    expect((await run('2026-11-28T12:00:00Z', 'apply')).code).toBe(0);
    await mergeExtension([]);
    const refused = await run('2026-11-28T12:30:00Z', 'apply');
    expect(refused.code).toBe(1);
    expect(refused.stderr + refused.stdout).toContain('alice');
    // The version bob approved is no longer what main says: its access is taken back at once
    // (as for any grant change merged without approval), never carried past its old expiresAt.
    expect(holders()).toEqual([]);
    const later = await run('2026-11-28T17:00:00Z', 'apply');
    expect(later.code).toBe(1);
    expect(holders()).toEqual([]);
  });

  it("an approved extension over the base policy's maxTotal is refused at apply too", async () => {
    expect((await run('2026-11-28T12:00:00Z', 'apply')).code).toBe(0);
    // Written by hand and merged without the check: 21:30 is 7.5 h after 14:00 (within maxDuration)
    // but 12.5 h after the file landed on main (~09:00), over the 12h maxTotal.
    repo.git('checkout', '-q', '-b', 'pr-3', 'main');
    repo.write({
      'grants/alice.yaml': `user: alice\ntarget: vpn\nrole: ops\nreason: INC-7 restore the VPN\nexpiresAt: 2026-11-28T21:30:00Z\nextensions:\n  - { from: 2026-11-28T16:00:00Z, to: 2026-11-28T21:30:00Z, reason: long }\n`,
    });
    const head = repo.commit('extend by hand');
    mergeBranch(repo, gh, {
      number: 3,
      author: 'alice',
      branch: 'pr-3',
      mergedAt: '2026-11-28T12:10:00Z',
      commits: [head],
      reviews: [{ user: 'bob', state: 'APPROVED', commitId: head }],
    });
    const r = await run('2026-11-28T14:00:00Z', 'apply');
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toContain('over the 12h maxTotal of role "ops" on "vpn"');
    // The auditor's check finds it too, from history alone.
    const audit = await run('2026-11-28T14:00:00Z', 'audit', '--verify', '--format', 'json');
    const found = (
      JSON.parse(audit.stdout) as { violations: { kind: string; grant: string; message: string }[] }
    ).violations;
    expect(found.filter((v) => v.kind === 'max-total')).toEqual([
      expect.objectContaining({
        grant: 'alice',
        message: expect.stringContaining(
          'over the 12h maxTotal of the policy in force when it was merged',
        ) as unknown,
      }),
    ]);
  });
});
