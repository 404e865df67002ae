import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createOctokit, throttleStats, type GitHubOctokit } from '../../src/adapters/github-client.js';
import { FakeGitHub } from '../support/github-server.js';

/**
 * The client's limiter is engaged only near GitHub's limits, against the local GitHub API server
 * sending rate-limit headers. Whether a request went straight out is read from the client's
 * counters, not from timings: a test that a call is fast would fail on a busy machine.
 */
let gh: FakeGitHub;
beforeAll(async () => {
  gh = await FakeGitHub.start({ token: 'tok' });
});
afterAll(async () => gh.stop());
afterEach(() => {
  gh.clearFaults();
  gh.rateLimit = undefined;
  expect(gh.violations).toEqual([]);
});

const client = () => createOctokit({ token: 'tok', baseUrl: gh.url, maxRetries: 2 });
const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;
const member = (o: GitHubOctokit, user: string) =>
  o.rest.teams.addOrUpdateMembershipForUserInOrg({
    org: 'acme',
    team_slug: 'limits',
    username: user,
    role: 'member',
  });
const read = (o: GitHubOctokit, user: string) =>
  o.rest.teams.getMembershipForUserInOrg({ org: 'acme', team_slug: 'limits', username: user });
const SECONDARY = {
  status: 403,
  headers: { 'retry-after': '1' },
  body: {
    message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.',
    documentation_url: 'https://docs.github.com/rest',
  },
};

describe('GitHub rate limits', () => {
  it('sends every request straight out while the headers are comfortable', async () => {
    gh.rateLimit = { limit: 5000, remaining: 4000, resetEpochSeconds: inAnHour() };
    const o = client();
    for (let i = 0; i < 10; i++) await member(o, `u${i}`);
    await Promise.all(Array.from({ length: 10 }, (_, i) => read(o, `u${i}`)));
    expect(throttleStats(o)).toEqual({ direct: 20, limited: 0, retries: 0 });
  });

  it('sends straight out when GitHub sends no rate-limit headers at all', async () => {
    const o = client();
    await member(o, 'a');
    await read(o, 'a');
    expect(throttleStats(o)).toEqual({ direct: 2, limited: 0, retries: 0 });
  });

  it('engages the limiter once remaining falls below a tenth: one at a time, writes a second apart', async () => {
    gh.rateLimit = { limit: 5000, remaining: 480, resetEpochSeconds: inAnHour() };
    const o = client();
    await read(o, 'u0'); // learns the headers
    gh.peakInFlight = 0;
    const started = Date.now();
    await Promise.all([member(o, 'x1'), member(o, 'x2'), read(o, 'u1'), read(o, 'u2')]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(gh.peakInFlight).toBe(1);
    expect(throttleStats(o)).toEqual({ direct: 1, limited: 4, retries: 0 });
  });

  it('stays direct when the low remaining belongs to a window already reset', async () => {
    gh.rateLimit = { limit: 5000, remaining: 10, resetEpochSeconds: Math.floor(Date.now() / 1000) - 5 };
    const o = client();
    await read(o, 'u0');
    await read(o, 'u1');
    expect(throttleStats(o)).toEqual({ direct: 2, limited: 0, retries: 0 });
  });

  it('waits out a secondary limit as retry-after says, holds back the other requests, then stays limited', async () => {
    gh.rateLimit = { limit: 5000, remaining: 4000, resetEpochSeconds: inAnHour() };
    const o = client();
    gh.failNext({ ...SECONDARY, operationId: 'teams/add-or-update-membership-for-user-in-org', times: 1 });
    const started = Date.now();
    await member(o, 's1');
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(throttleStats(o)).toEqual({ direct: 1, limited: 1, retries: 1 });
    // Comfortable headers again, but the cool-down after a secondary limit keeps the limiter on.
    await read(o, 's1');
    expect(throttleStats(o)).toMatchObject({ limited: 2 });

    // A request sent while another waits out retry-after waits too, instead of adding to the load.
    const p = client();
    gh.failNext({ ...SECONDARY, operationId: 'teams/get-membership-for-user-in-org', times: 1 });
    const first = read(p, 's1');
    await new Promise((r) => setTimeout(r, 100));
    const secondStarted = Date.now();
    await Promise.all([first, read(p, 's1')]);
    expect(Date.now() - secondStarted).toBeGreaterThanOrEqual(700);
    expect(throttleStats(p)).toEqual({ direct: 1, limited: 2, retries: 1 });
  });

  it('waits for the reset of a spent primary limit, then retries', async () => {
    const o = client();
    gh.failNext({
      operationId: 'teams/get-membership-for-user-in-org',
      status: 403,
      headers: {
        'x-ratelimit-limit': '5000',
        'x-ratelimit-remaining': '0',
        'x-ratelimit-reset': String(Math.ceil(Date.now() / 1000)),
      },
      body: { message: 'API rate limit exceeded', documentation_url: 'https://docs.github.com/rest' },
      times: 1,
    });
    await member(o, 'p1');
    const started = Date.now();
    await read(o, 'p1');
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(throttleStats(o)).toMatchObject({ retries: 1 });
  });

  it('gives up on a secondary limit after its retries', async () => {
    const o = createOctokit({ token: 'tok', baseUrl: gh.url, maxRetries: 0 });
    gh.failNext({ ...SECONDARY, operationId: 'teams/get-membership-for-user-in-org', times: 1 });
    await expect(read(o, 'nobody')).rejects.toThrow(/secondary rate limit/);
  });
});
