import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createOctokit } from '../../src/adapters/github-client.js';
import type { GithubRepoTarget, GithubTeamTarget } from '../../src/model/policy.js';
import { GithubRepoTargetAdapter, GithubTeamTargetAdapter } from '../../src/targets/github-access.js';
import { FakeGitHub } from '../support/github-server.js';

/** The GitHub targets against the local GitHub API server (checked against GitHub's OpenAPI). */
let gh: FakeGitHub;
beforeAll(async () => {
  gh = await FakeGitHub.start({ token: 'admin-token' });
});
afterAll(async () => gh.stop());
afterEach(() => {
  gh.clearFaults();
  expect(gh.violations).toEqual([]);
});

const base = { enforce: false, enforceMaxFraction: 0.25, exempt: [] };
const teamConfig: GithubTeamTarget = {
  ...base,
  name: 'team',
  type: 'github-team',
  org: 'acme',
  team: 'oncall',
};
const repoConfig: GithubRepoTarget = { ...base, name: 'repo', type: 'github-repo', repo: 'acme/payments' };
const octokit = (token = 'admin-token') => createOctokit({ token, baseUrl: gh.url, maxRetries: 2 });

describe('github-team target', () => {
  it('adds, changes role, observes and removes members idempotently', async () => {
    const t = new GithubTeamTargetAdapter(teamConfig, octokit());
    await t.grant({ user: 'alice', entitlement: 'member', grantIds: [] });
    await t.grant({ user: 'bob', entitlement: 'maintainer', grantIds: [] });
    await t.grant({ user: 'alice', entitlement: 'maintainer', grantIds: [] });
    expect(await t.observe()).toEqual([
      { user: 'alice', entitlement: 'maintainer' },
      { user: 'bob', entitlement: 'maintainer' },
    ]);
    await t.revoke({ user: 'alice', entitlement: 'maintainer', grantIds: [] });
    await t.revoke({ user: 'alice', entitlement: 'maintainer', grantIds: [] });
    expect(await t.observe()).toEqual([{ user: 'bob', entitlement: 'maintainer' }]);
  });

  it('pages through large teams', async () => {
    const team = gh.team('acme/big');
    for (let i = 0; i < 250; i++) team.set(`u${i}`, { login: `u${i}`, role: 'member' });
    const t = new GithubTeamTargetAdapter({ ...teamConfig, team: 'big' }, octokit());
    expect(await t.observe()).toHaveLength(250);
    expect(
      gh.requests.filter((r) => r.operationId === 'teams/list-members-in-org' && r.path.includes('/big/'))
        .length,
    ).toBe(4);
  });

  it('reports 401 and 422 as target errors naming the call', async () => {
    await expect(new GithubTeamTargetAdapter(teamConfig, octokit('wrong')).observe()).rejects.toThrow(
      /list members of acme\/oncall \(HTTP 401\): Bad credentials/,
    );
    gh.unknownUsers.add('ghost');
    await expect(
      new GithubTeamTargetAdapter(teamConfig, octokit()).grant({
        user: 'ghost',
        entitlement: 'member',
        grantIds: [],
      }),
    ).rejects.toThrow(/add ghost to acme\/oncall \(HTTP 422\): Validation Failed/);
  });

  it('waits out a secondary rate limit and retries, as retry-after says', async () => {
    gh.failNext({
      operationId: 'teams/add-or-update-membership-for-user-in-org',
      status: 403,
      headers: { 'retry-after': '1' },
      body: {
        message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.',
        documentation_url: 'https://docs.github.com/rest',
      },
      times: 1,
    });
    const started = Date.now();
    await new GithubTeamTargetAdapter(teamConfig, octokit()).grant({
      user: 'carol',
      entitlement: 'member',
      grantIds: [],
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(gh.team('acme/oncall').get('carol')?.role).toBe('member');
  });

  it('retries a 5xx and succeeds; gives up after its retries on a persistent one', async () => {
    gh.failNext({
      operationId: 'teams/list-members-in-org',
      status: 502,
      body: { message: 'Bad Gateway' },
      times: 1,
    });
    expect(await new GithubTeamTargetAdapter(teamConfig, octokit()).observe()).toContainEqual({
      user: 'carol',
      entitlement: 'member',
    });
    gh.failNext({
      operationId: 'teams/remove-membership-for-user-in-org',
      status: 500,
      body: { message: 'boom' },
      times: 5,
    });
    const t = new GithubTeamTargetAdapter(
      teamConfig,
      createOctokit({ token: 'admin-token', baseUrl: gh.url, maxRetries: 1 }),
    );
    await expect(t.revoke({ user: 'carol', entitlement: 'member', grantIds: [] })).rejects.toThrow(
      /HTTP 500/,
    );
  }, 20_000);
});

describe('github-repo target', () => {
  it('invites, sees the pending invitation, and cancels it on revoke', async () => {
    const t = new GithubRepoTargetAdapter(repoConfig, octokit());
    await t.grant({ user: 'dave', entitlement: 'push', grantIds: [] });
    expect(await t.observe()).toEqual([{ user: 'dave', entitlement: 'push', pending: true }]);
    await t.revoke({ user: 'dave', entitlement: 'push', grantIds: [] });
    expect(await t.observe()).toEqual([]);
    expect(gh.repoInvitations('acme/payments')).toEqual([]);
  });

  it('changes an accepted collaborator’s permission in place and removes it', async () => {
    const t = new GithubRepoTargetAdapter(repoConfig, octokit());
    await t.grant({ user: 'erin', entitlement: 'pull', grantIds: [] });
    gh.acceptInvitation('acme/payments', 'erin');
    await t.grant({ user: 'erin', entitlement: 'maintain', grantIds: [] });
    expect(await t.observe()).toEqual([{ user: 'erin', entitlement: 'maintain' }]);
    await t.revoke({ user: 'erin', entitlement: 'maintain', grantIds: [] });
    await t.revoke({ user: 'erin', entitlement: 'maintain', grantIds: [] });
    expect(await t.observe()).toEqual([]);
  });

  it('takes a 404 on revoke as done once a read shows nothing left, and reports a plain 403', async () => {
    const t = new GithubRepoTargetAdapter(repoConfig, octokit());
    gh.failNext({
      operationId: 'repos/remove-collaborator',
      status: 404,
      body: { message: 'Not Found' },
      times: 1,
    });
    const before = gh.requests.length;
    await t.revoke({ user: 'nobody', entitlement: 'push', grantIds: [] });
    expect(gh.requests.slice(before).map((r) => `${r.operationId} ${r.status}`)).toEqual([
      'repos/list-invitations 200',
      'repos/remove-collaborator 404',
      'repos/list-collaborators 200',
      'repos/list-invitations 200',
    ]);
    gh.failNext({
      operationId: 'repos/add-collaborator',
      status: 403,
      body: {
        message: 'Must have admin rights to Repository.',
        documentation_url: 'https://docs.github.com/rest',
      },
      times: 1,
    });
    await expect(t.grant({ user: 'gil', entitlement: 'push', grantIds: [] })).rejects.toThrow(
      /add gil to acme\/payments \(HTTP 403\): Must have admin rights to Repository/,
    );
  });

  it('reports a 422 with its message', async () => {
    gh.failNext({
      operationId: 'repos/add-collaborator',
      status: 422,
      body: {
        message: 'Validation Failed',
        errors: [{ resource: 'Repository', code: 'custom', message: 'Visibility is private' }],
        documentation_url: 'https://docs.github.com/rest',
      },
      times: 1,
    });
    await expect(
      new GithubRepoTargetAdapter(repoConfig, octokit()).grant({
        user: 'fay',
        entitlement: 'push',
        grantIds: [],
      }),
    ).rejects.toThrow(/add fay to acme\/payments \(HTTP 422\): Validation Failed/);
  });
});

// GitHub answers 404 both for "not there" and for "not yours to see": a revoke that took every 404 as
// done reported access removed that was still there.
describe('a 404 on revoke', () => {
  const notFound = (operationId: string, times = 1) =>
    gh.failNext({ operationId, status: 404, body: { message: 'Not Found' }, times });
  const REMOVE_MEMBER = 'teams/remove-membership-for-user-in-org';

  it('fails the team revoke when the membership read still shows the user', async () => {
    gh.team('acme/oncall').set('hank', { login: 'hank', role: 'maintainer' });
    notFound(REMOVE_MEMBER);
    await expect(
      new GithubTeamTargetAdapter(teamConfig, octokit()).revoke({
        user: 'hank',
        entitlement: 'maintainer',
        grantIds: [],
      }),
    ).rejects.toThrow(
      /^remove hank from acme\/oncall: DELETE \/orgs\/acme\/teams\/oncall\/memberships\/hank answered 404 but hank still holds access \(maintainer\)$/,
    );
    expect(gh.team('acme/oncall').get('hank')?.role).toBe('maintainer');
  });

  it('takes the team 404 as done once the membership and team reads show the user gone', async () => {
    notFound(REMOVE_MEMBER);
    const before = gh.requests.length;
    await new GithubTeamTargetAdapter(teamConfig, octokit()).revoke({
      user: 'ivan',
      entitlement: 'member',
      grantIds: [],
    });
    expect(gh.requests.slice(before).map((r) => `${r.operationId} ${r.status}`)).toEqual([
      `${REMOVE_MEMBER} 404`,
      'teams/get-membership-for-user-in-org 404',
      'teams/get-by-name 200',
    ]);
  });

  it('fails the team revoke when the token cannot see the team: its 404 proves nothing', async () => {
    notFound(REMOVE_MEMBER);
    await expect(
      new GithubTeamTargetAdapter({ ...teamConfig, team: 'hidden' }, octokit()).revoke({
        user: 'hank',
        entitlement: 'member',
        grantIds: [],
      }),
    ).rejects.toThrow(
      /^remove hank from acme\/hidden: DELETE \/orgs\/acme\/teams\/hidden\/memberships\/hank answered 404 and the read to confirm it failed: the token cannot see the team acme\/hidden$/,
    );
  });

  it('fails the repo revoke when the collaborator is still listed', async () => {
    gh.repoCollaborators('acme/payments').set('jill', { login: 'jill', permission: 'push' });
    notFound('repos/remove-collaborator');
    const t = new GithubRepoTargetAdapter(repoConfig, octokit());
    await expect(t.revoke({ user: 'jill', entitlement: 'push', grantIds: [] })).rejects.toThrow(
      /^remove jill from acme\/payments: DELETE \/repos\/acme\/payments\/collaborators\/jill answered 404 but jill still holds access \(push\)$/,
    );
    expect(gh.repoCollaborators('acme/payments').has('jill')).toBe(true);
    await t.revoke({ user: 'jill', entitlement: 'push', grantIds: [] });
    expect(gh.repoCollaborators('acme/payments').has('jill')).toBe(false);
  });

  it('fails the repo revoke when the invitation it could not cancel is still pending', async () => {
    const t = new GithubRepoTargetAdapter(repoConfig, octokit());
    await t.grant({ user: 'kim', entitlement: 'triage', grantIds: [] });
    notFound('repos/delete-invitation');
    await expect(t.revoke({ user: 'kim', entitlement: 'triage', grantIds: [] })).rejects.toThrow(
      /^remove kim from acme\/payments: DELETE \/repos\/acme\/payments\/invitations\/\d+ answered 404 but kim still holds access \(an invitation for triage\)$/,
    );
    expect(gh.repoInvitations('acme/payments').map((i) => i.login)).toEqual(['kim']);
    await t.revoke({ user: 'kim', entitlement: 'triage', grantIds: [] });
    expect(gh.repoInvitations('acme/payments')).toEqual([]);
  });

  it('fails the repo revoke when the read to confirm it fails too (a token without admin)', async () => {
    notFound('repos/list-invitations', 2);
    await expect(
      new GithubRepoTargetAdapter(repoConfig, octokit()).revoke({
        user: 'lou',
        entitlement: 'push',
        grantIds: [],
      }),
    ).rejects.toThrow(
      /^remove lou from acme\/payments: GET \/repos\/acme\/payments\/invitations answered 404 and the read to confirm it failed: list collaborators of acme\/payments \(HTTP 404\): Not Found$/,
    );
  });
});
