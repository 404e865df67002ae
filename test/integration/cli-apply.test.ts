import pg from 'pg';
import { chmodSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { aGrant } from '../support/builders.js';
import { FakeGitHub } from '../support/github-server.js';
import { mergePullRequest } from '../support/merge.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import { tempRepo, type TempRepo } from '../support/repo.js';

/** `grantops apply` on a real repo, against a real PostgreSQL, the local GitHub server and an exec script. */
let gh: FakeGitHub;
let db: TestPostgres;
let admin: pg.Client;
let repo: TempRepo;

const POLICIES = {
  'policies/team.yaml': `target: { name: oncall, type: github-team, org: acme, team: oncall, enforce: true, exempt: [breakglass] }
roles:
  member: { maxDuration: 1d, approvals: 1, approvers: [bob] }
`,
  'policies/db.yaml': `target: { name: prod-db, type: postgres, urlEnv: DB_URL, manageLogin: true }
roles:
  readonly: { maxDuration: 8h, approvals: 1, approvers: [bob], dbRoles: [app_read] }
`,
};

beforeAll(async () => {
  gh = await FakeGitHub.start({ token: 'tok' });
  db = await startPostgres();
  admin = new pg.Client({ connectionString: db.url });
  await admin.connect();
  await admin.query('CREATE ROLE app_read NOLOGIN');
  repo = tempRepo(POLICIES, { git: true });
  mergePullRequest(repo, gh, {
    number: 1,
    author: 'carol',
    files: {
      'grants/alice-team.yaml': aGrant()
        .for('alice')
        .on('oncall', 'member')
        .without('ticket')
        .expiresAt('2026-11-28T20:00:00Z')
        .yaml(),
      'grants/alice-db.yaml': aGrant()
        .for('alice')
        .on('prod-db', 'readonly')
        .expiresAt('2026-11-28T18:00:00Z')
        .yaml(),
    },
    reviews: [{ user: 'bob' }],
  });
  chmodSync(repo.dir, 0o755);
}, 60_000);
afterAll(async () => {
  await admin?.end();
  db?.stop();
  await gh?.stop();
  repo?.cleanup();
});

async function apply(now: string, ...args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(['apply', '--now', now, ...args], {
    stdout: (s) => (stdout += s),
    stderr: (s) => (stderr += s),
    color: { stdout: false, stderr: false },
    env: { GITHUB_TOKEN: 'tok', GITHUB_REPOSITORY: 'acme/access', GITHUB_API_URL: gh.url, DB_URL: db.url },
    cwd: repo.dir,
  });
  return { code, stdout, stderr };
}
const members = async () =>
  (
    await admin.query<{ member: string; validuntil: Date | null; canlogin: boolean }>(
      `SELECT m.rolname AS member, m.rolvaliduntil AS validuntil, m.rolcanlogin AS canlogin FROM pg_auth_members am
         JOIN pg_roles r ON r.oid = am.roleid JOIN pg_roles m ON m.oid = am.member WHERE r.rolname = 'app_read'`,
    )
  ).rows;

describe('grantops apply', () => {
  it('--dry-run prints the plan and changes nothing', async () => {
    for (const u of ['breakglass', 'm1', 'm2', 'm3', 'm4'])
      gh.team('acme/oncall').set(u, { login: u, role: 'member' });
    const r = await apply('2026-11-28T12:00:00Z', '--dry-run', '--json');
    const doc = JSON.parse(r.stdout) as {
      actions: { kind: string; target: string; user: string; result: string }[];
      guards: unknown[];
      drift: unknown[];
      concurrency: Record<string, number>;
    };
    // What each target got: the run's default (no policy here sets its own).
    expect(doc.concurrency).toEqual({ oncall: 16, 'prod-db': 16 });
    expect(doc.actions.map((a) => `${a.kind} ${a.target} ${a.user} ${a.result}`)).toEqual([
      'grant oncall alice planned',
      'grant prod-db alice planned',
    ]);
    expect(doc.guards).toEqual([{ target: 'oncall', wouldRevoke: 4, scope: 4, maxFraction: 0.25 }]);
    expect(doc.drift).toHaveLength(4); // breakglass is exempt: neither touched nor reported
    expect(r.code).toBe(1); // the guard held enforcement back: someone must look
    expect(gh.team('acme/oncall').has('alice')).toBe(false);
    expect(await members()).toEqual([]);
  });

  it('applies approved grants, with VALID UNTIL on the managed login; holds mass enforcement back', async () => {
    const r = await apply('2026-11-28T12:00:00Z');
    expect(r.stderr).toContain('guard: oncall: would revoke 4 of 4 users (max 25%)');
    expect(r.code).toBe(1);
    expect(gh.team('acme/oncall').get('alice')?.role).toBe('member');
    expect(await members()).toEqual([
      { member: 'alice', validuntil: new Date('2026-11-28T18:00:00Z'), canlogin: true },
    ]);
    expect(['m1', 'm2', 'm3', 'm4'].every((u) => gh.team('acme/oncall').has(u))).toBe(true);
  });

  it('--override-guard lets enforcement remove what no grant explains, never the exempt', async () => {
    const r = await apply('2026-11-28T12:00:00Z', '--override-guard');
    expect(r.code).toBe(0);
    expect([...gh.team('acme/oncall').keys()].sort()).toEqual(['alice', 'breakglass']);
  });

  it('revokes at expiry: database membership gone and the login disabled', async () => {
    const r = await apply('2026-11-28T18:00:00Z');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/revoke\s+prod-db\s+alice\s+app_read\s+expired/);
    expect(await members()).toEqual([]);
    const login = await admin.query<{ rolcanlogin: boolean }>(
      `SELECT rolcanlogin FROM pg_roles WHERE rolname = 'alice'`,
    );
    expect(login.rows[0]?.rolcanlogin).toBe(false);
    expect(gh.team('acme/oncall').has('alice')).toBe(true); // its grant runs until 20:00
  });

  it('reports an unreachable target and exits 1 without touching the others', async () => {
    let stdout = '';
    let stderr = '';
    const code = await runCli(['apply', '--now', '2026-11-28T19:00:00Z'], {
      stdout: (s) => (stdout += s),
      stderr: (s) => (stderr += s),
      color: { stdout: false, stderr: false },
      env: { GITHUB_TOKEN: 'tok', GITHUB_REPOSITORY: 'acme/access', GITHUB_API_URL: gh.url },
      cwd: repo.dir,
    });
    expect(code).toBe(1);
    expect(stderr).toContain('unreachable: prod-db: environment variable DB_URL (urlEnv) is not set');
    expect(stdout).toContain('nothing to do');
    expect(gh.violations).toEqual([]);
  });
});
