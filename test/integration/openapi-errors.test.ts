import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeGitHub } from '../support/github-server.js';
import { OpenApi } from '../support/openapi.js';

/**
 * The OpenAPI checker holds error answers to the description as it does successes: shared `$ref`
 * responses (`#/components/responses/not_found`) are resolved and their bodies validated, and
 * every error body carries GitHub's string `message`.
 */
const op = (method: string, path: string) => {
  const matched = OpenApi.load().match(method, path);
  if (!matched) throw new Error(`${method} ${path} is not in the description`);
  return matched;
};
const notFound = { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' };

describe('OpenAPI checker: error responses', () => {
  it('reports a 404 without message where the operation documents $ref not_found', () => {
    const getUser = op('GET', '/users/ghost');
    expect(getUser.operationId).toBe('users/get-by-username');
    expect(getUser.validateResponse(404, {})).toEqual([
      'response 404 is an error without a string "message"',
    ]);
    expect(getUser.validateResponse(404, undefined)).not.toEqual([]);
    expect(getUser.validateResponse(404, notFound)).toEqual([]);
  });

  it('validates a $ref error body against its schema', () => {
    const getUser = op('GET', '/users/ghost');
    expect(getUser.validateResponse(404, { message: 42 })).toContain('response 404/message must be string');
    // validation_failed is validation-error, which requires documentation_url.
    const createIssue = op('POST', '/repos/acme/payments/issues');
    expect(createIssue.validateResponse(422, { message: 'Validation Failed' })).toContain(
      "response 422 must have required property 'documentation_url'",
    );
    expect(createIssue.validateResponse(422, { ...notFound, message: 'Validation Failed' })).toEqual([]);
  });

  it('holds undocumented error bodies to basic-error with a message, and rejects undocumented statuses', () => {
    const membership = op('GET', '/orgs/acme/teams/oncall/memberships/alice');
    expect(membership.validateResponse(404, {})).not.toEqual([]);
    expect(membership.validateResponse(404, { message: ['x'] })).not.toEqual([]);
    expect(membership.validateResponse(404, notFound)).toEqual([]);
    expect(membership.validateResponse(418, notFound)).toEqual([
      'status 418 is not a documented response of teams/get-membership-for-user-in-org',
    ]);
  });

  it('rejects a body on a success the description documents without one', () => {
    const remove = op('DELETE', '/repos/acme/payments/collaborators/alice');
    expect(remove.validateResponse(204, undefined)).toEqual([]);
    expect(remove.validateResponse(204, { ok: true })).toEqual([
      'response 204 has a body but the operation documents none',
    ]);
  });
});

describe('local GitHub server: error answers pass the checker', () => {
  let gh: FakeGitHub;
  beforeAll(async () => {
    gh = await FakeGitHub.start({ token: 'admin-token' });
    gh.unknownUsers.add('ghost');
  });
  afterAll(async () => gh.stop());

  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(gh.url + path, {
      method,
      headers: { authorization: 'token admin-token', 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as unknown) : undefined };
  };

  it('answers 404 and 422 with documented, well-formed bodies', async () => {
    const answers = [
      await call('GET', '/users/ghost'),
      await call('GET', '/orgs/acme/teams/nobody'),
      await call('GET', '/orgs/acme/teams/nobody/memberships/alice'),
      await call('GET', `/repos/acme/payments/git/trees/${'0'.repeat(40)}`),
      await call('PATCH', '/repos/acme/payments/issues/99', { title: 'x' }),
      await call('PUT', '/repos/acme/payments/collaborators/ghost', { permission: 'push' }),
      await call('PUT', '/orgs/acme/teams/oncall/memberships/ghost', { role: 'member' }),
    ];
    expect(answers.map((a) => a.status)).toEqual([404, 404, 404, 404, 404, 422, 422]);
    for (const a of answers) expect(a.body).toMatchObject({ message: expect.any(String) as unknown });
    expect(gh.violations).toEqual([]);
  });
});
