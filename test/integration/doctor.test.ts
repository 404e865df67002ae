import pg from 'pg';
import { chmodSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { FakeGitHub } from '../support/github-server.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import { tempRepo, type TempRepo } from '../support/repo.js';

/** `grantops doctor`: every target says what grantops lacks, against a real PostgreSQL and the local GitHub. */
let gh: FakeGitHub;
let db: TestPostgres;
let admin: pg.Client;
let repo: TempRepo;

const POLICIES = {
  'policies/db.yaml': `target: { name: db, type: postgres, urlEnv: DB_URL, manageLogin: true }
roles:
  readonly: { maxDuration: 8h, approvals: 0, dbRoles: [app_read] }
`,
  'policies/other-db.yaml': `target: { name: other-db, type: postgres, urlEnv: OTHER_DB_URL }
roles:
  readonly: { maxDuration: 8h, approvals: 0, dbRoles: [app_read] }
`,
  'policies/team.yaml': `target: { name: oncall, type: github-team, org: acme, team: oncall }
roles:
  member: { maxDuration: 1d, approvals: 0 }
`,
  'policies/repo.yaml': `target: { name: payments, type: github-repo, repo: acme/payments }
roles:
  pull: { maxDuration: 1d, approvals: 0 }
`,
  'policies/vpn.yaml': `target: { name: vpn, type: exec, command: [./scripts/vpn.sh] }
roles:
  ops: { maxDuration: 1d, approvals: 0 }
`,
  'policies/wifi.yaml': `target: { name: wifi, type: exec, command: [./scripts/wifi.sh] }
roles:
  ops: { maxDuration: 1d, approvals: 0 }
`,
  'scripts/vpn.sh': '#!/bin/sh\necho "[]"\n',
};

beforeAll(async () => {
  gh = await FakeGitHub.start({ token: 'tok' });
  db = await startPostgres();
  admin = new pg.Client({ connectionString: db.url });
  await admin.connect();
  await admin.query(`CREATE ROLE app_read NOLOGIN; CREATE ROLE weak LOGIN PASSWORD 'pw'`);
  repo = tempRepo(POLICIES, { git: true });
  chmodSync(`${repo.dir}/scripts/vpn.sh`, 0o755);
}, 60_000);
afterAll(async () => {
  await admin?.end();
  db?.stop();
  await gh?.stop();
  repo?.cleanup();
});

async function doctor(env: Record<string, string>, ...args: string[]) {
  return doctorIn(repo.dir, env, ...args);
}

async function doctorIn(cwd: string, env: Record<string, string>, ...args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(['doctor', ...args], {
    stdout: (s) => (stdout += s),
    stderr: (s) => (stderr += s),
    color: { stdout: false, stderr: false },
    env: {
      PATH: process.env.PATH,
      GITHUB_TOKEN: 'tok',
      GITHUB_REPOSITORY: 'acme/access',
      GITHUB_API_URL: gh.url,
      DB_URL: db.urlFor('weak', 'pw'),
      ...env,
    },
    cwd,
  });
  return { code, stdout, stderr };
}

describe('grantops doctor', () => {
  it('prints one line per problem, by target, and exits 1', async () => {
    gh.failNext({
      operationId: 'repos/list-invitations',
      status: 403,
      body: { message: 'Must have admin rights to Repository.' },
      times: 1,
    });
    const r = await doctor({});
    expect(r.stdout.trim().split('\n')).toEqual([
      'db: the connecting role "weak" lacks CREATEROLE (manageLogin creates and disables login roles)',
      'db: the connecting role "weak" lacks ADMIN OPTION on database role app_read (GRANT app_read TO weak WITH ADMIN OPTION)',
      'db: the connecting role "weak" is not a member of pg_signal_backend (it ends the open sessions of revoked logins)',
      'other-db: environment variable OTHER_DB_URL (urlEnv) is not set',
      'payments: the token cannot read the invitations of acme/payments (HTTP 403): Must have admin rights to Repository.',
      'wifi: exec command ./scripts/wifi.sh does not exist',
    ]);
    expect(r.stderr).toContain('6 problem(s): 0 in the environment, 6 on 6 target(s)');
    expect(r.code).toBe(1);
    expect(gh.violations).toEqual([]);
  });

  it('exits 0 with nothing to say once the privileges and the script are in place', async () => {
    await admin.query(`ALTER ROLE weak CREATEROLE; GRANT app_read TO weak WITH ADMIN OPTION;
      GRANT pg_signal_backend TO weak`);
    repo.write({ 'scripts/wifi.sh': '#!/bin/sh\necho "[]"\n' });
    chmodSync(`${repo.dir}/scripts/wifi.sh`, 0o755);
    const r = await doctor({ OTHER_DB_URL: db.urlFor('weak', 'pw') }, '--json');
    expect(JSON.parse(r.stdout)).toEqual({
      ok: true,
      targets: ['db', 'oncall', 'other-db', 'payments', 'vpn', 'wifi'],
      problems: [],
      environment: [],
    });
    expect(r.code).toBe(0);
  });

  it('says what the environment lacks: a git history, a token for approvals, the evidence key', async () => {
    const plain = tempRepo({
      'policies/vpn.yaml': `target: { name: vpn, type: exec, command: [./scripts/vpn.sh] }
roles:
  ops: { maxDuration: 1d, approvals: 1, approvers: [bob] }
`,
      'scripts/vpn.sh': '#!/bin/sh\necho "[]"\n',
      '.grantops/evidence-key.pub': 'not read by doctor\n',
    });
    chmodSync(`${plain.dir}/scripts/vpn.sh`, 0o755);
    try {
      const r = await doctorIn(plain.dir, { GITHUB_TOKEN: '' });
      expect(r.stdout.trim().split('\n')).toEqual([
        `git: ${plain.dir} is not a git repository (or git is not installed): apply, reap and audit read its history`,
        'github: no GITHUB_TOKEN: approvals cannot be read from GitHub, so every grant that needs one is refused',
        'evidence: .grantops/evidence-key.pub is committed but GRANTOPS_EVIDENCE_KEY is not set: evidence apply records would not verify',
      ]);
      expect(r.stderr).toContain('3 problem(s): 3 in the environment, 0 on 1 target(s)');
      expect(r.code).toBe(1);
    } finally {
      plain.cleanup();
    }
  });
});
