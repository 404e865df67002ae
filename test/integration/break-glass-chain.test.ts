import { chmodSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { aGrant } from '../support/builders.js';
import { cliIn, STATE_FILE_SCRIPT } from '../support/cli.js';
import { FakeGitHub } from '../support/github-server.js';
import { mergePullRequest } from '../support/merge.js';
import { pinnedGitClock, tempRepo, type TempRepo } from '../support/repo.js';

/**
 * Red team finding 3 (chaining): an allowed user re-merged a trivial edit of their own break-glass
 * grant before each deadline, each merge a new "use" with a fresh reviewWithin, so no deadline was
 * ever reached. Now only a commit that ADDS the file is a break-glass use; an edit needs ordinary
 * approval, and the version that stays applied keeps its own deadline. Real git, the local
 * GitHub server (OpenAPI-checked), an exec target; use 1 lands ~09:00 (review due ~10:00).
 */
const POLICY = `target: { name: vpn, type: exec, command: [./scripts/vpn.cjs] }
roles:
  ops:
    maxDuration: 8h
    approvals: 1
    approvers: [bob]
    breakGlass: { maxDuration: 4h, reviewWithin: 1h, allowed: [alice] }
`;
const bg = (expiresAt: string, reason: string) =>
  aGrant()
    .for('alice')
    .on('vpn', 'ops')
    .with('reason', reason)
    .with('breakGlass', true)
    .without('ticket')
    .expiresAt(expiresAt)
    .yaml();

let gh: FakeGitHub;
const repos: TempRepo[] = [];
beforeAll(async () => {
  gh = await FakeGitHub.start({ token: 'tok' });
});
afterEach(() => {
  expect(gh.violations).toEqual([]);
  gh.pulls.clear();
  gh.issues.clear();
  gh.comments.clear();
});
afterAll(async () => {
  await gh?.stop();
  for (const r of repos) r.cleanup();
});
const env = () => ({ GITHUB_TOKEN: 'tok', GITHUB_REPOSITORY: 'acme/access', GITHUB_API_URL: gh.url });

function accessRepo(): TempRepo {
  const repo = tempRepo(
    { 'policies/vpn.yaml': POLICY, 'scripts/vpn.cjs': STATE_FILE_SCRIPT, '.gitignore': '.state.json\n' },
    { git: true },
  );
  chmodSync(join(repo.dir, 'scripts/vpn.cjs'), 0o755);
  repo.commit('vpn policy');
  repos.push(repo);
  return repo;
}
const holders = (repo: TempRepo) =>
  existsSync(join(repo.dir, '.state.json'))
    ? (JSON.parse(readFileSync(join(repo.dir, '.state.json'), 'utf8')) as { user: string }[]).map(
        (e) => e.user,
      )
    : [];
const go = (repo: TempRepo, ...argv: string[]) => {
  const at = argv[argv.indexOf('--now') + 1];
  gh.issueClock = at ? () => at : undefined;
  return cliIn(repo.dir, argv, { env: env() });
};
/** Later commits land from `at` on (committer time: when a use lands on main). */
function landFrom(repo: TempRepo, at: string) {
  const tick = pinnedGitClock(Date.parse(at));
  const base = repo.gitEnv.bind(repo);
  repo.gitEnv = () => ({ ...base(), ...tick() });
}

describe('break-glass: chaining uses no longer moves the review deadline', () => {
  it('an unapproved edit of a break-glass grant is refused, its access taken back, and the audit flags the use', async () => {
    const repo = accessRepo();
    mergePullRequest(repo, gh, {
      number: 7,
      author: 'alice',
      files: { 'grants/alice-bg.yaml': bg('2026-11-28T13:00:00Z', 'INC-1') },
      reviews: [],
    });
    expect((await go(repo, 'apply', '--now', '2026-11-28T09:30:00Z')).code).toBe(0);
    expect(holders(repo)).toEqual(['alice']);
    // Use 2: the same file, a new reason and a later expiry, merged without approval before 10:00.
    landFrom(repo, '2026-11-28T09:55:00Z');
    mergePullRequest(repo, gh, {
      number: 8,
      author: 'alice',
      files: { 'grants/alice-bg.yaml': bg('2026-11-28T13:50:00Z', 'INC-1 still') },
      reviews: [],
    });
    const apply = await go(repo, 'apply', '--now', '2026-11-28T09:56:00Z');
    expect(apply.code).toBe(1);
    expect(apply.stdout + apply.stderr).toContain('break-glass applies only to a grant file its commit adds');
    // The first use loses its access with its edit: no version is left to outlive its deadline.
    expect(holders(repo)).toEqual([]);
    // No retro-review issue for the edit: it is no use at all.
    expect(gh.repoIssues('acme/access')).toHaveLength(1);
    // Past the first use's deadline, nobody reviewed anything: no access is left.
    await go(repo, 'reap', '--now', '2026-11-28T10:30:00Z');
    expect(holders(repo)).toEqual([]);
    // The audit flags the use replaced before it was reviewed.
    const audit = await go(repo, 'audit', '--verify', '--format', 'json', '--now', '2026-11-28T10:40:00Z');
    const found = (JSON.parse(audit.stdout) as { violations: { kind: string; grant: string }[] }).violations;
    expect(found).toContainEqual(
      expect.objectContaining({ kind: 'break-glass-replaced-unreviewed', grant: 'alice-bg' }),
    );
  });

  it('an approved edit of a break-glass grant is an ordinary approved grant', async () => {
    const repo = accessRepo();
    mergePullRequest(repo, gh, {
      number: 7,
      author: 'alice',
      files: { 'grants/alice-bg.yaml': bg('2026-11-28T13:00:00Z', 'INC-1') },
      reviews: [],
    });
    expect((await go(repo, 'apply', '--now', '2026-11-28T09:30:00Z')).code).toBe(0);
    landFrom(repo, '2026-11-28T09:55:00Z');
    mergePullRequest(repo, gh, {
      number: 8,
      author: 'alice',
      files: { 'grants/alice-bg.yaml': bg('2026-11-28T12:50:00Z', 'INC-1 still') },
      reviews: [{ user: 'bob' }],
    });
    expect((await go(repo, 'apply', '--now', '2026-11-28T09:56:00Z')).code).toBe(0);
    await go(repo, 'reap', '--now', '2026-11-28T10:30:00Z');
    expect(holders(repo)).toEqual(['alice']);
  });
});
