import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Policy, PostgresTarget } from '../../src/model/policy.js';
import { planChanges } from '../../src/plan/plan.js';
import { PostgresTargetAdapter } from '../../src/targets/postgres.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';

/**
 * A real PostgreSQL server: roles, GRANT, VALID UNTIL and logins are the database's own. grantops
 * connects as `grantops`, set up with exactly the privileges docs/targets.md asks for (CREATEROLE, ADMIN
 * OPTION on each dbRole, pg_signal_backend), never as a superuser.
 */
let server: TestPostgres;
let admin: pg.Client;
const clients: pg.Client[] = [];

beforeAll(async () => {
  server = await startPostgres();
  admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  await admin.query(
    'CREATE ROLE app_read NOLOGIN; CREATE ROLE app_write NOLOGIN; CREATE ROLE untouched NOLOGIN',
  );
  await admin.query(`CREATE ROLE grantops LOGIN CREATEROLE PASSWORD 'pw-grantops';
    GRANT app_read, app_write TO grantops WITH ADMIN OPTION;
    GRANT pg_signal_backend TO grantops`);
}, 60_000);
afterAll(async () => {
  for (const c of clients) await c.end().catch(() => undefined);
  await admin?.end();
  server?.stop();
});

function policy(
  manageLogin: boolean,
  users: Record<string, string> = {},
  more: Partial<PostgresTarget> = {},
): Policy {
  const target: PostgresTarget = {
    name: 'db',
    type: 'postgres',
    urlEnv: 'DB_URL',
    users,
    manageLogin,
    ...more,
    enforce: more.enforce ?? false,
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
const adapter = (manageLogin: boolean, users: Record<string, string> = {}, as = 'grantops') => {
  const p = policy(manageLogin, users);
  return new PostgresTargetAdapter(p.target as PostgresTarget, p, {
    DB_URL: server.urlFor(as, `pw-${as}`),
  });
};
const roleOf = async (name: string) =>
  (
    await admin.query<{ rolcanlogin: boolean; rolvaliduntil: Date | null; comment: string | null }>(
      `SELECT rolcanlogin, rolvaliduntil, shobj_description(oid, 'pg_authid') AS comment FROM pg_roles WHERE rolname = $1`,
      [name],
    )
  ).rows[0];
/** A session of `role`, held open; the test sees whether grantops ended it. */
async function session(role: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: server.urlFor(role, `pw-${role}`) });
  c.on('error', () => undefined); // a terminated session errors asynchronously
  await c.connect();
  clients.push(c);
  return c;
}
const alive = (c: pg.Client) =>
  c.query('SELECT 1').then(
    () => true,
    () => false,
  );
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
    const t = adapter(false, { zed: 'zed' });
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

  it('marks the login roles it creates, so it can tell them from everyone else', async () => {
    const t = adapter(true);
    await t.grant({
      user: 'erin',
      entitlement: 'app_read',
      expiresAt: new Date(Date.now() + 60_000),
      grantIds: ['g5'],
    });
    expect((await roleOf('erin'))?.comment).toBe('grantops-managed');
    await t.close();
  });
});

describe('postgres target: only the roles grantops manages', () => {
  const later = () => new Date(Date.now() + 3_600_000);

  it('refuses a grant for an existing application login, and leaves it as it was', async () => {
    await admin.query(`CREATE ROLE app LOGIN PASSWORD 'pw-app'`);
    const appSession = await session('app');
    const t = adapter(true);
    await expect(
      t.grant({ user: 'app', entitlement: 'app_write', expiresAt: later(), grantIds: ['g-app'] }),
    ).rejects.toThrow(/role "app" already exists and was not created by grantops/);
    expect(await roleOf('app')).toEqual({ rolcanlogin: true, rolvaliduntil: null, comment: null });
    expect(await memberships('app')).toEqual([]);

    // Membership the application holds from its DBA: a grant for "app" never counts as having given
    // it, so its expiry does not take it away; enforcement may revoke the membership, nothing more.
    await admin.query('GRANT app_read TO app');
    const [held] = (await t.observe()).filter((a) => a.user === 'app');
    expect(held).toMatchObject({ user: 'app', entitlement: 'app_read' });
    expect(held?.unmanaged).toMatch(/not created by grantops/);
    await t.revoke({ user: 'app', entitlement: 'app_read', grantIds: [] });
    expect(await memberships('app')).toEqual([]);
    expect(await roleOf('app')).toEqual({ rolcanlogin: true, rolvaliduntil: null, comment: null });
    expect(await alive(appSession)).toBe(true);
    await t.close();
  });

  it('refuses the superuser, privileged roles and the connecting role, even when users maps them', async () => {
    await admin.query(`CREATE ROLE rep LOGIN REPLICATION; CREATE ROLE maker LOGIN CREATEROLE;
      CREATE ROLE bypass LOGIN BYPASSRLS; CREATE ROLE dba LOGIN; GRANT app_read TO dba WITH ADMIN OPTION`);
    const pgSession = new pg.Client({ connectionString: server.url });
    await pgSession.connect();
    clients.push(pgSession);
    const t = adapter(true, { root: 'postgres', rep: 'rep', maker: 'maker', bypass: 'bypass', dba: 'dba' });
    const grant = (user: string) =>
      t.grant({ user, entitlement: 'app_read', expiresAt: later(), grantIds: [`g-${user}`] });
    await expect(grant('postgres')).rejects.toThrow(/role "postgres" is a superuser/);
    await expect(grant('root')).rejects.toThrow(/role "postgres" is a superuser/);
    await expect(grant('rep')).rejects.toThrow(/role "rep" has REPLICATION/);
    await expect(grant('maker')).rejects.toThrow(/role "maker" has CREATEROLE/);
    await expect(grant('bypass')).rejects.toThrow(/role "bypass" has BYPASSRLS/);
    await expect(grant('dba')).rejects.toThrow(/role "dba" holds ADMIN OPTION on app_read/);
    await expect(grant('grantops')).rejects.toThrow(/role "grantops" is the role grantops connects as/);
    await expect(t.revoke({ user: 'postgres', entitlement: 'app_read', grantIds: [] })).rejects.toThrow(
      /superuser/,
    );
    const superuser = await roleOf('postgres');
    expect(superuser?.rolcanlogin).toBe(true);
    expect(superuser?.rolvaliduntil).toBeNull();
    expect(await alive(pgSession)).toBe(true);
    expect((await roleOf('grantops'))?.rolvaliduntil).toBeNull();
    expect(await memberships('postgres')).toEqual([]);
    await t.close();
  });

  it('grants and revokes only membership for an existing role users maps on purpose', async () => {
    await admin.query(`CREATE ROLE carl_app LOGIN PASSWORD 'pw-carl_app'`);
    const s = await session('carl_app');
    const t = adapter(true, { carl: 'carl_app' });
    await t.grant({ user: 'carl', entitlement: 'app_read', expiresAt: later(), grantIds: ['g-carl'] });
    expect(await memberships('carl_app')).toEqual(['app_read']);
    expect(await roleOf('carl_app')).toEqual({ rolcanlogin: true, rolvaliduntil: null, comment: null });
    // Its VALID UNTIL is not grantops': the planner must not try to "fix" it on every run.
    const seen = (await t.observe()).find((a) => a.user === 'carl');
    expect(seen).toEqual({ user: 'carl', entitlement: 'app_read', noNativeExpiry: true });
    await t.revoke({ user: 'carl', entitlement: 'app_read', grantIds: ['g-carl'] });
    expect(await memberships('carl_app')).toEqual([]);
    expect(await roleOf('carl_app')).toEqual({ rolcanlogin: true, rolvaliduntil: null, comment: null });
    expect(await alive(s)).toBe(true);
    await t.close();
  });

  it('compares the logins in users without regard to case', async () => {
    const t = adapter(true, { Dana: 'dana_ro' });
    await t.grant({ user: 'dana', entitlement: 'app_read', expiresAt: later(), grantIds: ['g-dana'] });
    await t.grant({ user: 'DANA', entitlement: 'app_write', expiresAt: later(), grantIds: ['g-dana'] });
    expect(await memberships('dana_ro')).toEqual(['app_read', 'app_write']);
    expect(await roleOf('dana')).toBeUndefined();
    expect((await t.observe()).filter((a) => a.user.toLowerCase() === 'dana').map((a) => a.user)).toEqual([
      'Dana',
      'Dana',
    ]);
    await t.close();
  });

  it('never counts the connecting role, superusers or ADMIN OPTION holders as drift under enforce', async () => {
    await admin.query(`CREATE ROLE boss SUPERUSER; GRANT app_read TO boss`);
    const p = policy(true, {}, { enforce: true, enforceMaxFraction: 1 });
    const t = new PostgresTargetAdapter(p.target as PostgresTarget, p, {
      DB_URL: server.urlFor('grantops', 'pw-grantops'),
    });
    const access = await t.observe();
    const holders = new Set(access.map((a) => a.user));
    for (const who of ['grantops', 'boss', 'dba', 'postgres']) expect(holders.has(who)).toBe(false);
    const plan = planChanges({
      now: new Date(),
      grants: [],
      approved: new Set(),
      targets: new Map([
        ['db', { policy: p, model: t.model, nativeExpiry: t.nativeExpiry, observed: { ok: true, access } }],
      ]),
    });
    const revoked = new Set(plan.actions.map((a) => a.user));
    for (const who of ['grantops', 'boss', 'dba']) expect(revoked.has(who)).toBe(false);
    await t.close();
  });

  it('ends the open sessions of a login it disables', async () => {
    const t = adapter(true);
    await t.grant({ user: 'fay', entitlement: 'app_read', expiresAt: later(), grantIds: ['g-fay'] });
    await admin.query(`ALTER ROLE fay PASSWORD 'pw-fay'`);
    const s = await session('fay');
    await t.revoke({ user: 'fay', entitlement: 'app_read', grantIds: ['g-fay'] });
    expect(await alive(s)).toBe(false);
    expect((await roleOf('fay'))?.rolcanlogin).toBe(false);
    await t.close();
  });

  it('fails the revoke, with the reason, when it cannot end an open session', async () => {
    // Everything docs/targets.md asks for except pg_signal_backend.
    await admin.query(`CREATE ROLE nosignal LOGIN CREATEROLE PASSWORD 'pw-nosignal';
      GRANT app_read, app_write TO nosignal WITH ADMIN OPTION`);
    const t = adapter(true, {}, 'nosignal');
    await t.grant({ user: 'gus', entitlement: 'app_read', expiresAt: later(), grantIds: ['g-gus'] });
    await admin.query(`ALTER ROLE gus PASSWORD 'pw-gus'`);
    const s = await session('gus');
    await expect(t.revoke({ user: 'gus', entitlement: 'app_read', grantIds: ['g-gus'] })).rejects.toThrow(
      /could not end the open sessions of "gus".*pg_signal_backend/,
    );
    expect(await alive(s)).toBe(true);
    // The membership stays until the sessions are gone, so the next run revokes again.
    expect(await memberships('gus')).toEqual(['app_read']);
    expect((await roleOf('gus'))?.rolcanlogin).toBe(false);
    await t.close();
  });
});

describe('postgres target check', () => {
  it('finds nothing missing for a connecting role set up as docs/targets.md says', async () => {
    const t = adapter(true);
    expect(await t.check()).toEqual([]);
    await t.close();
  });

  it('names each missing privilege, one line each', async () => {
    await admin.query(`CREATE ROLE weak LOGIN PASSWORD 'pw-weak'; GRANT app_read TO weak`);
    const t = adapter(true, {}, 'weak');
    expect(await t.check()).toEqual([
      'the connecting role "weak" lacks CREATEROLE (manageLogin creates and disables login roles)',
      'the connecting role "weak" lacks ADMIN OPTION on database role app_read (GRANT app_read TO weak WITH ADMIN OPTION)',
      'the connecting role "weak" lacks ADMIN OPTION on database role app_write (GRANT app_write TO weak WITH ADMIN OPTION)',
      'the connecting role "weak" is not a member of pg_signal_backend (it ends the open sessions of revoked logins)',
    ]);
    await t.close();
  });

  it('reports a missing database role and an unreachable server', async () => {
    const p = policy(false);
    const missing = new PostgresTargetAdapter(
      p.target as PostgresTarget,
      { ...p, roles: new Map([['x', { ...p.roles.get('readonly')!, dbRoles: ['no_such_role'] }]]) },
      { DB_URL: server.urlFor('grantops', 'pw-grantops') },
    );
    expect(await missing.check()).toEqual(['database role no_such_role does not exist']);
    await missing.close();
    const down = new PostgresTargetAdapter(p.target as PostgresTarget, p, {
      DB_URL: 'postgres://x@127.0.0.1:1/db',
    });
    expect((await down.check())[0]).toMatch(/^cannot connect: .*ECONNREFUSED/);
    await down.close();
  });
});
