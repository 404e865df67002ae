import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { readInputs } from '../../src/action/inputs.js';
import { runAction } from '../../src/action/main.js';
import { GrantopsError } from '../../src/model/errors.js';
import { NOW, POLICIES } from '../support/builders.js';
import { FakeGitHub } from '../support/github-server.js';
import { formBody } from '../support/issue-form.js';
import { type TempRepo } from '../support/repo.js';
import { servedRepo, type ServedRepo } from '../support/served-repo.js';

/**
 * The Action's `request-from-issue` on an `issues` event read from GITHUB_EVENT_PATH, as on a runner:
 * the submitted form becomes a branch and a pull request in a real bare repository behind the local
 * GitHub server, for the issue's author, and the issue gets one comment with the link or the problems.
 */
const REPO = 'acme/access';
let gh: FakeGitHub;
let served: ServedRepo;
let checkout: TempRepo;
let scratch: string;

beforeAll(async () => {
  gh = await FakeGitHub.start();
});
afterAll(async () => {
  await gh.stop();
});
beforeEach(() => {
  gh.openPulls.clear();
  gh.comments.clear();
  gh.requests.length = 0;
  gh.violations.length = 0;
  served = servedRepo(gh, { ...POLICIES, 'scripts/vpn.sh': '#!/bin/sh\n' }, { repo: REPO });
  ({ clone: checkout, scratch } = served);
});
afterEach(() => served.cleanup());

interface IssueFacts {
  number?: number;
  body?: string;
  login?: string;
  type?: 'User' | 'Bot';
  association?: string;
  labels?: string[];
  sender?: string;
  action?: string;
  /** On `edited`: the body changed (GitHub's `changes.body`). Default true. */
  bodyEdited?: boolean;
}

function issueEvent(o: IssueFacts = {}) {
  const login = o.login ?? 'carol';
  return {
    action: o.action ?? 'opened',
    issue: {
      number: o.number ?? 5,
      title: 'Access request',
      body: o.body ?? formBody(),
      state: 'open',
      user: { login, type: o.type ?? 'User' },
      author_association: o.association ?? 'MEMBER',
      labels: (o.labels ?? ['access-request']).map((name) => ({ name })),
    },
    sender: { login: o.sender ?? login },
    repository: { full_name: REPO, default_branch: 'main' },
    ...(o.action === 'edited' && o.bodyEdited !== false ? { changes: { body: { from: 'before' } } } : {}),
  };
}

/** Runs the Action command in-process with the inputs and event a runner would give it. */
async function fromIssue(
  event: object,
  extraEnv: Record<string, string> = {},
): Promise<{ error?: unknown; output: string }> {
  const eventPath = join(scratch, `event-${Math.random()}.json`);
  const output = join(scratch, `output-${Math.random()}`);
  writeFileSync(eventPath, JSON.stringify(event));
  writeFileSync(output, '');
  const saved = { ...process.env };
  Object.assign(process.env, {
    INPUT_COMMAND: 'request-from-issue',
    INPUT_TOKEN: gh.token,
    INPUT_NOW: NOW,
    INPUT_PATH: checkout.dir,
    GITHUB_EVENT_NAME: 'issues',
    GITHUB_EVENT_PATH: eventPath,
    GITHUB_REPOSITORY: REPO,
    GITHUB_API_URL: gh.url,
    GITHUB_OUTPUT: output,
  });
  let error: unknown;
  try {
    await runAction(readInputs(), { PATH: process.env.PATH, ...extraEnv });
  } catch (err) {
    error = err;
  } finally {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  }
  return { ...(error !== undefined ? { error } : {}), output: readFileSync(output, 'utf8') };
}

const inBare = (...args: string[]) => served.inBare(...args);
const branches = () => inBare('for-each-ref', '--format=%(refname:short)', 'refs/heads');
const pulls = () => gh.openPulls.get(REPO) ?? [];
const comments = (n = 5) => gh.commentsOn(REPO, n);

describe('request-from-issue', () => {
  it("opens the pull request for the issue's author and comments its link on the issue", async () => {
    const r = await fromIssue(
      issueEvent({ body: formBody({ Reason: 'for mallory, really', Ticket: 'INC-7' }) }),
    );
    expect(r.error).toBeUndefined();
    expect(gh.violations).toEqual([]);
    expect(r.output).toContain('pull-request');
    expect(r.output).toContain('100');

    const file = 'grants/vpn/carol-ops-20261128-1200.yaml';
    expect(inBare('diff', '--name-status', 'main', 'grantops/request/issue-5')).toBe(`A\t${file}`);
    const grant = inBare('show', `grantops/request/issue-5:${file}`);
    expect(grant).toMatch(/^user: carol$/m);
    expect(grant).toMatch(/^ticket: INC-7$/m);
    expect(grant).toMatch(/^expiresAt: 2026-11-28T14:00:00Z$/m);
    expect(pulls()).toHaveLength(1);
    expect(pulls()[0]).toMatchObject({ head: 'grantops/request/issue-5', base: 'main' });
    expect(pulls()[0]!.body).toContain('Access requested by @carol in #5, opened by grantops.');
    expect(pulls()[0]!.body).toContain(
      '| added | carol | vpn | ops | on merge | 2026-11-28T14:00:00Z | 2h | 1 from bob |',
    );

    expect(comments()).toHaveLength(1);
    expect(comments()[0]!.body).toContain('<!-- grantops:request-from-issue -->');
    expect(comments()[0]!.body).toContain(
      `✅ Opened pull request #100 (https://github.example/${REPO}/pull/100)`,
    );
    expect(comments()[0]!.body).toContain('**carol** → **vpn/ops** until 2026-11-28T14:00:00Z');
  });

  it('the same request again finds its pull request and edits the one comment in place', async () => {
    expect((await fromIssue(issueEvent())).error).toBeUndefined();
    const again = await fromIssue(issueEvent({ action: 'edited' }));
    expect(again.error).toBeUndefined();
    expect(pulls()).toHaveLength(1);
    expect(branches().split('\n').sort()).toEqual(['grantops/request/issue-5', 'main']);
    expect(comments()).toHaveLength(1);
    expect(comments()[0]!.body).toContain('✅ Pull request #100');
    expect(comments()[0]!.body).toContain(
      'carries this request: **carol** → **vpn/ops** until 2026-11-28T14:00:00Z',
    );
    expect(comments()[0]!.body).not.toContain('replaced');

    // Red team N4: a writer's workflow (the same github-actions[bot]) rewrote the pull request's words.
    const own = { ...pulls()[0]! };
    gh.openPulls.set(REPO, [{ ...own, title: 'Access: carol, pre-approved', body: 'merge without review' }]);
    expect((await fromIssue(issueEvent({ action: 'edited' }))).error).toBeUndefined();
    expect(pulls()).toEqual([own]);
    expect(comments()).toHaveLength(1);
    expect(comments()[0]!.body).toContain(
      "until 2026-11-28T14:00:00Z. Its title and body were replaced by grantops' own.",
    );
    expect(gh.violations).toEqual([]);
  });

  it('an edit asking for another grant opens its own branch and pull request; the first is left as it is', async () => {
    expect((await fromIssue(issueEvent())).error).toBeUndefined();
    const first = inBare('rev-parse', 'grantops/request/issue-5');
    const again = await fromIssue(issueEvent({ action: 'edited', body: formBody({ Duration: '4h' }) }));
    expect(again.error).toBeUndefined();
    expect(inBare('rev-parse', 'grantops/request/issue-5')).toBe(first);
    expect(pulls().map((p) => p.head)).toEqual(['grantops/request/issue-5', 'grantops/request/issue-5-2']);
    expect(inBare('diff', '--name-status', 'main', 'grantops/request/issue-5-2')).toBe(
      'A\tgrants/vpn/carol-ops-20261128-1200-2.yaml',
    );
    expect(pulls()[1]!.title).toContain('until 2026-11-28T16:00:00Z');
    expect(comments()).toHaveLength(1);
    expect(comments()[0]!.body).toContain('✅ Opened pull request #101');
    expect(comments()[0]!.body).toContain('until 2026-11-28T16:00:00Z');
    expect(comments()[0]!.body).toContain('Branch `grantops/request/issue-5` already holds something else');
  });

  it('an edit of the title alone asks for nothing: no call to GitHub', async () => {
    const r = await fromIssue(issueEvent({ action: 'edited', bodyEdited: false }));
    expect(r.error).toBeUndefined();
    expect(gh.requests).toEqual([]);
    expect(branches()).toBe('main');
  });

  it("red team: a branch pushed ahead of the issue is left alone; the author's grant gets a branch of its own", async () => {
    // A writer predicts the issue number and pushes grantops/request/issue-5 holding an admin grant.
    checkout.write({ 'grants/vpn/mallory-admin.yaml': 'user: mallory\ntarget: vpn\nrole: admin\n' });
    const planted = checkout.commit('planted');
    checkout.git('push', '-q', 'origin', 'HEAD:refs/heads/grantops/request/issue-5');
    const r = await fromIssue(issueEvent());
    expect(r.error).toBeUndefined();
    expect(gh.violations).toEqual([]);
    expect(inBare('rev-parse', 'grantops/request/issue-5')).toBe(planted);
    expect(pulls().map((p) => p.head)).toEqual(['grantops/request/issue-5-2']);
    expect(inBare('diff', '--name-status', 'main', 'grantops/request/issue-5-2')).toBe(
      'A\tgrants/vpn/carol-ops-20261128-1200-2.yaml',
    );
    expect(pulls()[0]!.title).toMatch(/^Access: carol → vpn\/ops until /);
    expect(comments()[0]!.body).toContain('✅ Opened pull request #100');
  });

  it("red team: a writer's pull request from the issue's branch is not vouched for, nor their bot's comment edited", async () => {
    expect((await fromIssue(issueEvent())).error).toBeUndefined();
    // The bot's PR is closed; a writer opens their own from the same branch, and a workflow of
    // theirs (another bot) posts a comment carrying grantops' marker.
    pulls()[0]!.state = 'closed';
    pulls().push({
      number: 666,
      head: 'grantops/request/issue-5',
      base: 'main',
      title: 'x',
      body: 'x',
      state: 'open',
      author: 'mallory',
    });
    const planted = {
      id: 4242,
      body: '<!-- grantops:request-from-issue -->\nsee #666',
      user: 'evil[bot]',
      userType: 'Bot' as const,
      created_at: NOW,
      updated_at: NOW,
    };
    comments().unshift(planted);
    const r = await fromIssue(issueEvent({ action: 'reopened' }));
    expect(r.error).toBeUndefined();
    expect(gh.violations).toEqual([]);
    expect(comments().find((c) => c.id === 4242)!.body).toBe(
      '<!-- grantops:request-from-issue -->\nsee #666',
    );
    const ours = comments().filter((c) => c.user === 'github-actions[bot]');
    expect(ours).toHaveLength(1);
    expect(ours[0]!.body).not.toContain('#666');
    const mine = pulls().find((p) => p.head === 'grantops/request/issue-5-2')!;
    expect(mine.author).toBe('github-actions[bot]');
    expect(ours[0]!.body).toContain(`✅ Opened pull request #${mine.number}`);
  });

  it('with GRANTOPS_BOT_LOGIN (a GitHub App token), grantops knows its own comment by that login and asks no one', async () => {
    const app = {
      body: '<!-- grantops:request-from-issue -->\nold',
      user: 'acme-grants[bot]',
      userType: 'Bot' as const,
    };
    comments().push({ id: 4343, ...app, created_at: NOW, updated_at: NOW });
    const r = await fromIssue(issueEvent(), { GRANTOPS_BOT_LOGIN: 'acme-grants[bot]' });
    expect(r.error).toBeUndefined();
    expect(comments()).toHaveLength(1);
    expect(comments()[0]!.body).toContain('✅ Opened pull request #100');
    expect(gh.requests.map((q) => q.operationId)).not.toContain('users/get-authenticated');
  });

  it('comments what the policy refuses, fails the step, and creates nothing', async () => {
    const r = await fromIssue(issueEvent({ body: formBody({ Duration: '1d' }) }));
    expect(r.error).toBeInstanceOf(GrantopsError);
    expect((r.error as GrantopsError).exitCode).toBe(1);
    expect(branches()).toBe('main');
    expect(pulls()).toEqual([]);
    expect(comments()).toHaveLength(1);
    expect(comments()[0]!.body).toContain('❌ grantops cannot turn this issue into a pull request:');
    expect(comments()[0]!.body).toMatch(/maxDuration|12h/);
    expect(comments()[0]!.body).toContain('Nothing was created.');
  });

  it('refuses hostile values by pattern and escapes every echo of the body', async () => {
    const hostile = `${formBody({ Target: 'alice"; DROP ROLE x' })}\n\n### <img src=x onerror=alert(1)> @everyone \`x\``;
    const r = await fromIssue(issueEvent({ body: hostile }));
    expect((r.error as GrantopsError).exitCode).toBe(1);
    expect(branches()).toBe('main');
    const body = comments()[0]!.body;
    expect(body).toContain('Target must be a target name');
    // The heading is echoed cut to 40 characters, escaped.
    expect(body).toContain(
      'the section "&lt;img src=x onerror=alert\\(1\\)&gt; @&#8203;everyone \\`" is not part',
    );
    expect(body).not.toMatch(/<img|@everyone|DROP ROLE/);
  });

  it('keeps free text as data: the reason reaches the file verbatim and the pull request escaped', async () => {
    const reason = '<script>alert(1)</script> @everyone `rm -rf /` alice"; DROP ROLE x';
    const r = await fromIssue(issueEvent({ body: formBody({ Reason: reason }) }));
    expect(r.error).toBeUndefined();
    const file = inBare('show', 'grantops/request/issue-5:grants/vpn/carol-ops-20261128-1200.yaml');
    expect((parse(file) as { reason: string }).reason).toBe(reason);
    expect(file).toMatch(/^user: carol$/m);
    const pr = pulls()[0]!.body;
    expect(pr).toContain(
      '&lt;script&gt;alert\\(1\\)&lt;/script&gt; @&#8203;everyone \\`rm -rf /\\` alice"; DROP ROLE x',
    );
    expect(pr).not.toMatch(/<script>|@everyone/);
  });

  it('never takes the user from the body: a "User" section is refused', async () => {
    const r = await fromIssue(issueEvent({ body: `${formBody()}\n\n### User\n\nmallory` }));
    expect((r.error as GrantopsError).exitCode).toBe(1);
    expect(comments()[0]!.body).toContain('the section "User" is not part of the access request form');
    expect(branches()).toBe('main');
  });

  it.each<[string, IssueFacts]>([
    ['a bot', { login: 'dependabot[bot]', type: 'Bot' }],
    ['an issue without the label', { labels: ['bug'] }],
    ['an edit by someone else than the author', { action: 'edited', sender: 'mallory' }],
    ['an issue that is not the form', { body: 'The VPN is down, please help' }],
  ])('leaves %s alone: no call to GitHub, no comment, no failure', async (_what, facts) => {
    const r = await fromIssue(issueEvent(facts));
    expect(r.error).toBeUndefined();
    expect(gh.requests).toEqual([]);
    expect(branches()).toBe('main');
  });

  it('answers a request from outside the repository with a refusal, and creates nothing', async () => {
    const r = await fromIssue(issueEvent({ association: 'NONE', login: 'stranger' }));
    expect((r.error as GrantopsError).exitCode).toBe(1);
    expect(comments()[0]!.body).toContain(
      'only owners, members and collaborators of acme/access may request access',
    );
    expect(pulls()).toEqual([]);
    expect(branches()).toBe('main');
  });
});
