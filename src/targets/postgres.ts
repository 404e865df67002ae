import type pg from 'pg';
import { errorMessage, TargetError } from '../model/errors.js';
import type { Policy, PostgresTarget } from '../model/policy.js';
import {
  endSessions,
  factsFrom,
  foreignReason,
  inTransaction,
  MANAGED_MARKER,
  missingPrivileges,
  readRoleFacts,
  ROLE_FACTS,
  type RoleFactRow,
  type RoleFacts,
} from './postgres-catalog.js';
import type { Access, AccessChange, EntitlementModel, Target } from '../ports/target.js';

/**
 * What grantops may do to a database role for a grant:
 * - `create`: it does not exist; with manageLogin grantops creates it, marked as its own;
 * - `login`: grantops' own, with manageLogin: membership, LOGIN/VALID UNTIL, NOLOGIN, its sessions;
 * - `membership`: grantops' own without manageLogin, or an existing role `users` names on purpose;
 * - `foreign`: exists, not grantops', not named: grants are refused, enforcement revokes membership only;
 * - `refused`: privileged, or grantops itself: never touched.
 */
type Mode = { kind: 'create' | 'login' | 'membership' } | { kind: 'foreign' | 'refused'; reason: string };

/**
 * Membership in database roles. A grantops role confers the `dbRoles` its policy lists; the
 * managed scope is the members of those roles, less the roles that administer it (the connecting
 * role, superusers, holders of ADMIN OPTION on a dbRole) and the dbRoles themselves. Identifiers are
 * always quoted by the driver's escapeIdentifier: a user name is data, never SQL.
 *
 * With `manageLogin`, grantops creates the user's login role, marked with a COMMENT, and sets VALID
 * UNTIL to the grant's expiresAt, so PostgreSQL itself refuses logins on time even if no reaper runs.
 * It changes nothing else: a role it did not create is only ever given or relieved of membership,
 * and only when the policy's `users` names it; privileged roles are refused outright.
 */
export class PostgresTargetAdapter implements Target {
  readonly model: EntitlementModel;
  readonly nativeExpiry: boolean;
  /** Made on first use: loading the driver costs every command that builds targets tens of ms. */
  private pooled: Promise<pg.Pool> | undefined;
  private readonly url: string;
  private readonly scope: string[];
  /** The policy's `users`, by lower-cased login: logins compare case-insensitively. */
  private readonly users = new Map<string, string>();
  /** Database role name → the login `users` maps to it, as written. */
  private readonly loginOf = new Map<string, string>();

  constructor(
    readonly config: PostgresTarget,
    policy: Policy,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    const url = env[config.urlEnv];
    if (!url) throw new TargetError(`environment variable ${config.urlEnv} (urlEnv) is not set`, config.name);
    this.url = url;
    this.model = { entitlements: (role) => policy.roles.get(role)?.dbRoles ?? [] };
    this.scope = [...new Set([...policy.roles.values()].flatMap((r) => r.dbRoles))].sort();
    this.nativeExpiry = config.manageLogin;
    for (const [login, dbName] of Object.entries(config.users)) {
      this.users.set(login.toLowerCase(), dbName);
      this.loginOf.set(dbName, login);
    }
  }

  /** The database role name for a GitHub login: the policy's `users` map, else the login lower-cased. */
  dbName(login: string): string {
    return this.users.get(login.toLowerCase()) ?? login.toLowerCase();
  }

  async observe(): Promise<Access[]> {
    const { rows } = await this.query<
      RoleFactRow & { member: string; granted: string; validuntil: Date | string | null }
    >(
      // DISTINCT: since PostgreSQL 16 one membership can be granted by several grantors.
      `SELECT DISTINCT r.rolname AS member, s.rolname AS granted, r.rolvaliduntil AS validuntil,
              ${ROLE_FACTS}
         FROM pg_auth_members am
         JOIN pg_roles s ON s.oid = am.roleid
         JOIN pg_roles r ON r.oid = am.member
        WHERE s.rolname = ANY($1::text[]) AND NOT r.rolname = ANY($1::text[])
        ORDER BY 1, 2`,
      [this.scope, MANAGED_MARKER, this.scope],
    );
    return rows.flatMap((row): Access[] => {
      const facts = factsFrom(row);
      // The roles that administer the scope are not access grantops manages: never drift.
      if (facts.privileged) return [];
      const user = this.loginOf.get(row.member) ?? row.member;
      if (facts.managed) {
        const expires =
          row.validuntil instanceof Date && Number.isFinite(row.validuntil.getTime())
            ? row.validuntil
            : undefined;
        return [
          {
            user,
            entitlement: row.granted,
            ...(this.config.manageLogin && expires ? { expiresAt: expires } : {}),
          },
        ];
      }
      return [
        {
          user,
          entitlement: row.granted,
          ...(this.config.manageLogin ? { noNativeExpiry: true } : {}),
          ...(this.loginOf.has(row.member) ? {} : { unmanaged: foreignReason(row.member, user) }),
        },
      ];
    });
  }

  async grant(change: AccessChange): Promise<void> {
    this.checkScope(change.entitlement);
    const name = this.dbName(change.user);
    const client = await this.connect();
    try {
      let mode = this.modeFor(change.user, name, await this.factsOf(client, name));
      const role = client.escapeIdentifier(name);
      const until = () => {
        if (!change.expiresAt) throw new TargetError('a managed login needs an expiry', this.config.name);
        return client.escapeLiteral(change.expiresAt.toISOString());
      };
      if (mode.kind === 'create') {
        if (!this.config.manageLogin) {
          throw new TargetError(
            `grant: role "${name}" does not exist (without manageLogin, grantops only grants membership to existing roles)`,
            this.config.name,
          );
        }
        // Created and marked in one transaction: a role grantops made is never left unmarked.
        const created = await inTransaction(client, async () => {
          await client.query(`CREATE ROLE ${role} LOGIN VALID UNTIL ${until()}`);
          await client.query(`COMMENT ON ROLE ${role} IS ${client.escapeLiteral(MANAGED_MARKER)}`);
        });
        // Another run created it between our look and our CREATE: judge it again as it is now.
        mode = created
          ? { kind: 'login' }
          : this.modeFor(change.user, name, await this.factsOf(client, name));
      }
      switch (mode.kind) {
        case 'foreign':
        case 'refused':
          throw new TargetError(`grant refused: ${mode.reason}`, this.config.name);
        case 'create':
          throw new TargetError(
            `grant: role "${name}" vanished while it was created; run again`,
            this.config.name,
          );
        case 'login':
          await client.query(`ALTER ROLE ${role} LOGIN VALID UNTIL ${until()}`);
          break;
        case 'membership':
          break;
      }
      await client.query(`GRANT ${client.escapeIdentifier(change.entitlement)} TO ${role}`);
    } catch (err) {
      throw this.wrap('grant', err);
    } finally {
      client.release();
    }
  }

  async revoke(change: AccessChange): Promise<void> {
    this.checkScope(change.entitlement);
    const name = this.dbName(change.user);
    const client = await this.connect();
    try {
      const facts = await this.factsOf(client, name);
      if (!facts) return; // nothing to revoke: idempotent
      const mode = this.modeFor(change.user, name, facts);
      if (mode.kind === 'refused') throw new TargetError(`revoke refused: ${mode.reason}`, this.config.name);
      const role = client.escapeIdentifier(name);
      if (mode.kind === 'login') {
        const others = await client.query(
          `SELECT 1 FROM pg_auth_members am JOIN pg_roles r ON r.oid = am.roleid JOIN pg_roles m ON m.oid = am.member
            WHERE m.rolname = $1 AND r.rolname = ANY($2::text[]) AND r.rolname <> $3`,
          [name, this.scope, change.entitlement],
        );
        if (others.rowCount === 0) {
          // The last grant goes: no new logins, and the sessions already open end before the
          // membership does, so that a failure leaves access the next run sees and revokes again.
          await client.query(`ALTER ROLE ${role} NOLOGIN VALID UNTIL '-infinity'`);
          await endSessions(client, name, this.config.name);
        }
      }
      // A foreign role reaches here only through enforcement, and loses its membership, nothing more.
      await client.query(`REVOKE ${client.escapeIdentifier(change.entitlement)} FROM ${role}`);
      // Since PostgreSQL 16 a membership granted by another role survives our REVOKE (with a warning
      // only): a revoke that did not take is a failure, never a success.
      const left = await client.query<{ grantor: string | null }>(
        `SELECT g.rolname AS grantor FROM pg_auth_members am JOIN pg_roles r ON r.oid = am.roleid
           JOIN pg_roles m ON m.oid = am.member LEFT JOIN pg_roles g ON g.oid = am.grantor
          WHERE m.rolname = $1 AND r.rolname = $2`,
        [name, change.entitlement],
      );
      if (left.rows.length > 0) {
        const by = left.rows.map((r) => r.grantor ?? '?').join(', ');
        throw new TargetError(
          `revoke: "${name}" is still a member of ${change.entitlement}, granted by ${by}; grantops cannot revoke that grant`,
          this.config.name,
        );
      }
    } catch (err) {
      throw this.wrap('revoke', err);
    } finally {
      client.release();
    }
  }

  /**
   * What the connecting role lacks: CREATEROLE and pg_signal_backend (with manageLogin), ADMIN
   * OPTION on every dbRole (PostgreSQL 16 requires it to GRANT and REVOKE; 15 accepts CREATEROLE).
   */
  async check(): Promise<string[]> {
    let client: pg.PoolClient;
    try {
      client = await (await this.pool()).connect();
    } catch (err) {
      return [`cannot connect: ${errorMessage(err)}`];
    }
    try {
      return await missingPrivileges(client, this.config.manageLogin, this.scope);
    } catch (err) {
      return [`cannot read the connecting role's privileges: ${errorMessage(err)}`];
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    if (this.pooled) await (await this.pooled).end();
  }

  private pool(): Promise<pg.Pool> {
    this.pooled ??= import('pg').then(({ default: driver }) => {
      const pool = new driver.Pool({
        connectionString: this.url,
        max: 4,
        connectionTimeoutMillis: 10_000,
        application_name: 'grantops',
      });
      // An idle client's error (server restart) must not crash the process; the next query reports it.
      pool.on('error', () => undefined);
      return pool;
    });
    return this.pooled;
  }

  private modeFor(login: string, name: string, facts: RoleFacts | undefined): Mode {
    if (facts?.privileged)
      return { kind: 'refused', reason: `role "${name}" ${facts.privileged}; grantops never changes it` };
    const mapped = this.users.has(login.toLowerCase());
    const owner = this.loginOf.get(name);
    if (!mapped && owner !== undefined) {
      return {
        kind: 'refused',
        reason: `role "${name}" is the role the policy's users gives to ${owner}, not to ${login}`,
      };
    }
    if (!facts) return { kind: 'create' };
    if (facts.managed) return { kind: this.config.manageLogin ? 'login' : 'membership' };
    if (mapped) return { kind: 'membership' };
    return { kind: 'foreign', reason: foreignReason(name, login) };
  }

  private factsOf(client: pg.PoolClient, name: string): Promise<RoleFacts | undefined> {
    return readRoleFacts(client, name, this.scope);
  }

  private checkScope(dbRole: string): void {
    // Never touch a database role the policy does not list, whatever a caller asks.
    if (!this.scope.includes(dbRole))
      throw new TargetError(`database role ${dbRole} is not managed by this policy`, this.config.name);
  }

  private async connect(): Promise<pg.PoolClient> {
    try {
      return await (await this.pool()).connect();
    } catch (err) {
      throw this.wrap('connect', err);
    }
  }

  private async query<R extends pg.QueryResultRow>(
    sql: string,
    params: unknown[],
  ): Promise<pg.QueryResult<R>> {
    try {
      return await (await this.pool()).query<R>(sql, params);
    } catch (err) {
      throw this.wrap('observe', err);
    }
  }

  private wrap(what: string, err: unknown): TargetError {
    if (err instanceof TargetError) return err;
    return new TargetError(`${what}: ${errorMessage(err)}`, this.config.name);
  }
}
