import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FakeGitHub } from '../support/github-server.js';
import { mergePullRequest } from '../support/merge.js';
import { type TempRepo } from '../support/repo.js';
import { ALICE_GRANT, extendFixture, type ExtendFixture } from '../support/extend-fixture.js';

/**
 * Regression for the red team's finding 5 (maxTotal not enforced at apply): every change to a
 * grant on a role with maxTotal is measured from when the file first landed on main, whatever the
 * change wrote (no `extensions` entry, a moved startsAt, a delete and re-add inside one pull
 * request), and a clone that cannot tell refuses to decide. Real git, the local GitHub server, an
 * exec target keeping its state in a file. The grant lands at ~09:00 with maxTotal 12h: nothing
 * may last past ~21:00.
 */
let fx: ExtendFixture;
let gh: FakeGitHub;
let repo: TempRepo;
const BASE = ALICE_GRANT;
const LATE = `${BASE}expiresAt: 2026-11-28T23:00:00Z\n`;

beforeEach(async () => {
  fx = await extendFixture();
  ({ gh, repo } = fx);
});
afterEach(() => fx.stop());

const runIn = (dir: string, now: string, ...argv: string[]) => fx.run(now, argv, dir);
const run = (now: string, ...argv: string[]) => fx.run(now, argv);
const holders = (dir?: string): string[] => fx.holders(dir);
const approved = (file: string) => ({
  number: 2,
  author: 'alice',
  files: { 'grants/alice.yaml': file },
  reviews: [{ user: 'bob' }],
});

/** Apply at 15:00 and again at `later` (past the cap): refused both times, nobody holds access. */
async function expectRefused(why: string, later = '2026-11-28T22:30:00Z'): Promise<void> {
  const r = await run('2026-11-28T15:00:00Z', 'apply');
  expect(r.code).toBe(1);
  expect(r.stdout + r.stderr).toContain(why);
  expect(holders()).toEqual([]);
  const late = await run(later, 'apply');
  expect(late.code).toBe(1);
  expect(holders()).toEqual([]);
}

/** The max-total findings of `audit --verify` (the auditor's check, from history alone). */
async function maxTotalFindings(): Promise<string[]> {
  const r = await run('2026-11-28T15:00:00Z', 'audit', '--verify', '--format', 'json');
  const found = (JSON.parse(r.stdout) as { violations: { kind: string; grant: string; message: string }[] })
    .violations;
  return found.filter((v) => v.kind === 'max-total').map((v) => `${v.grant}: ${v.message}`);
}

describe('apply: maxTotal holds for every change to a grant (red team finding 5)', () => {
  it('control: an extension written past maxTotal is refused', async () => {
    mergePullRequest(
      repo,
      gh,
      approved(
        `${LATE}extensions:\n  - from: 2026-11-28T16:00:00Z\n    to: 2026-11-28T23:00:00Z\n    reason: more\n`,
      ),
    );
    await expectRefused('over the 12h maxTotal of role "ops" on "vpn"');
  });

  it('expiresAt moved by hand, with no extensions entry, is measured from the first landing', async () => {
    mergePullRequest(repo, gh, approved(LATE));
    await expectRefused('over the 12h maxTotal of role "ops" on "vpn"');
    expect(await maxTotalFindings()).toEqual([
      expect.stringMatching(
        /^alice: lasted 13h 59m since 2026-11-28T09:00:\d\d.000Z \(when its file first landed on main, or its earliest startsAt\), over the 12h maxTotal/,
      ),
    ]);
  });

  it('an extension that also moves startsAt to now is refused: startsAt is fixed, the chain does not restart', async () => {
    mergePullRequest(
      repo,
      gh,
      approved(
        `${BASE}startsAt: 2026-11-28T15:00:00Z\nexpiresAt: 2026-11-28T23:00:00Z\nextensions:\n  - from: 2026-11-28T16:00:00Z\n    to: 2026-11-28T23:00:00Z\n    reason: more\n`,
      ),
    );
    await expectRefused('"startsAt" must stay as it is at the base');
  });

  it('startsAt moved by hand (no extension) still counts from the earliest startsAt any version had', async () => {
    mergePullRequest(repo, gh, approved(`${BASE}startsAt: 2026-11-28T15:00:00Z\n${LATE.slice(BASE.length)}`));
    await expectRefused('over the 12h maxTotal');
  });

  it('dropping the extensions list is refused: extensions are history', async () => {
    mergePullRequest(
      repo,
      gh,
      approved(
        `${BASE}expiresAt: 2026-11-28T18:00:00Z\nextensions:\n  - from: 2026-11-28T16:00:00Z\n    to: 2026-11-28T18:00:00Z\n    reason: more\n`,
      ),
    );
    mergePullRequest(repo, gh, { ...approved(`${BASE}expiresAt: 2026-11-28T20:00:00Z\n`), number: 3 });
    // 20:00 is within 12h of ~09:00: only the history rule refuses it.
    await expectRefused('extensions are history and cannot be removed', '2026-11-28T19:30:00Z');
  });

  it('a delete and re-add in one rebase-merged pull request does not restart the chain', async () => {
    // Rebase merge: the PR's two commits land on main's first-parent line one by one.
    repo.git('rm', '-q', 'grants/alice.yaml');
    const gone = repo.commit('remove alice');
    repo.write({ 'grants/alice.yaml': LATE });
    const back = repo.commit('request alice again');
    gh.trees.set(back, new Map([['grants/alice.yaml', repo.git('rev-parse', `${back}:grants/alice.yaml`)]]));
    gh.repoPulls('acme/access').push({
      number: 2,
      author: 'alice',
      headSha: back,
      headRef: 'pr-2',
      mergeCommitSha: back,
      mergedAt: '2026-11-28T11:00:00Z',
      commits: [gone, back],
      reviews: [{ user: 'bob', state: 'APPROVED', commitId: back }],
    });
    await expectRefused('over the 12h maxTotal of role "ops" on "vpn"');
    // The audit sees two lifecycles, and the second goes on with the first's chain.
    expect(await maxTotalFindings()).toEqual([
      expect.stringContaining('lasted 13h 59m since 2026-11-28T09:00'),
    ]);
  });

  it('a grant moved by hand to a later day still counts from its first landing (its history before the window is read)', async () => {
    mergePullRequest(
      repo,
      gh,
      approved(`${BASE}startsAt: 2026-11-30T09:00:00Z\nexpiresAt: 2026-11-30T17:00:00Z\n`),
    );
    const r = await run('2026-11-30T10:00:00Z', 'apply');
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toContain('over the 12h maxTotal of role "ops" on "vpn"');
    expect(holders()).toEqual([]);
  });

  it('within maxTotal, a change with no extension is applied as before', async () => {
    mergePullRequest(repo, gh, approved(`${BASE}expiresAt: 2026-11-28T20:00:00Z\n`));
    const r = await run('2026-11-28T15:00:00Z', 'apply');
    expect(r.code).toBe(0);
    expect(holders()).toEqual(['alice']);
    expect(await maxTotalFindings()).toEqual([]);
  });

  it('a shallow clone refuses to decide rather than skip maxTotal', async () => {
    mergePullRequest(repo, gh, approved(LATE));
    const dir = mkdtempSync(join(tmpdir(), 'grantops-shallow-'));
    try {
      // Deep enough to read the policy at the pull request's base, not to see when the file landed.
      execFileSync('git', ['clone', '-q', '--depth', '2', `file://${repo.dir}`, dir]);
      const r = await runIn(dir, '2026-11-28T15:00:00Z', 'apply');
      expect(r.code).toBe(1);
      expect(r.stdout + r.stderr).toContain(
        "its role has a maxTotal (12h), measured from when the file landed on main, and this clone's history is cut (shallow)",
      );
      expect(holders(dir)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
