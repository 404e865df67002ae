import { describe, expect, it } from 'vitest';
import type { Finding } from '../../src/model/errors.js';
import { SchemaRegistry } from '../../src/policy/schema-registry.js';
import { validateAccessRepo } from '../../src/usecases/validate-repo.js';
import { aGrant, NOW, POLICIES } from '../support/builders.js';
import { memoryTree } from '../support/memory-tree.js';
import type { Files } from '../support/repo.js';

const registry = new SchemaRegistry();

async function validate(grants: Files, policies: Files = POLICIES, now = NOW) {
  return validateAccessRepo(
    { now: new Date(now) },
    { work: memoryTree({ ...policies, ...grants }), registry },
  );
}
const brief = (f: Finding) => `${f.file}:${f.line}:${f.column}: ${f.severity}: ${f.message}`;

describe('grant rules', () => {
  it('accepts a valid grant and describes it', async () => {
    const r = await validate({ 'grants/a.yaml': aGrant().yaml() });
    expect(r.findings).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.grants).toHaveLength(1);
    expect(r.grants[0]).toMatchObject({ id: 'a', user: 'alice', target: 'prod-db', role: 'readonly' });
  });

  it('names an unknown key at its line and column, with a suggestion', async () => {
    const r = await validate({ 'grants/a.yaml': aGrant().with('expiresat', 'x').yaml() });
    expect(r.findings.map(brief)).toEqual([
      'grants/a.yaml:7:1: error: unknown key "expiresat"; did you mean "expiresAt"?',
    ]);
  });

  it('names each missing field', async () => {
    const r = await validate({ 'grants/a.yaml': aGrant().without('reason').without('user').yaml() });
    expect(r.findings.map((f) => f.message).sort()).toEqual([
      'missing required key "reason"',
      'missing required key "user"',
    ]);
  });

  it('refuses an unknown target and an unknown role, pointing at the value', async () => {
    const r = await validate({
      'grants/a.yaml': aGrant().on('nope', 'readonly').yaml(),
      'grants/b.yaml': aGrant().on('prod-db', 'superuser').yaml(),
    });
    expect(r.findings.map(brief)).toEqual([
      'grants/a.yaml:2:9: error: unknown target "nope" (policies at memory define: payments-repo, platform-team, prod-db, vpn)',
      'grants/b.yaml:3:7: error: target "prod-db" has no role "superuser" (it offers: readonly, readwrite)',
    ]);
  });

  it('refuses expiresAt without an offset', async () => {
    const r = await validate({ 'grants/a.yaml': aGrant().expiresAt('2026-11-28T18:00:00').yaml() });
    expect(r.findings.map(brief)).toEqual([
      'grants/a.yaml:6:12: error: "expiresAt": "2026-11-28T18:00:00" has no time-zone offset; write it as RFC 3339 with Z or an explicit offset, e.g. 2026-11-28T18:00:00Z',
    ]);
  });

  it('refuses an unparseable expiresAt and one before startsAt', async () => {
    const r = await validate({
      'grants/a.yaml': aGrant().expiresAt('next tuesday').yaml(),
      'grants/b.yaml': aGrant().startsAt('2026-11-28T17:00:00Z').expiresAt('2026-11-28T16:00:00Z').yaml(),
    });
    expect(r.findings.map((f) => `${f.file}:${f.rule}`)).toEqual([
      'grants/a.yaml:schema',
      'grants/b.yaml:window',
    ]);
    expect(r.findings[0]?.message).toContain('is not an RFC 3339 date-time');
  });

  it('warns on a past expiresAt on a plain validate: the reaper will handle it', async () => {
    const r = await validate({ 'grants/a.yaml': aGrant().expiresAt('2026-11-28T11:00:00Z').yaml() });
    expect(r.ok).toBe(true);
    expect(r.findings.map((f) => [f.severity, f.rule])).toEqual([['warning', 'expired']]);
  });

  it('bounds expiresAt - max(now, startsAt) by maxDuration', async () => {
    const r = await validate({
      'grants/over.yaml': aGrant().expiresAt('2026-11-28T20:00:01Z').yaml(),
      'grants/edge.yaml': aGrant().expiresAt('2026-11-28T20:00:00Z').yaml(),
      'grants/later.yaml': aGrant().startsAt('2026-11-29T00:00:00Z').expiresAt('2026-11-29T08:00:00Z').yaml(),
    });
    expect(r.findings.map(brief)).toEqual([
      'grants/over.yaml:6:12: error: grant lasts 8h, over the 8h maximum of role "readonly" on "prod-db"',
    ]);
  });

  it("applies the policy's grantSchema to its grants", async () => {
    const r = await validate({
      'grants/a.yaml': aGrant().with('ticket', 'JIRA-1').yaml(),
      'grants/b.yaml': aGrant().without('ticket').yaml(),
    });
    expect(r.findings.map((f) => `${f.file}:${f.line}:${f.column}: ${f.message}`)).toEqual([
      'grants/a.yaml:5:9: policy of "prod-db": "ticket" must match pattern "^INC-[0-9]+$"',
      'grants/b.yaml:1:1: policy of "prod-db": missing required key "ticket"',
    ]);
  });

  it('refuses two grants whose ids differ only in case, and .yml files', async () => {
    const r = await validate({
      'grants/Alice.yaml': aGrant().yaml(),
      'grants/alice.yaml': aGrant().yaml(),
      'grants/bob.yml': aGrant().yaml(),
    });
    expect(r.findings.map(brief)).toEqual([
      'grants/alice.yaml:1:1: error: grant id "alice" clashes with grants/Alice.yaml (ids must differ in more than letter case)',
      'grants/bob.yml:1:1: error: grantops reads only .yaml files; rename this file to grants/bob.yaml',
    ]);
  });

  it('treats hostile strings as data', async () => {
    const r = await validate({
      'grants/a.yaml': aGrant().for('alice"; DROP ROLE x').yaml(),
      'grants/b.yaml': aGrant()
        .with('reason', '@everyone <script>alert(1)</script> [x](https://evil)')
        .yaml(),
    });
    expect(r.findings.map((f) => `${f.file}:${f.line}:${f.column}: ${f.message}`)).toEqual([
      'grants/a.yaml:1:7: "user" must be a GitHub login: letters, digits and single inner hyphens, at most 39 characters',
    ]);
    expect(r.grants.map((g) => g.reason)).toEqual(['@everyone <script>alert(1)</script> [x](https://evil)']);
  });
});

describe('policy rules', () => {
  const valid = POLICIES['policies/repo.yaml'];
  const withPolicy = (text: string) => validate({}, { 'policies/p.yaml': text });

  it('accepts the standard set', async () => {
    const r = await validate({});
    expect(r.policyInvalid).toBe(false);
    expect([...r.policies.keys()].sort()).toEqual(['payments-repo', 'platform-team', 'prod-db', 'vpn']);
  });

  it.each([
    [
      'an unknown key',
      valid.replace('roles:', 'rolez: {}\nroles:'),
      'policies/p.yaml:2:1: error: unknown key "rolez"; did you mean "roles"?',
    ],
    [
      'a setting of another target type',
      valid.replace('repo: acme/payments', 'repo: acme/payments, team: x'),
      'policies/p.yaml:1:72: error: unknown key "team" in target',
    ],
    [
      'a role a github-repo cannot confer',
      valid.replace('pull:', 'owner:'),
      'policies/p.yaml:3:3: error: a github-repo target offers only the roles pull, triage, push, maintain, admin; "owner" is not one',
    ],
    [
      'a duration that is not one',
      valid.replace('maxDuration: 2d', 'maxDuration: 2 days'),
      'policies/p.yaml:3:24: error: "roles.pull.maxDuration" must be a duration such as 90m, 8h, 2d or 1d12h',
    ],
    [
      'approvals without approvers',
      valid.replace('approvals: 1, approvers: [bob]', 'approvals: 1'),
      'policies/p.yaml:4:40: error: role "push" needs 1 approval(s) but lists no approvers',
    ],
    [
      'more approvals than its approvers can give',
      valid.replace('approvals: 1, approvers: [bob]', 'approvals: 2, approvers: [bob]'),
      'policies/p.yaml:4:40: error: role "push" needs 2 approvals but its approvers (bob) can give at most 1',
    ],
    [
      'approvals counted over one login written in two cases',
      valid.replace('approvals: 1, approvers: [bob]', 'approvals: 2, approvers: [bob, Bob]'),
      'policies/p.yaml:4:40: error: role "push" needs 2 approvals but its approvers (bob) can give at most 1',
    ],
    [
      'an invalid grantSchema',
      `${valid}grantSchema: { requird: [ticket] }\n`,
      'policies/p.yaml:5:14: error: grantSchema is not a valid JSON Schema: strict mode: unknown keyword: "requird"',
    ],
    [
      'an unknown target type',
      valid.replace('type: github-repo', 'type: ldap'),
      'policies/p.yaml:1:38: error: "target.type" must be one of: github-team, github-repo, postgres, exec',
    ],
  ])('refuses %s (exit 2)', async (_name, text, line) => {
    const r = await withPolicy(text);
    expect(r.policyInvalid).toBe(true);
    expect(r.findings.map(brief)).toContain(line);
  });

  it.each([
    ['as many logins as approvals', 'approvals: 2, approvers: [bob, carol]'],
    ['a team, whose size only GitHub knows', 'approvals: 3, approvers: [bob, "@acme/dba"]'],
    ['no approvals and no approvers', 'approvals: 0'],
  ])('accepts approvals its approvers can reach: %s', async (_name, role) => {
    const r = await withPolicy(valid.replace('approvals: 1, approvers: [bob]', role));
    expect(r.findings).toEqual([]);
    expect(r.policyInvalid).toBe(false);
  });

  it('refuses an exec command outside the repository', async () => {
    const r = await withPolicy(POLICIES['policies/vpn.yaml'].replace('./scripts/vpn.sh', '../../bin/sh'));
    expect(r.findings.map(brief)).toEqual([
      'policies/p.yaml:1:44: error: exec command "../../bin/sh" must be a path inside the repository, relative to its root',
    ]);
  });

  it('refuses two policies for one target name', async () => {
    const r = await validate({}, { 'policies/a.yaml': valid, 'policies/b.yaml': valid });
    expect(r.findings.map(brief)).toEqual([
      'policies/b.yaml:1:17: error: target "payments-repo" is already defined by policies/a.yaml',
    ]);
  });
});
