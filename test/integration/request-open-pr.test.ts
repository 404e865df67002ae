import { rmSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { NOW, POLICIES } from '../support/builders.js';
import { cli, cliIn } from '../support/cli.js';
import { FakeGitHub } from '../support/github-server.js';
import { tempRepo, type TempRepo } from '../support/repo.js';
import { servedRepo, type ServedRepo } from '../support/served-repo.js';

/**
 * `request --open-pr`: the grant is judged by the base branch's policies as GitHub serves them, then
 * proposed through the Git Data API. The local GitHub server keeps the repository in a real bare
 * repo, so the branch it makes is cloned and validated like any pull request's.
 */
const REPO = 'acme/access';
const BRANCH = 'grantops/request/vpn/alice-ops-20261128-1200';
const FILE = 'grants/vpn/alice-ops-20261128-1200.yaml';
let gh: FakeGitHub;
let served: ServedRepo;
let local: TempRepo;
let bare: string;
const scratch: string[] = [];

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
  gh.clearFaults();
  served = servedRepo(gh, { ...POLICIES, 'scripts/vpn.sh': '#!/bin/sh\n' }, { repo: REPO });
  ({ bare, clone: local } = served);
  // The person's clone, whose work tree loosens the vpn policy: the base's still judges.
  local.write({
    'policies/vpn.yaml': POLICIES['policies/vpn.yaml'].replace('maxDuration: 12h', 'maxDuration: 48h'),
  });
});
afterEach(() => {
  served.cleanup();
  for (const d of scratch.splice(0)) rmSync(d, { recursive: true, force: true });
});

const ENV = () => ({ GITHUB_TOKEN: gh.token, GITHUB_REPOSITORY: REPO, GITHUB_API_URL: gh.url });
const request = (extra: string[] = [], env: Record<string, string | undefined> = ENV()) =>
  cliIn(
    local.dir,
    [
      '--now',
      NOW,
      'request',
      '--user',
      'alice',
      '--target',
      'vpn',
      '--role',
      'ops',
      '--for',
      '2h',
      '--reason',
      'INC-7 vpn flaps',
      '--open-pr',
      ...extra,
    ],
    { env },
  );
const inBare = (...args: string[]) => served.inBare(...args);
const refs = () => inBare('for-each-ref', '--format=%(refname) %(objectname)');
const pulls = () => gh.openPulls.get(REPO) ?? [];

describe('grantops request --open-pr', () => {
  it('opens a branch with the grant and a pull request carrying its plan; nothing is written locally', async () => {
    const r = await request();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(`https://github.example/${REPO}/pull/100`);
    expect(r.stderr).toContain(`opened: pull request #100 (${BRANCH} into main) adds ${FILE}`);
    expect(gh.violations).toEqual([]);
    // Writes only after every read, in the order that leaves nothing dangling a rerun cannot finish.
    expect(gh.requests.filter((q) => q.method !== 'GET').map((q) => q.operationId)).toEqual([
      'git/create-blob',
      'git/create-tree',
      'git/create-commit',
      'git/create-ref',
      'pulls/create',
    ]);
    expect(gh.requests.length).toBeLessThanOrEqual(17);

    // The branch is one commit on main adding exactly the grant file, whose text request writes.
    const main = inBare('rev-parse', 'main');
    expect(inBare('rev-parse', `${BRANCH}^`)).toBe(main);
    expect(inBare('diff', '--name-status', 'main', BRANCH)).toBe(`A\t${FILE}`);
    expect(inBare('show', `${BRANCH}:${FILE}`)).toBe(
      [
        '# yaml-language-server: $schema=../../schemas/grant.schema.json',
        'user: alice',
        'target: vpn',
        'role: ops',
        'reason: INC-7 vpn flaps',
        'expiresAt: 2026-11-28T14:00:00Z',
      ].join('\n'),
    );
    expect(pulls()).toHaveLength(1);
    const pr = pulls()[0]!;
    expect(pr).toMatchObject({
      head: BRANCH,
      base: 'main',
      title: 'Access: alice → vpn/ops until 2026-11-28T14:00:00Z',
    });
    expect(pr.body).toContain(
      '| added | alice | vpn | ops | on merge | 2026-11-28T14:00:00Z | 2h | 1 from bob |',
    );
    expect(pr.body).toContain(`policies at main \\(${main.slice(0, 7)}\\)`);
    expect(pr.body).toContain('- Reason: INC-7 vpn flaps');

    // What the pull request proposes passes validate against its base, as the PR check will run it.
    const checkout = tempRepo();
    try {
      checkout.git('clone', '-q', '--branch', BRANCH, bare, checkout.dir);
      const v = await cli(checkout.dir, '--now', NOW, 'validate', '--base', 'origin/main');
      expect(v.code, v.stdout + v.stderr).toBe(0);
    } finally {
      checkout.cleanup();
    }
    expect(local.git('status', '--porcelain')).toBe('M policies/vpn.yaml');
  });

  it('run again, finds the same pull request instead of opening another', async () => {
    expect((await request()).code).toBe(0);
    const before = refs();
    const start = gh.requests.length;
    const again = await request(['--json'], ENV());
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({
      path: FILE,
      branch: BRANCH,
      base: 'main',
      outcome: 'found',
      pullRequest: { number: 100 },
      textReplaced: false,
    });
    expect(refs()).toBe(before);
    expect(pulls()).toHaveLength(1);
    // The branch is vouched for by rebuilding its tree on the base (a blob and a tree, no ref moved)
    // and the pull request by who opened it (GET /user).
    const rerun = gh.requests.slice(start);
    expect(rerun.filter((q) => q.method !== 'GET').map((q) => q.operationId)).toEqual([
      'git/create-blob',
      'git/create-tree',
    ]);
    expect(rerun.map((q) => q.operationId)).toContain('users/get-authenticated');
    expect(rerun.length).toBeLessThanOrEqual(16);
    expect(gh.violations).toEqual([]);
  });

  it('a pull request opened as grantops’ login with exactly the change but a writer’s words gets grantops’ title and body', async () => {
    // Red team N4: a writer's workflow acts as github-actions[bot] too. Here it opened the pull
    // request from a branch holding exactly the request's change (the branch grantops would make),
    // with its own title and body; grantops' rerun must not vouch for those words.
    expect((await request()).code).toBe(0);
    const own = { ...pulls()[0]! };
    const plant = () =>
      gh.openPulls.set(REPO, [
        {
          ...own,
          title: 'Access: alice → vpn/ops (pre-approved by security, merge now)',
          body: 'Approved on the incident call; no review needed.',
          author: gh.actor.login,
        },
      ]);
    plant();
    const told = await request();
    expect(told.code, told.stderr).toBe(0);
    expect(told.stderr).toContain(
      `already open: pull request #100 (${BRANCH} into main) adds ${FILE}: alice → vpn/ops until 2026-11-28T14:00:00Z; its title and body were replaced by grantops’ own`,
    );
    expect(pulls()).toEqual([own]);
    plant();
    const start = gh.requests.length;
    const again = await request(['--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({
      outcome: 'found',
      pullRequest: { number: 100 },
      textReplaced: true,
    });
    expect(pulls()).toEqual([own]);
    const update = gh.requests.slice(start).filter((q) => q.operationId === 'pulls/update');
    expect(update.map((q) => [q.method, q.path])).toEqual([['PATCH', `/repos/${REPO}/pulls/100`]]);
    expect(gh.violations).toEqual([]);
    // The next run leaves grantops' own text alone.
    const third = await request();
    expect(third.stderr).toContain('already open: pull request #100');
    expect(third.stderr).not.toContain('replaced');
    expect(gh.requests.filter((q) => q.operationId === 'pulls/update')).toHaveLength(2);
  });

  /** Another person's clone: commits `files` and pushes them to `ref` of the GitHub repository. */
  function pushTo(ref: string, files: Record<string, string>, from = 'main'): string {
    const other = tempRepo();
    scratch.push(other.dir);
    other.git('clone', '-q', '--branch', from, bare, other.dir);
    other.write(files);
    const sha = other.commit(`change on ${ref}`);
    other.git('push', '-q', 'origin', `HEAD:refs/heads/${ref}`);
    return sha;
  }

  it('run again after main moved: its own branch moves onto the new tip, the same pull request stays', async () => {
    expect((await request()).code).toBe(0);
    const moved = pushTo('main', { 'docs/notes.md': 'unrelated\n' });
    const again = await request(['--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({
      branch: BRANCH,
      outcome: 'moved',
      pullRequest: { number: 100 },
      // The plan names the new base, so the pull request's body is rewritten with it.
      textReplaced: true,
    });
    expect(pulls()[0]!.body).toContain(`policies at main \\(${moved.slice(0, 7)}\\)`);
    expect(pulls().map((p) => [p.number, p.head])).toEqual([[100, BRANCH]]);
    // One commit on the new tip, holding exactly the grant: the pull request shows only it.
    expect(inBare('rev-parse', `${BRANCH}^`)).toBe(moved);
    expect(inBare('rev-list', '--count', `main..${BRANCH}`)).toBe('1');
    expect(inBare('diff', '--name-only', 'main', BRANCH)).toBe(FILE);
    expect(refs()).not.toContain(`${BRANCH}-2`);
    // The ref was moved through the API, and the next run finds it as it is.
    expect(gh.requests.map((q) => q.operationId)).toContain('git/update-ref');
    const third = await request(['--json']);
    expect(JSON.parse(third.stdout)).toMatchObject({ outcome: 'found', pullRequest: { number: 100 } });
    expect(gh.violations).toEqual([]);
  });

  it('never reuses its branch once somebody else pushed to it: after main moved, the rerun takes the next name', async () => {
    expect((await request()).code).toBe(0);
    const theirs = pushTo(BRANCH, { 'docs/notes.md': 'mine\n' }, BRANCH);
    pushTo('main', { 'docs/other.md': 'unrelated\n' });
    const again = await request(['--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ branch: `${BRANCH}-2`, outcome: 'opened' });
    expect(inBare('rev-parse', BRANCH)).toBe(theirs);
    expect(gh.requests.map((q) => q.operationId)).not.toContain('git/update-ref');
    expect(gh.violations).toEqual([]);
  });

  it('a different grant under the same id takes the next name, as a local file would', async () => {
    expect((await request()).code).toBe(0);
    const other = await cliIn(
      local.dir,
      [
        '--now',
        NOW,
        'request',
        '--user',
        'alice',
        '--target',
        'vpn',
        '--role',
        'ops',
        '--for',
        '3h',
        '--reason',
        'other',
        '--open-pr',
      ],
      { env: ENV() },
    );
    expect(other.code, other.stderr).toBe(0);
    expect(pulls().map((p) => p.head)).toEqual([BRANCH, `${BRANCH}-2`]);
    expect(inBare('diff', '--name-only', 'main', `${BRANCH}-2`)).toBe(`${FILE.slice(0, -5)}-2.yaml`);
  });

  it('refuses a grant the base forbids (the local policy does not count): exit 1, nothing created', async () => {
    const before = refs();
    const r = await request(['--for', '24h']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/request refused: .*12h/);
    expect(refs()).toBe(before);
    expect(pulls()).toEqual([]);
    expect(gh.requests.filter((q) => q.method !== 'GET')).toEqual([]);
  });

  it('says what exists when the pull request cannot be opened, and the rerun finishes it', async () => {
    gh.failNext({
      operationId: 'pulls/create',
      times: 1,
      status: 422,
      body: { message: 'Validation Failed' },
    });
    const r = await request();
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `branch ${BRANCH} was created at ${inBare('rev-parse', BRANCH).slice(0, 12)} in ${REPO}`,
    );
    expect(r.stderr).toContain('run the same command again');
    expect(pulls()).toEqual([]);
    const again = await request();
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain('opened from the existing branch: pull request #100');
    expect(pulls().map((p) => p.head)).toEqual([BRANCH]);
  });

  it('exits 2 naming what is missing without a token or repository, and creates nothing', async () => {
    for (const env of [{ GITHUB_REPOSITORY: REPO, GITHUB_API_URL: gh.url }, { GITHUB_TOKEN: gh.token }]) {
      const r = await request([], env);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('request --open-pr needs GitHub: set GITHUB_TOKEN');
    }
    expect(gh.requests).toEqual([]);
    const usage = await cliIn(
      local.dir,
      [
        'request',
        '--user',
        'a',
        '--target',
        'vpn',
        '--role',
        'ops',
        '--for',
        '1h',
        '--reason',
        'x',
        '--base-branch',
        'main',
      ],
      { env: {} },
    );
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--base-branch needs --open-pr');
  });
});
