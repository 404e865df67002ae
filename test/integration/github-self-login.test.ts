import { afterEach, describe, expect, it } from 'vitest';
import { createOctokit, OctokitAccessRepo } from '../../src/adapters/github-client.js';
import { FakeGitHub } from '../support/github-server.js';

/**
 * grantops' own login (the author a retro-review issue must have): `GET /user` for a user's token;
 * an Actions GITHUB_TOKEN may not read /user (403), and acts as github-actions[bot]. Against the
 * local GitHub server, checked with GitHub's OpenAPI description.
 */
let gh: FakeGitHub | undefined;
afterEach(async () => {
  expect(gh?.violations).toEqual([]);
  await gh?.stop();
});
const repo = (server: FakeGitHub) =>
  new OctokitAccessRepo(
    createOctokit({ token: 'tok', baseUrl: server.url, maxRetries: 0 }),
    'acme',
    'access',
  );

describe('selfLogin', () => {
  it("is the token's account when it may read GET /user", async () => {
    gh = await FakeGitHub.start({ token: 'tok', actor: { login: 'grantops-svc', type: 'User' } });
    expect(await repo(gh).selfLogin()).toBe('grantops-svc');
  });
  it('is github-actions[bot] for an installation token (GET /user answers 403)', async () => {
    gh = await FakeGitHub.start({ token: 'tok' });
    expect(await repo(gh).selfLogin()).toBe('github-actions[bot]');
    expect(gh.requests.map((r) => [r.operationId, r.status])).toEqual([['users/get-authenticated', 403]]);
  });
  it('fails on any other error instead of guessing', async () => {
    gh = await FakeGitHub.start({ token: 'tok', actor: { login: 'grantops-svc', type: 'User' } });
    gh.failNext({
      operationId: 'users/get-authenticated',
      status: 401,
      body: { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest' },
      times: 1,
    });
    await expect(repo(gh).selfLogin()).rejects.toThrow(/Bad credentials/);
  });
});
