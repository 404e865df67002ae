import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NOW, POLICIES } from '../support/builders.js';
import { DIST_ACTION } from '../support/cli.js';
import { FakeGitHub } from '../support/github-server.js';
import { formBody } from '../support/issue-form.js';
import { run } from '../support/process.js';
import { type TempRepo } from '../support/repo.js';
import { servedRepo, type ServedRepo } from '../support/served-repo.js';

/**
 * The bundled Action, run with plain node as the runner does, on an `issues` event: the form becomes
 * a branch and a pull request in the bare repository behind the local GitHub server.
 */
const REPO = 'acme/access';
let gh: FakeGitHub;
let served: ServedRepo;
let checkout: TempRepo;
let scratch: string;
let bare: string;

beforeAll(async () => {
  gh = await FakeGitHub.start();
  served = servedRepo(gh, { ...POLICIES, 'scripts/vpn.sh': '#!/bin/sh\n' }, { repo: REPO, shallow: true });
  ({ clone: checkout, scratch, bare } = served);
});
afterAll(async () => {
  await gh.stop();
  served.cleanup();
});

async function action(number: number, body: string) {
  const event = join(scratch, `event-${number}.json`);
  const output = join(scratch, `output-${number}`);
  writeFileSync(output, '');
  writeFileSync(
    event,
    JSON.stringify({
      action: 'opened',
      issue: {
        number,
        body,
        state: 'open',
        user: { login: 'carol', type: 'User' },
        author_association: 'COLLABORATOR',
        labels: [{ name: 'access-request' }],
      },
      sender: { login: 'carol' },
      repository: { default_branch: 'main' },
    }),
  );
  const r = await run(process.execPath, [DIST_ACTION], {
    cwd: checkout.dir,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      GITHUB_EVENT_NAME: 'issues',
      GITHUB_EVENT_PATH: event,
      GITHUB_REPOSITORY: REPO,
      GITHUB_API_URL: gh.url,
      GITHUB_WORKSPACE: checkout.dir,
      GITHUB_OUTPUT: output,
      INPUT_COMMAND: 'request-from-issue',
      INPUT_TOKEN: gh.token,
      INPUT_NOW: NOW,
    },
  });
  return { ...r, output: readFileSync(output, 'utf8') };
}

describe('the Action on issues: request-from-issue', () => {
  it('opens the pull request and comments its link; a refused request fails the step with a comment', async () => {
    const ok = await action(12, formBody({ Ticket: 'INC-12' }));
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.output).toMatch(/pull-request<<.*\n100\n/);
    expect(ok.stdout).toContain('opened pull request #100 (grantops/request/issue-12) for carol on vpn/ops');
    const show = execFileSync(
      'git',
      ['show', 'grantops/request/issue-12:grants/vpn/carol-ops-20261128-1200.yaml'],
      {
        cwd: bare,
        encoding: 'utf8',
      },
    );
    expect(show).toMatch(/^user: carol$/m);
    expect(gh.commentsOn(REPO, 12)[0]?.body).toContain('✅ Opened pull request #100');

    const refused = await action(13, formBody({ Role: 'admin' }));
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain('::error::');
    expect(gh.commentsOn(REPO, 13)[0]?.body).toContain(
      '❌ grantops cannot turn this issue into a pull request',
    );
    expect(gh.openPulls.get(REPO)).toHaveLength(1);
    expect(gh.violations).toEqual([]);
  });
});
