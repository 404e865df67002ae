import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createOctokit } from '../../src/adapters/github-client.js';
import type { GithubTeamTarget } from '../../src/model/policy.js';
import { GithubTeamTargetAdapter } from '../../src/targets/github-access.js';
import { FakeGitHub } from '../support/github-server.js';

/** Every GitHub request has a deadline, against the local GitHub API server made to hang. */
let gh: FakeGitHub;
beforeAll(async () => {
  gh = await FakeGitHub.start({ token: 'admin-token' });
});
afterAll(async () => gh.stop());
afterEach(() => {
  gh.clearFaults();
  expect(gh.violations).toEqual([]);
});

const config: GithubTeamTarget = {
  name: 'team',
  type: 'github-team',
  org: 'acme',
  team: 'oncall',
  enforce: false,
  enforceMaxFraction: 0.25,
  exempt: [],
};
const REMOVE = 'teams/remove-membership-for-user-in-org';
const target = (maxRetries: number) =>
  new GithubTeamTargetAdapter(
    config,
    createOctokit({ token: 'admin-token', baseUrl: gh.url, maxRetries, requestTimeoutMs: 1000 }),
  );
const attempts = (operationId: string, user: string) =>
  gh.requests
    .filter((r) => r.operationId === operationId && r.path.endsWith(`/${user}`))
    .map((r) => r.status);

// Without a deadline these calls wait forever: the test's own timeout is the failure.
describe('GitHub request timeout', () => {
  it('fails a request that is never answered, naming method and URL, after each attempt timed out', async () => {
    gh.team('acme/oncall').set('alice', { login: 'alice', role: 'member' });
    gh.hangNext({ operationId: REMOVE, times: 2 });
    await expect(target(1).revoke({ user: 'alice', entitlement: 'member', grantIds: [] })).rejects.toThrow(
      /^remove alice from acme\/oncall: DELETE http:\/\/127\.0\.0\.1:\d+\/orgs\/acme\/teams\/oncall\/memberships\/alice timed out after 1000 ms$/,
    );
    // The retry was sent, not failed at once on a deadline already spent.
    expect(attempts(REMOVE, 'alice')).toEqual([0, 0]);
    expect(gh.team('acme/oncall').has('alice')).toBe(true);
  }, 10_000);

  it('gives the retry a deadline of its own: a hang followed by an answer succeeds', async () => {
    gh.team('acme/oncall').set('bob', { login: 'bob', role: 'member' });
    gh.hangNext({ operationId: REMOVE, times: 1 });
    await target(1).revoke({ user: 'bob', entitlement: 'member', grantIds: [] });
    expect(attempts(REMOVE, 'bob')).toEqual([0, 204]);
    expect(gh.team('acme/oncall').has('bob')).toBe(false);
  }, 10_000);

  it('times out a response whose body stalls after the headers', async () => {
    gh.hangNext({ operationId: 'teams/list-members-in-org', times: 1, stall: 'body' });
    await expect(target(0).observe()).rejects.toThrow(
      /^list members of acme\/oncall: GET http:\/\/127\.0\.0\.1:\d+\/orgs\/acme\/teams\/oncall\/members\?role=maintainer&per_page=100 timed out after 1000 ms$/,
    );
  }, 10_000);
});
