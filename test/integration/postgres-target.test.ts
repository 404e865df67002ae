import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Policy, PostgresTarget } from '../../src/model/policy.js';
import { PostgresTargetAdapter } from '../../src/targets/postgres.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';

/** A real PostgreSQL server: roles, GRANT, VALID UNTIL and logins are the database's own. */
let server: TestPostgres;
let admin: pg.Client;

beforeAll(async () => {
  server = await startPostgres();
  admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  await admin.query(
    'CREATE ROLE app_read NOLOGIN; CREATE ROLE app_write NOLOGIN; CREATE ROLE untouched NOLOGIN',
  );
}, 60_000);
afterAll(async () => {
  await admin?.end();
  server?.stop();
});

function policy(manageLogin: boolean, users: Record<string, string> = {}): Policy {
  const target: PostgresTarget = {
    name: 'db',
    type: 'postgres',
    urlEnv: 'DB_URL',
    users,
    manageLogin,
    enforce: false,
    enforceMaxFraction: 0.25,
    exempt: [],
  };
  const role = (name: string, dbRoles: string[]) => ({
    name,
    maxDuration: '8h',
    maxDurationMs: 1,
    approvals: 0,
    approvers: [],
    dbRoles,
  });
  return {
    file: 'policies/db.yaml',
    target,
    roles: new Map([
      ['readonly', role('readonly', ['app_read'])],
      ['readwrite', role('readwrite', ['app_read', 'app_write'])],
    ]),
    alertsBeforeMs: [],
  };
}
const adapter = (manageLogin: boolean, users: Record<string, string> = {}) => {
  const p = policy(manageLogin, users);
  return new PostgresTargetAdapter(p.target as PostgresTarget, p, { DB_URL: server.url });
};
const memberships = async (role: string) =>
  (
    await admin.query<{ rolname: string }>(
      `SELECT r.rolname FROM pg_auth_members am JOIN pg_roles r ON r.oid = am.roleid JOIN pg_roles m ON m.oid = am.member WHERE m.rolname = $1 ORDER BY 1`,
      [role],
    )
  ).rows.map((r) => r.rolname);

describe('postgres target', () => {
  it('creates a managed login with VALID UNTIL, grants membership, observes it, and is idempotent', async () => {
    const t = adapter(true);
    const until = new Date(Date.now() + 3_600_000);
    until.setMilliseconds(0);
    await t.grant({ user: 'Alice', entitlement: 'app_read', expiresAt: until, grantIds: ['g1'] });
    await t.grant({ user: 'Alice', entitlement: 'app_read', expiresAt: until, grantIds: ['g1'] });
    expect(await memberships('alice')).toEqual(['app_read']);
    const role = await admin.query<{ rolcanlogin: boolean; rolvaliduntil: Date }>(
      `SELECT rolcanlogin, rolvaliduntil FROM pg_roles WHERE rolname = 'alice'`,
    );
    expect(role.rows[0]?.rolcanlogin).toBe(true);
    expect(role.rows[0]?.rolvaliduntil.getTime()).toBe(until.getTime());
    expect(await t.observe()).toEqual([{ user: 'alice', entitlement: 'app_read', expiresAt: until }]);

    // The login works now (passwords are set by your secret tooling, not grantops).
    await admin.query(`ALTER ROLE alice PASSWORD 'pw-alice'`);
    const c = new pg.Client({ connectionString: server.urlFor('alice', 'pw-alice') });
    await c.connect();
    await c.end();
    await t.close();
  });

  it('refuses logins once VALID UNTIL has passed, with no reaper involved', async () => {
    const t = adapter(true);
    await t.grant({
      user: 'bob',
      entitlement: 'app_read',
      expiresAt: new Date(Date.now() + 60_000),
      grantIds: ['g2'],
    });
    await admin.query(`ALTER ROLE bob PASSWORD 'pw-bob'`);
    const ok = new pg.Client({ connectionString: server.urlFor('bob', 'pw-bob') });
    await ok.connect();
    await ok.end();
    // The grant's expiry passes (set in the past here rather than waiting): PostgreSQL refuses by itself.
    await t.grant({
      user: 'bob',
      entitlement: 'app_read',
      expiresAt: new Date(Date.now() - 1000),
      grantIds: ['g2'],
    });
    const c = new pg.Client({ connectionString: server.urlFor('bob', 'pw-bob') });
    await expect(c.connect()).rejects.toThrow(
      /password authentication failed|authentication failed|expired/i,
    );
    await t.close();
  });

  it('revokes membership, and the last revoke disables the login', async () => {
    const t = adapter(true);
    const until = new Date(Date.now() + 3_600_000);
    await t.grant({ user: 'carol', entitlement: 'app_read', expiresAt: until, grantIds: ['g3'] });
    await t.grant({ user: 'carol', entitlement: 'app_write', expiresAt: until, grantIds: ['g3'] });
    await t.revoke({ user: 'carol', entitlement: 'app_write', grantIds: ['g3'] });
    expect(await memberships('carol')).toEqual(['app_read']);
    await t.revoke({ user: 'carol', entitlement: 'app_read', grantIds: ['g3'] });
    await t.revoke({ user: 'carol', entitlement: 'app_read', grantIds: ['g3'] }); // idempotent
    expect(await memberships('carol')).toEqual([]);
    const role = await admin.query<{ rolcanlogin: boolean }>(
      `SELECT rolcanlogin FROM pg_roles WHERE rolname = 'carol'`,
    );
    expect(role.rows[0]?.rolcanlogin).toBe(false);
    await t.revoke({ user: 'nobody', entitlement: 'app_read', grantIds: [] }); // no such role: nothing to do
    await t.close();
  });

  it('treats a hostile user name as an identifier, never as SQL', async () => {
    const t = adapter(true, { evil: 'alice"; DROP ROLE untouched; --' });
    await t.grant({
      user: 'evil',
      entitlement: 'app_read',
      expiresAt: new Date(Date.now() + 60_000),
      grantIds: ['g4'],
    });
    expect(await memberships('alice"; DROP ROLE untouched; --')).toEqual(['app_read']);
    const still = await admin.query(`SELECT 1 FROM pg_roles WHERE rolname = 'untouched'`);
    expect(still.rowCount).toBe(1);
    expect((await t.observe()).some((a) => a.user === 'evil')).toBe(true);
    await t.close();
  });

  it('never touches a database role outside the policy', async () => {
    const t = adapter(false);
    await expect(t.grant({ user: 'alice', entitlement: 'untouched', grantIds: [] })).rejects.toThrow(
      'is not managed by this policy',
    );
    await t.close();
  });

  it('without manageLogin, needs the login to exist and leaves VALID UNTIL alone', async () => {
    const t = adapter(false);
    await expect(t.grant({ user: 'zed', entitlement: 'app_read', grantIds: [] })).rejects.toThrow(
      /role "zed" does not exist/,
    );
    await admin.query('CREATE ROLE zed LOGIN');
    await t.grant({ user: 'zed', entitlement: 'app_read', grantIds: [] });
    expect(await memberships('zed')).toEqual(['app_read']);
    expect((await t.observe()).find((a) => a.user === 'zed')).toEqual({
      user: 'zed',
      entitlement: 'app_read',
    });
    await t.close();
  });

  it('reports an unreachable server as a target error', async () => {
    const p = policy(false);
    const t = new PostgresTargetAdapter(p.target as PostgresTarget, p, {
      DB_URL: 'postgres://x@127.0.0.1:1/db',
    });
    await expect(t.observe()).rejects.toThrow(/observe: .*ECONNREFUSED/);
    await t.close();
  });
});
