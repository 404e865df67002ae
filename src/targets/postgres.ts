import pg from 'pg';
import { TargetError } from '../model/errors.js';
import type { Policy, PostgresTarget } from '../model/policy.js';
import type { Access, AccessChange, EntitlementModel, Target } from './target.js';

/**
 * Membership in database roles. A grantops role confers the `dbRoles` its policy lists; the
 * managed scope is the members of those roles. Identifiers are always quoted by the driver's
 * escapeIdentifier: a user name is data, never SQL. With `manageLogin`, grantops also owns the
 * user's login role and sets VALID UNTIL to the grant's expiresAt, so PostgreSQL itself refuses
 * logins on time even if no reaper runs.
 */
export class PostgresTargetAdapter implements Target {
  readonly model: EntitlementModel;
  readonly nativeExpiry: boolean;
  private readonly pool: pg.Pool;
  private readonly scope: string[];
  private readonly loginOf = new Map<string, string>();

  constructor(
    readonly config: PostgresTarget,
    policy: Policy,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    const url = env[config.urlEnv];
    if (!url) throw new TargetError(`environment variable ${config.urlEnv} (urlEnv) is not set`, config.name);
    this.pool = new pg.Pool({
      connectionString: url,
      max: 4,
      connectionTimeoutMillis: 10_000,
      application_name: 'grantops',
    });
    // An idle client's error (server restart) must not crash the process; the next query reports it.
    this.pool.on('error', () => undefined);
    this.model = { entitlements: (role) => policy.roles.get(role)?.dbRoles ?? [] };
    this.scope = [...new Set([...policy.roles.values()].flatMap((r) => r.dbRoles))].sort();
    this.nativeExpiry = config.manageLogin;
    for (const [login, dbName] of Object.entries(config.users)) this.loginOf.set(dbName, login);
  }

  /** The database role name for a GitHub login: the policy's `users` map, else the login lower-cased. */
  dbName(login: string): string {
    return this.config.users[login] ?? login.toLowerCase();
  }

  async observe(): Promise<Access[]> {
    const { rows } = await this.query<{ member: string; granted: string; validuntil: Date | string | null }>(
      `SELECT m.rolname AS member, r.rolname AS granted, m.rolvaliduntil AS validuntil
         FROM pg_auth_members am
         JOIN pg_roles r ON r.oid = am.roleid
         JOIN pg_roles m ON m.oid = am.member
        WHERE r.rolname = ANY($1::text[])
        ORDER BY 1, 2`,
      [this.scope],
    );
    return rows.map((r) => {
      const expires =
        r.validuntil instanceof Date && Number.isFinite(r.validuntil.getTime()) ? r.validuntil : undefined;
      return {
        user: this.loginOf.get(r.member) ?? r.member,
        entitlement: r.granted,
        ...(this.config.manageLogin && expires ? { expiresAt: expires } : {}),
      };
    });
  }

  async grant(change: AccessChange): Promise<void> {
    this.checkScope(change.entitlement);
    const client = await this.connect();
    try {
      const role = client.escapeIdentifier(this.dbName(change.user));
      if (this.config.manageLogin) {
        if (!change.expiresAt) throw new TargetError('a managed login needs an expiry', this.config.name);
        const until = client.escapeLiteral(change.expiresAt.toISOString());
        const exists = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [
          this.dbName(change.user),
        ]);
        if (exists.rowCount === 0) {
          try {
            await client.query(`CREATE ROLE ${role} LOGIN VALID UNTIL ${until}`);
          } catch (err) {
            // Another run created it between our check and our CREATE: fall through to ALTER.
            if ((err as { code?: string }).code !== '42710') throw err;
          }
        }
        await client.query(`ALTER ROLE ${role} LOGIN VALID UNTIL ${until}`);
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
      const exists = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [name]);
      if (exists.rowCount === 0) return; // nothing to revoke: idempotent
      const role = client.escapeIdentifier(name);
      await client.query(`REVOKE ${client.escapeIdentifier(change.entitlement)} FROM ${role}`);
      if (this.config.manageLogin) {
        const left = await client.query(
          `SELECT 1 FROM pg_auth_members am JOIN pg_roles r ON r.oid = am.roleid JOIN pg_roles m ON m.oid = am.member
            WHERE m.rolname = $1 AND r.rolname = ANY($2::text[])`,
          [name, this.scope],
        );
        if (left.rowCount === 0) {
          // Last grant gone: no new logins, and sessions already open are ended too.
          await client.query(`ALTER ROLE ${role} NOLOGIN VALID UNTIL '-infinity'`);
          await client
            .query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1', [name])
            // Needs pg_signal_backend; without it, VALID UNTIL and NOLOGIN still stop new sessions.
            .catch(() => undefined);
        }
      }
    } catch (err) {
      throw this.wrap('revoke', err);
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  private checkScope(dbRole: string): void {
    // Never touch a database role the policy does not list, whatever a caller asks.
    if (!this.scope.includes(dbRole))
      throw new TargetError(`database role ${dbRole} is not managed by this policy`, this.config.name);
  }

  private async connect(): Promise<pg.PoolClient> {
    try {
      return await this.pool.connect();
    } catch (err) {
      throw this.wrap('connect', err);
    }
  }

  private async query<R extends pg.QueryResultRow>(
    sql: string,
    params: unknown[],
  ): Promise<pg.QueryResult<R>> {
    try {
      return await this.pool.query<R>(sql, params);
    } catch (err) {
      throw this.wrap('observe', err);
    }
  }

  private wrap(what: string, err: unknown): TargetError {
    if (err instanceof TargetError) return err;
    const message = err instanceof Error ? err.message : String(err);
    return new TargetError(`${what}: ${message}`, this.config.name);
  }
}
