import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppConfig } from '../../src/app/config.js';
import { compose, type Wiring } from '../../src/app/wiring.js';
import { readInputs } from '../../src/action/inputs.js';
import { runAction } from '../../src/action/main.js';
import { runCli } from '../../src/cli/program.js';
import { tempRepo, type TempRepo } from '../support/repo.js';

/**
 * One composition root: the CLI and the Action hand `compose` the same configuration for the same
 * facts (flags and environment on one side, inputs and environment on the other), and so get the same
 * adapters. Each edge is run for real up to the root, which records what it was given and stops.
 */
let repo: TempRepo;
const NOW = '2026-11-28T12:00:00Z';
const { privateKey } = generateKeyPairSync('ed25519');
const ENV = {
  PATH: process.env.PATH,
  GITHUB_REPOSITORY: 'acme/access',
  GITHUB_API_URL: 'http://127.0.0.1:9/api',
  GRANTOPS_EVIDENCE_KEY: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  GRANTOPS_WEBHOOK_URL: 'http://127.0.0.1:9/hook',
  DB_URL: 'postgres://grantops@127.0.0.1:9/app',
};

class Stop extends Error {}

/** A composition root that records the configuration and stops the command there. */
function recordingRoot(seen: AppConfig[]): typeof compose {
  return (config) => {
    seen.push(config);
    return Promise.reject(new Stop('recorded'));
  };
}

async function viaCli(argv: string[], env: Record<string, string | undefined>): Promise<AppConfig> {
  const seen: AppConfig[] = [];
  let stderr = '';
  const code = await runCli(
    argv,
    {
      stdout: () => undefined,
      stderr: (s) => (stderr += s),
      color: { stdout: false, stderr: false },
      env,
      cwd: repo.dir,
    },
    recordingRoot(seen),
  );
  expect(code, stderr).toBe(1);
  expect(stderr).toContain('recorded');
  expect(seen).toHaveLength(1);
  return seen[0]!;
}

async function viaAction(
  inputs: Record<string, string>,
  env: Record<string, string | undefined>,
): Promise<AppConfig> {
  const seen: AppConfig[] = [];
  const saved = { ...process.env };
  // core.getInput reads INPUT_<NAME> from the process environment, as on a runner.
  for (const [k, v] of Object.entries(inputs)) process.env[`INPUT_${k.toUpperCase()}`] = v;
  process.env.GITHUB_REPOSITORY = env.GITHUB_REPOSITORY;
  process.env.GITHUB_API_URL = env.GITHUB_API_URL;
  try {
    await expect(runAction(readInputs(), env, recordingRoot(seen))).rejects.toBeInstanceOf(Stop);
  } finally {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  }
  expect(seen).toHaveLength(1);
  return seen[0]!;
}

beforeAll(() => {
  repo = tempRepo(
    {
      'policies/db.yaml': `target: { name: db, type: postgres, urlEnv: DB_URL }
roles:
  readonly: { maxDuration: 8h, approvals: 0, dbRoles: [app_read] }
`,
      'grants/.gitkeep': '',
    },
    { git: true },
  );
});
afterAll(() => repo.cleanup());

describe('the composition root', () => {
  const cases: { command: string; cli: string[]; action: Record<string, string> }[] = [
    {
      command: 'apply',
      cli: ['apply', '--concurrency', '8'],
      action: { command: 'apply', concurrency: '8' },
    },
    { command: 'reap', cli: ['reap'], action: { command: 'reap' } },
    { command: 'validate', cli: ['validate'], action: { command: 'validate' } },
    { command: 'audit', cli: ['audit'], action: { command: 'audit' } },
    { command: 'status', cli: ['status'], action: { command: 'status' } },
  ];
  for (const c of cases) {
    it(`${c.command}: the CLI and the Action build the same dependencies from the same facts`, async () => {
      // The same machine: the CLI reads the tokens from these variables, the Action from its inputs.
      const env = { ...ENV, GITHUB_TOKEN: 'repo-token', GRANTOPS_ADMIN_TOKEN: 'admin-token' };
      const fromCli = await viaCli(['--repo', repo.dir, '--now', NOW, ...c.cli], env);
      const fromAction = await viaAction(
        { ...c.action, token: 'repo-token', 'admin-token': 'admin-token', path: repo.dir, now: NOW },
        env,
      );
      expect(fromAction).toEqual(fromCli);
      expect(fromCli.github).toEqual({
        apiUrl: ENV.GITHUB_API_URL,
        owner: 'acme',
        repo: 'access',
        token: 'repo-token',
        adminToken: 'admin-token',
      });
      expect(fromCli.now.toISOString()).toBe('2026-11-28T12:00:00.000Z');

      const [a, b] = await Promise.all([compose(fromCli), compose(fromAction)]);
      expect(b.describe()).toEqual(a.describe());
      expect(a.describe()).toMatchObject({
        git: true,
        github: { slug: 'acme/access', accessRepo: 'token', targets: 'admin-token' },
        evidence: { signs: true, verifiesWith: 'configured key' },
        webhook: true,
      });
      // The same target adapters: the exec/postgres environment comes from the configuration alone.
      expect(await targetKinds(a)).toEqual(await targetKinds(b));
    });
  }

  it('offline (no token): no GitHub at all, and the evidence key committed on main judges notes', async () => {
    const config = await viaCli(['--repo', repo.dir, '--now', NOW, 'apply'], { PATH: process.env.PATH });
    expect(config.github).toBeUndefined();
    const w = await compose(config);
    expect(w.describe()).toMatchObject({
      github: 'offline',
      evidence: { signs: false, verifiesWith: 'key committed on main' },
    });
    expect(await w.accessRepo()).toBeUndefined();
  });

  it('a directory outside git: commands that need history say which path they could not use', async () => {
    const plain = tempRepo({ 'policies/.keep': '' });
    try {
      const w = await compose({
        repo: plain.dir,
        now: new Date(NOW),
        concurrency: 1,
        env: {},
        evidence: {},
      });
      expect(w.git).toBeUndefined();
      expect(() => w.requireGit()).toThrow(`${plain.dir} is not inside a git repository`);
    } finally {
      plain.cleanup();
    }
  });
});

async function targetKinds(w: Wiring): Promise<string[]> {
  const create = await w.targets();
  const { loadPolicies } = await import('../../src/policy/load.js');
  const loaded = await loadPolicies(w.work, w.registry);
  return [...loaded.byTarget.values()].map((p) => {
    const t = create(p.policy);
    return `${p.policy.target.name}:${t.constructor.name}`;
  });
}
