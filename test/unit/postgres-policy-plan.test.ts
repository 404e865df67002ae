import { describe, expect, it } from 'vitest';
import type { Grant } from '../../src/model/grant.js';
import type { Policy, PostgresTarget } from '../../src/model/policy.js';
import { SchemaRegistry } from '../../src/policy/schema-registry.js';
import { planChanges, type Plan } from '../../src/plan/plan.js';
import type { Access } from '../../src/ports/target.js';
import { validateAccessRepo } from '../../src/usecases/validate-repo.js';
import { memoryTree } from '../support/memory-tree.js';

const registry = new SchemaRegistry();
const withPolicy = (text: string) =>
  validateAccessRepo(
    { now: new Date('2026-11-28T12:00:00Z') },
    { work: memoryTree({ 'policies/p.yaml': text }), registry },
  );

describe('postgres users setting', () => {
  const db = (users: string) => `target: { name: db, type: postgres, urlEnv: DB_URL, users: ${users} }
roles:
  ro: { maxDuration: 8h, approvals: 0, dbRoles: [app_read] }
`;

  it('refuses two logins that differ only in case, and two logins mapped to one role', async () => {
    const sameLogin = await withPolicy(db('{ Alice: alice_a, alice: alice_b }'));
    expect(sameLogin.findings.map((f) => f.message)).toEqual([
      'users lists Alice and alice: logins compare without regard to case',
    ]);
    const sameRole = await withPolicy(db('{ alice: shared, bob: shared }'));
    expect(sameRole.findings.map((f) => f.message)).toEqual([
      'users maps both alice and bob to the database role "shared"',
    ]);
    const ok = await withPolicy(db('{ Alice: alice_ro }'));
    expect((ok.policies.get('db')?.target as PostgresTarget).users).toEqual({ Alice: 'alice_ro' });
  });
});

describe('planning around accounts grantops does not manage', () => {
  const target: PostgresTarget = {
    name: 'db',
    type: 'postgres',
    urlEnv: 'DB_URL',
    users: {},
    manageLogin: true,
    enforce: false,
    enforceMaxFraction: 1,
    exempt: [],
  };
  const policy = (enforce = false): Policy => ({
    file: 'policies/db.yaml',
    target: { ...target, enforce },
    roles: new Map([
      [
        'rw',
        {
          name: 'rw',
          maxDuration: '8h',
          maxDurationMs: 1,
          approvals: 0,
          approvers: [],
          dbRoles: ['app_write'],
        },
      ],
    ]),
    alertsBeforeMs: [],
  });
  const grant = (user: string, expiresAt: string): Grant => ({
    id: `db/${user}`,
    file: `grants/db/${user}.yaml`,
    user,
    target: 'db',
    role: 'rw',
    reason: 'x',
    expiresAt: new Date(expiresAt),
  });
  const plan = (grants: Grant[], access: Access[], enforce = false): Plan =>
    planChanges({
      now: new Date('2026-11-28T12:00:00Z'),
      grants,
      approved: new Set(grants.map((g) => g.id)),
      targets: new Map([
        [
          'db',
          {
            policy: policy(enforce),
            model: { entitlements: () => ['app_write'] },
            nativeExpiry: true,
            observed: { ok: true, access },
          },
        ],
      ]),
    });
  const app: Access = {
    user: 'app',
    entitlement: 'app_write',
    unmanaged: 'not grantops',
    noNativeExpiry: true,
  };
  const brief = (p: Plan) => p.actions.map((a) => `${a.kind} ${a.user} ${a.entitlement} ${a.reason}`);

  it('still sends the grant for an account it does not manage, so the target refuses it at every apply', () => {
    expect(brief(plan([grant('app', '2026-11-28T18:00:00Z')], [app]))).toEqual(['grant app app_write new']);
  });

  it("never revokes an unmanaged account's access because a grant for it ended: that is drift", () => {
    const p = plan([grant('app', '2026-11-28T11:00:00Z')], [app]);
    expect(brief(p)).toEqual([]);
    expect(p.drift).toEqual([
      { target: 'db', user: 'app', entitlement: 'app_write', enforced: false, heldByGuard: false },
    ]);
    expect(brief(plan([grant('app', '2026-11-28T11:00:00Z')], [app], true))).toEqual([
      'revoke app app_write enforce',
    ]);
  });

  it("does not update the expiry of an account whose VALID UNTIL is not grantops'", () => {
    const carl: Access = { user: 'carl', entitlement: 'app_write', noNativeExpiry: true };
    expect(brief(plan([grant('carl', '2026-11-28T18:00:00Z')], [carl]))).toEqual([]);
    const own: Access = { user: 'dana', entitlement: 'app_write' };
    expect(brief(plan([grant('dana', '2026-11-28T18:00:00Z')], [own]))).toEqual([
      'grant dana app_write update-expiry',
    ]);
  });
});
