import type pg from 'pg';
import { errorMessage, TargetError } from '../model/errors.js';

/*
 * What grantops reads from and does to PostgreSQL's catalog, below the adapter's decisions: the facts
 * of a role, the connecting role's privileges, a transaction, and ending a role's sessions.
 */

/**
 * The COMMENT grantops puts on every login role it creates. Only roles carrying it are grantops'
 * own: the only ones it ever ALTERs, disables or whose sessions it ends.
 */
export const MANAGED_MARKER = 'grantops-managed';

/** How long one terminated session may take to end before the revoke fails. */
const TERMINATE_WAIT_MS = 5_000;

export interface RoleFacts {
  /** Carries the marker. */
  managed: boolean;
  /** Why grantops must never change this role, if so (`is a superuser`). */
  privileged?: string;
}

export interface RoleFactRow {
  super: boolean;
  createrole: boolean;
  replication: boolean;
  bypassrls: boolean;
  connecting: boolean;
  managed: boolean;
  admin_of: string[];
}

/** The columns of RoleFactRow for the pg_roles row aliased `r`; $2 is the marker, $3 the scope. */
export const ROLE_FACTS = `r.rolsuper AS super, r.rolcreaterole AS createrole, r.rolreplication AS replication,
       r.rolbypassrls AS bypassrls, r.rolname IN (current_user, session_user) AS connecting,
       COALESCE(shobj_description(r.oid, 'pg_authid') = $2, false) AS managed,
       ARRAY(SELECT g.rolname::text FROM pg_auth_members a2 JOIN pg_roles g ON g.oid = a2.roleid
              WHERE a2.member = r.oid AND a2.admin_option AND g.rolname = ANY($3::text[])
              ORDER BY 1) AS admin_of`;

export function factsFrom(row: RoleFactRow): RoleFacts {
  // The connecting role first: it also holds ADMIN OPTION, but this is the reason that matters.
  const privileged = row.connecting
    ? 'is the role grantops connects as'
    : row.super
      ? 'is a superuser'
      : row.createrole
        ? 'has CREATEROLE'
        : row.replication
          ? 'has REPLICATION'
          : row.bypassrls
            ? 'has BYPASSRLS'
            : row.admin_of.length > 0
              ? `holds ADMIN OPTION on ${row.admin_of.join(', ')}`
              : undefined;
  return { managed: row.managed, ...(privileged ? { privileged } : {}) };
}

/** The facts of role `name`, or undefined when it does not exist. */
export async function readRoleFacts(
  client: pg.PoolClient,
  name: string,
  scope: readonly string[],
): Promise<RoleFacts | undefined> {
  const { rows } = await client.query<RoleFactRow>(
    `SELECT ${ROLE_FACTS} FROM pg_roles r WHERE r.rolname = $1`,
    [name, MANAGED_MARKER, scope],
  );
  return rows[0] ? factsFrom(rows[0]) : undefined;
}

/**
 * What the connecting role lacks: CREATEROLE and pg_signal_backend (with manageLogin), ADMIN
 * OPTION on every dbRole (PostgreSQL 16 requires it to GRANT and REVOKE; 15 accepts CREATEROLE).
 */
export async function missingPrivileges(
  client: pg.PoolClient,
  manageLogin: boolean,
  scope: readonly string[],
): Promise<string[]> {
  const problems: string[] = [];
  const me = (
    await client.query<{ name: string; super: boolean; createrole: boolean; signal: boolean }>(
      `SELECT current_user::text AS name, r.rolsuper AS super, r.rolcreaterole AS createrole,
              pg_has_role(current_user, 'pg_signal_backend', 'USAGE') AS signal
         FROM pg_roles r WHERE r.rolname = current_user`,
    )
  ).rows[0];
  if (!me) return ['cannot read the connecting role from pg_roles'];
  const who = `the connecting role "${me.name}"`;
  if (manageLogin && !me.super && !me.createrole)
    problems.push(`${who} lacks CREATEROLE (manageLogin creates and disables login roles)`);
  const roles = await client.query<{ name: string; found: boolean; admin: boolean }>(
    `SELECT s.name, r.oid IS NOT NULL AS found,
            COALESCE(pg_has_role(current_user, r.oid, 'MEMBER WITH ADMIN OPTION'), false) AS admin
       FROM unnest($1::text[]) WITH ORDINALITY AS s(name, n) LEFT JOIN pg_roles r ON r.rolname = s.name
      ORDER BY s.n`,
    [scope],
  );
  for (const r of roles.rows) {
    if (!r.found) problems.push(`database role ${r.name} does not exist`);
    else if (!r.admin) {
      problems.push(
        `${who} lacks ADMIN OPTION on database role ${r.name} (GRANT ${sqlName(client, r.name)} TO ${sqlName(client, me.name)} WITH ADMIN OPTION)`,
      );
    }
  }
  if (manageLogin && !me.signal)
    problems.push(
      `${who} is not a member of pg_signal_backend (it ends the open sessions of revoked logins)`,
    );
  return problems;
}

/** Runs `work` in a transaction; false when it failed because the role already exists. */
export async function inTransaction(client: pg.PoolClient, work: () => Promise<void>): Promise<boolean> {
  await client.query('BEGIN');
  try {
    await work();
    await client.query('COMMIT');
    return true;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    if ((err as { code?: string }).code === '42710') return false; // duplicate_object
    throw err;
  }
}

/** Ends every open session of `name`, or fails saying why: a session left open is access left. */
export async function endSessions(client: pg.PoolClient, name: string, target: string): Promise<void> {
  let rows: { pid: number; ended: boolean }[];
  try {
    ({ rows } = await client.query<{ pid: number; ended: boolean }>(
      `SELECT pid, pg_terminate_backend(pid, ${TERMINATE_WAIT_MS}) AS ended
         FROM pg_stat_activity WHERE usename = $1 AND pid <> pg_backend_pid()`,
      [name],
    ));
  } catch (err) {
    throw new TargetError(
      `revoke: could not end the open sessions of "${name}": ${errorMessage(err)} (the connecting role needs pg_signal_backend)`,
      target,
    );
  }
  // false: it did not end in time, or it had ended already (a warning only): look again.
  const slow = rows.filter((r) => !r.ended).map((r) => r.pid);
  if (slow.length === 0) return;
  const still = await client.query<{ pid: number }>(
    'SELECT pid FROM pg_stat_activity WHERE pid = ANY($1::int[])',
    [slow],
  );
  if (still.rows.length > 0) {
    throw new TargetError(
      `revoke: session(s) ${still.rows.map((r) => r.pid).join(', ')} of "${name}" did not end within ${TERMINATE_WAIT_MS / 1000}s`,
      target,
    );
  }
}

export function foreignReason(name: string, login: string): string {
  return `role "${name}" already exists and was not created by grantops, which will not change it (to grant it membership only, map ${login} to it in the policy's users)`;
}

/** A role name as it would be typed in SQL: bare when that is unambiguous, quoted otherwise. */
function sqlName(client: pg.PoolClient, name: string): string {
  return /^[a-z_][a-z0-9_]*$/.test(name) ? name : client.escapeIdentifier(name);
}
