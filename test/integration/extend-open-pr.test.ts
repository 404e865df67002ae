import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { aGrant, NOW, POLICIES } from '../support/builders.js';
import { cliIn } from '../support/cli.js';
import { FakeGitHub } from '../support/github-server.js';
import { tempRepo, type TempRepo } from '../support/repo.js';
import { servedRepo, type ServedRepo } from '../support/served-repo.js';

/**
 * `extend --open-pr`: the grant and its policy are read from the base branch as GitHub serves it, the
 * extension judged there, then proposed through the Git Data API as a change to the same file. The
 * local GitHub server keeps the repository in a real bare repo, so the branch is checked with git.
 */
const REPO = 'acme/access';
const FILE = 'grants/vpn/alice.yaml';
let gh: FakeGitHub;
let served: ServedRepo;
let local: TempRepo;
let bare: string;

beforeAll(async () => {
  gh = await FakeGitHub.start();
});
afterAll(async () => {
  await gh.stop();
});
beforeEach(() => {
  gh.openPulls.clear();
  gh.requests.length = 0;
  gh.violations.length = 0;
  served = servedRepo(
    gh,
    {
      ...POLICIES,
      'scripts/vpn.sh': '#!/bin/sh\n',
      [FILE]: aGrant().for('alice').on('vpn', 'ops').expiresAt('2026-11-28T14:00:00Z').yaml(),
    },
    { repo: REPO },
  );
  ({ bare, clone: local } = served);
  // The person's clone loosens the policy in its work tree: the base's still judges.
  local.write({
    'policies/vpn.yaml': POLICIES['policies/vpn.yaml'].replace('maxDuration: 12h', 'maxDuration: 48h'),
  });
});
afterEach(() => served.cleanup());

const ENV = { get: () => ({ GITHUB_TOKEN: gh.token, GITHUB_REPOSITORY: REPO, GITHUB_API_URL: gh.url }) };
const extend = (by: string) =>
  cliIn(
    local.dir,
    [
      '--now',
      NOW,
      'extend',
      'vpn/alice',
      '--for',
      by,
      '--reason',
      'INC-7 still <b>flapping</b>',
      '--open-pr',
    ],
    { env: ENV.get() },
  );
const inBare = (...args: string[]) => served.inBare(...args);
const pulls = () => gh.openPulls.get(REPO) ?? [];

describe('grantops extend --open-pr', () => {
  it('proposes the extended file on a branch, with the plan in the pull request; a rerun finds it', async () => {
    const before = readFileSync(join(local.dir, FILE), 'utf8');
    const r = await extend('1h');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toMatch(new RegExp(`^https://github\\.example/${REPO}/pull/\\d+$`));
    expect(gh.violations).toEqual([]);
    const [pr, ...more] = pulls();
    expect(more).toEqual([]);
    expect(pr).toMatchObject({ base: 'main', title: 'Extend: alice → vpn/ops until 2026-11-28T15:00:00Z' });
    // One commit on main changing exactly the grant's file: expiresAt moved, the extension recorded.
    expect(inBare('rev-parse', `${pr!.head}^`)).toBe(inBare('rev-parse', 'main'));
    expect(inBare('diff', '--name-status', 'main', pr!.head)).toBe(`M\t${FILE}`);
    const text = inBare('show', `${pr!.head}:${FILE}`);
    expect(text).toContain('expiresAt: 2026-11-28T15:00:00Z');
    expect(text).toMatch(/extensions:\n\s+- from: 2026-11-28T14:00:00Z\n\s+to: 2026-11-28T15:00:00Z/);
    // The plan says what the change does; the reason is text, never markup.
    expect(pr!.body).toContain('| extended | alice | vpn | ops |');
    expect(pr!.body).not.toContain('<b>');
    // Nothing was written locally.
    expect(readFileSync(join(local.dir, FILE), 'utf8')).toBe(before);

    const again = await extend('1h');
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain(`already open: pull request #${pr!.number}`);
    expect(again.stderr).not.toContain('replaced');
    expect(pulls()).toHaveLength(1);
    expect(gh.requests.map((q) => q.operationId)).not.toContain('pulls/update');

    // Red team N4: a writer's workflow, acting as the same github-actions[bot], rewrote its words.
    const own = { ...pulls()[0]! };
    gh.openPulls.set(REPO, [{ ...own, title: 'Extend: approved, merge now', body: 'no plan' }]);
    const planted = await extend('1h');
    expect(planted.code, planted.stderr).toBe(0);
    expect(planted.stderr).toContain(
      `already open: pull request #${pr!.number} (${pr!.head} into main) extends`,
    );
    expect(planted.stderr).toContain('; its title and body were replaced by grantops’ own');
    expect(pulls()).toEqual([own]);

    // main moves (an unrelated merge): the rerun moves its own branch onto the new tip, same PR.
    const other = tempRepo();
    other.git('clone', '-q', bare, other.dir);
    other.write({ 'docs/notes.md': 'unrelated\n' });
    const tip = other.commit('unrelated');
    other.git('push', '-q', 'origin', 'HEAD:main');
    other.cleanup();
    const moved = await extend('1h');
    expect(moved.code, moved.stderr).toBe(0);
    expect(moved.stderr).toContain(`moved onto the base branch’s tip: pull request #${pr!.number}`);
    expect(pulls().map((p) => p.head)).toEqual([pr!.head]);
    expect(inBare('rev-parse', `${pr!.head}^`)).toBe(tip);
    expect(inBare('diff', '--name-status', 'main', pr!.head)).toBe(`M\t${FILE}`);
    expect(gh.violations).toEqual([]);
  });

  it("is judged by the base branch's policy, not the clone's: refused (exit 1), nothing created", async () => {
    const refsBefore = inBare('for-each-ref', '--format=%(refname)');
    const r = await extend('20h'); // 22h from now: over the base's 12h, within the clone's 48h
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('over the 12h maximum of role "ops"');
    expect(inBare('for-each-ref', '--format=%(refname)')).toBe(refsBefore);
    expect(pulls()).toEqual([]);
  });
});
