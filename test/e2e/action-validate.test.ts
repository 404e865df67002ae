import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aGrant, NOW, POLICIES } from '../support/builders.js';
import { DIST_ACTION } from '../support/cli.js';
import { FakeGitHub } from '../support/github-server.js';
import { run } from '../support/process.js';
import { tempRepo, type TempRepo } from '../support/repo.js';

/**
 * The bundled Action, run with plain node as the runner does, on a pull_request event: a shallow
 * checkout of the PR (base fetched on demand from a bare remote), the local GitHub API server.
 */
let gh: FakeGitHub;
let origin: TempRepo;
let scratch: string;
const cleanups: (() => void)[] = [];

beforeAll(async () => {
  gh = await FakeGitHub.start();
  scratch = mkdtempSync(join(tmpdir(), 'grantops-action-'));
  origin = tempRepo({ ...POLICIES, 'templates/.keep': '' }, { git: true });
  cleanups.push(
    () => origin.cleanup(),
    () => rmSync(scratch, { recursive: true, force: true }),
  );
});
afterAll(async () => {
  await gh.stop();
  cleanups.forEach((c) => c());
});

async function runAction(branch: string, prNumber: number, eventName = 'pull_request') {
  const baseSha = origin.git('rev-parse', 'main');
  const headSha = origin.git('rev-parse', branch);
  const work = join(scratch, `checkout-${branch}-${Date.now()}`);
  // Like actions/checkout: depth 1, so the base commit is not there until the Action fetches it.
  origin.git('clone', '-q', '--depth', '1', '--branch', branch, `file://${origin.dir}`, work);
  const event = join(scratch, `event-${prNumber}.json`);
  writeFileSync(
    event,
    JSON.stringify({
      pull_request: {
        number: prNumber,
        user: { login: 'alice' },
        base: { sha: baseSha, ref: 'main' },
        head: { sha: headSha },
      },
    }),
  );
  const summary = join(scratch, `summary-${Date.now()}.md`);
  const output = join(scratch, `output-${Date.now()}.txt`);
  writeFileSync(summary, '');
  writeFileSync(output, '');
  const r = await run(process.execPath, [DIST_ACTION], {
    cwd: work,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      GITHUB_EVENT_NAME: eventName,
      GITHUB_EVENT_PATH: event,
      GITHUB_REPOSITORY: 'acme/access',
      GITHUB_API_URL: gh.url,
      GITHUB_WORKSPACE: work,
      GITHUB_STEP_SUMMARY: summary,
      GITHUB_OUTPUT: output,
      INPUT_COMMAND: 'validate',
      INPUT_TOKEN: gh.token,
      INPUT_NOW: NOW,
    },
  });
  return { ...r, summary: readFileSync(summary, 'utf8'), output: readFileSync(output, 'utf8') };
}

describe('the Action on pull_request', () => {
  it('annotates bad lines, writes the summary and one sticky comment it updates in place', async () => {
    origin.git('checkout', '-q', '-b', 'pr-1');
    origin.write({
      'grants/alice.yaml': aGrant()
        .with('reason', 'INC-1 @everyone see [this](https://evil.example) <b>now</b>')
        .yaml(),
      'grants/bob.yaml': aGrant().for('bob').expiresAt('2026-11-29T12:00:00Z').yaml(),
    });
    origin.commit('request access');
    origin.git('checkout', '-q', 'main');

    const first = await runAction('pr-1', 7);
    expect(first.code).toBe(1);
    expect(first.stdout).toMatch(
      /^::error title=grantops max-duration,file=grants\/bob\.yaml,line=6,col=12::grant lasts 1d, over the 8h maximum of role "readonly" on "prod-db"$/m,
    );
    expect(first.stdout).toContain('fetched base commit');
    expect(first.summary).toContain(
      '| added | alice | prod-db | readonly | on merge | 2026-11-28T18:00:00Z | 6h | ⏳ 0 of 1 from @&#8203;acme/dba, bob |',
    );
    expect(first.output).toContain('ok');

    const comments = gh.commentsOn('acme/access', 7);
    expect(comments).toHaveLength(1);
    const body = comments[0]!.body;
    expect(body.startsWith('<!-- grantops:validate -->')).toBe(true);
    expect(body).toContain('❌ grantops: 1 problem(s) to fix');
    // The reason is shown as text: no mention, no link, no HTML.
    expect(body).not.toContain('@everyone');
    expect(body).not.toContain('](https');
    expect(body).not.toContain('<b>');
    expect(body).toContain(
      `checked against the policies at main \\(${origin.git('rev-parse', '--short=7', 'main')}\\)`,
    );

    origin.git('checkout', '-q', 'pr-1');
    origin.write({ 'grants/bob.yaml': aGrant().for('bob').expiresAt('2026-11-28T16:00:00Z').yaml() });
    origin.commit('shorter');
    origin.git('checkout', '-q', 'main');
    const second = await runAction('pr-1', 7);
    expect(second.code).toBe(0);
    expect(gh.commentsOn('acme/access', 7)).toHaveLength(1);
    expect(gh.commentsOn('acme/access', 7)[0]!.body).toContain('✅ grantops: this pull request is valid');
    expect(gh.requests.filter((r) => r.operationId === 'issues/update-comment')).toHaveLength(1);
    expect(gh.violations).toEqual([]);
  });

  it("never edits a person's comment that quotes the marker", async () => {
    gh.commentsOn('acme/access', 8).push({
      id: 1,
      body: 'quoting <!-- grantops:validate --> here',
      user: 'mallory',
      userType: 'User',
      created_at: NOW,
      updated_at: NOW,
    });
    origin.git('checkout', '-q', '-b', 'pr-2', 'main');
    origin.write({ 'grants/carol.yaml': aGrant().for('carol').yaml() });
    origin.commit('carol');
    origin.git('checkout', '-q', 'main');
    const r = await runAction('pr-2', 8);
    expect(r.code).toBe(0);
    const list = gh.commentsOn('acme/access', 8);
    expect(list).toHaveLength(2);
    expect(list[0]!.body).toBe('quoting <!-- grantops:validate --> here');
    expect(gh.violations).toEqual([]);
  });

  it('still reports its verdict when the token may not comment (fork PRs)', async () => {
    gh.failNext({
      operationId: 'issues/list-comments',
      status: 403,
      body: { message: 'Resource not accessible by integration' },
      times: 1,
    });
    const r = await runAction('pr-2', 9);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^::warning::could not write the plan comment: Resource not accessible by integration/m,
    );
    expect(r.summary).toContain('✅ grantops');
  });

  it('uses the comment template of the base branch', async () => {
    origin.write({
      'templates/pr-comment.md.hbs':
        'Custom verdict: {{#if ok}}fine{{else}}not fine{{/if}} ({{grantsChecked}})',
    });
    origin.commit('custom template');
    origin.git('checkout', '-q', '-b', 'pr-3');
    origin.write({
      'templates/pr-comment.md.hbs': 'PR-controlled text',
      'grants/dan.yaml': aGrant().for('dan').yaml(),
    });
    origin.commit('try to restyle');
    origin.git('checkout', '-q', 'main');
    const r = await runAction('pr-3', 10);
    expect(r.code).toBe(0);
    expect(gh.commentsOn('acme/access', 10)[0]!.body).toContain('Custom verdict: fine (1)');
    expect(gh.violations).toEqual([]);
  });

  it('shows on review events how many approvals each grant has, from whom', async () => {
    origin.git('rm', '-q', 'templates/pr-comment.md.hbs');
    origin.commit('back to the default comment');
    origin.git('checkout', '-q', '-b', 'pr-4', 'main');
    origin.write({ 'grants/erin.yaml': aGrant().for('erin').yaml() });
    const head = origin.commit('erin');
    origin.git('checkout', '-q', 'main');
    const pull = {
      number: 11,
      author: 'alice',
      headSha: head,
      mergeCommitSha: head,
      mergedAt: NOW,
      commits: [head],
      reviews: [] as { user: string; state: string; commitId: string }[],
    };
    gh.repoPulls('acme/access').push(pull);

    await runAction('pr-4', 11, 'pull_request');
    expect(gh.commentsOn('acme/access', 11)[0]!.body).toContain('| ⏳ 0 of 1 from @&#8203;acme/dba, bob |');

    pull.reviews.push(
      { user: 'alice', state: 'APPROVED', commitId: head },
      { user: 'bob', state: 'APPROVED', commitId: head },
    );
    await runAction('pr-4', 11, 'pull_request_review');
    const comments = gh.commentsOn('acme/access', 11);
    expect(comments).toHaveLength(1);
    expect(comments[0]!.body).toContain('| ✅ 1 of 1 from @&#8203;acme/dba, bob: bob |');
    expect(gh.violations).toEqual([]);
  });

  it('names the path it could not use when `path:` points nowhere', async () => {
    const nowhere = join(scratch, 'no-such-checkout');
    const r = await run(process.execPath, [DIST_ACTION], {
      cwd: scratch,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        GITHUB_EVENT_NAME: 'push',
        GITHUB_REPOSITORY: 'acme/access',
        GITHUB_API_URL: gh.url,
        INPUT_COMMAND: 'validate',
        INPUT_PATH: nowhere,
      },
    });
    expect(r.code).not.toBe(0);
    expect(r.stdout).toContain(`::error::not an access repo: no policies/ in ${nowhere}; run grantops init`);
  });
});
