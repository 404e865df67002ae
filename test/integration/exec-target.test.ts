import { chmodSync, existsSync, readFileSync, realpathSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { ExecTarget, Policy } from '../../src/model/policy.js';
import { ExecTargetAdapter } from '../../src/targets/exec.js';
import { createTarget } from '../../src/targets/registry.js';
import { tempRepo, type TempRepo } from '../support/repo.js';

/** Real child processes speaking the exec protocol. */
let repo: TempRepo;
afterEach(() => repo.cleanup());

const config = (command: string[], timeoutMs = 5000, env: string[] = []): ExecTarget => ({
  name: 'vpn',
  type: 'exec',
  command,
  timeoutMs,
  concurrency: 1,
  env,
  enforce: false,
  enforceMaxFraction: 0.25,
  exempt: [],
});

// A protocol script that records every call, so tests see exactly what it received.
const SCRIPT = `#!/usr/bin/env node
const fs = require('node:fs');
const verb = process.argv[process.argv.length - 1];
const input = verb === 'list' ? '' : fs.readFileSync(0, 'utf8');
fs.appendFileSync('calls.log', JSON.stringify({ argv: process.argv.slice(2), input, cwd: process.cwd(), token: process.env.GITHUB_TOKEN ?? null }) + '\\n');
const state = fs.existsSync('state.json') ? JSON.parse(fs.readFileSync('state.json', 'utf8')) : [];
if (verb === 'list') { process.stdout.write(JSON.stringify(state)); process.exit(0); }
const req = JSON.parse(input);
if (req.user === 'fail') { process.stderr.write('directory says no'); process.exit(3); }
if (req.user === 'slow') { setTimeout(() => {}, 60000); return; }
const next = state.filter((e) => !(e.user === req.user && e.role === req.role));
if (verb === 'grant') next.push({ user: req.user, role: req.role });
fs.writeFileSync('state.json', JSON.stringify(next));
`;

function setup() {
  repo = tempRepo({ 'scripts/vpn.cjs': SCRIPT });
  chmodSync(`${repo.dir}/scripts/vpn.cjs`, 0o755);
  return new ExecTargetAdapter(config(['./scripts/vpn.cjs', '--profile', 'prod']), repo.dir, {
    PATH: process.env.PATH,
    GITHUB_TOKEN: 'secret',
  });
}
const calls = () =>
  readFileSync(`${repo.dir}/calls.log`, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { argv: string[]; input: string; cwd: string; token: string | null });

describe('exec target', () => {
  it('grants, lists and revokes through the protocol, with argv and the repo root as cwd', async () => {
    const t = setup();
    await t.grant({
      user: 'alice',
      entitlement: 'ops',
      grantIds: ['vpn/alice'],
      expiresAt: new Date('2026-11-28T18:00:00Z'),
    });
    expect(await t.observe()).toEqual([{ user: 'alice', entitlement: 'ops' }]);
    await t.revoke({ user: 'alice', entitlement: 'ops', grantIds: ['vpn/alice'] });
    expect(await t.observe()).toEqual([]);
    const [first] = calls();
    expect(first?.argv).toEqual(['--profile', 'prod', 'grant']);
    expect(JSON.parse(first?.input ?? '{}')).toEqual({
      id: 'vpn/alice',
      user: 'alice',
      target: 'vpn',
      role: 'ops',
      expiresAt: '2026-11-28T18:00:00Z',
    });
    expect(realpathSync(first?.cwd ?? '')).toBe(realpathSync(repo.dir));
  });

  it('passes hostile names as data, never through a shell', async () => {
    const t = setup();
    await t.grant({ user: 'x"; touch pwned; echo "', entitlement: '$(touch pwned2)', grantIds: [] });
    expect(existsSync(`${repo.dir}/pwned`)).toBe(false);
    expect(existsSync(`${repo.dir}/pwned2`)).toBe(false);
    expect(await t.observe()).toEqual([{ user: 'x"; touch pwned; echo "', entitlement: '$(touch pwned2)' }]);
  });

  it("reports a failure with the script's stderr", async () => {
    const t = setup();
    await expect(t.grant({ user: 'fail', entitlement: 'ops', grantIds: [] })).rejects.toThrow(
      'grant failed (exit 3): directory says no',
    );
  });

  it('kills a script that outlives its timeout', async () => {
    repo = tempRepo({ 'scripts/vpn.cjs': SCRIPT });
    chmodSync(`${repo.dir}/scripts/vpn.cjs`, 0o755);
    const t = new ExecTargetAdapter(config(['./scripts/vpn.cjs'], 300), repo.dir, { PATH: process.env.PATH });
    await expect(t.grant({ user: 'slow', entitlement: 'ops', grantIds: [] })).rejects.toThrow(
      'grant: timed out after 300ms; killed with its process group',
    );
  });

  it("keeps grantops' own token from the script by default", async () => {
    repo = tempRepo({ 'scripts/vpn.cjs': SCRIPT });
    chmodSync(`${repo.dir}/scripts/vpn.cjs`, 0o755);
    const saved = process.env.GITHUB_TOKEN;
    process.env.GITHUB_TOKEN = 'secret';
    try {
      await new ExecTargetAdapter(config(['./scripts/vpn.cjs']), repo.dir).observe();
    } finally {
      if (saved === undefined) delete process.env.GITHUB_TOKEN;
      else process.env.GITHUB_TOKEN = saved;
    }
    expect(calls()[0]?.token).toBeNull();
  });

  it('refuses a command that resolves outside the repository', async () => {
    repo = tempRepo({ 'scripts/link': { symlink: '/bin/true' } });
    const t = new ExecTargetAdapter(config(['./scripts/link']), repo.dir, { PATH: process.env.PATH });
    await expect(t.observe()).rejects.toThrow('resolves outside the repository');
  });

  it('rejects list output that is not the protocol', async () => {
    repo = tempRepo({ 'scripts/bad.sh': '#!/bin/sh\necho "[{\\"user\\": 1}]"\n' });
    chmodSync(`${repo.dir}/scripts/bad.sh`, 0o755);
    const t = new ExecTargetAdapter(config(['./scripts/bad.sh']), repo.dir, { PATH: process.env.PATH });
    await expect(t.observe()).rejects.toThrow('"list" item 0 must be {"user": string, "role": string}');
  });
});

describe('exec target concurrency', () => {
  it('calls a script one at a time by default, so read-modify-write scripts stay correct', async () => {
    const t = setup();
    await Promise.all(
      ['a', 'b', 'c', 'd', 'e', 'f'].map((user) => t.grant({ user, entitlement: 'ops', grantIds: [] })),
    );
    expect((await t.observe()).map((a) => a.user).sort()).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
  });
});

// Whether a process still runs: a zombie (dead, not yet reaped by whoever inherited it) does not.
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
async function waitUntil(done: () => boolean, ms = 5000): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 50)))
    if (done()) return true;
  return done();
}

describe('exec target timeout', () => {
  // The script starts a child that would outlive it, records the child's pid, and hangs.
  const hanging = (trap: string) => `#!/bin/sh
${trap}
sleep 30 &
echo $! > child.pid
wait
`;

  it.each([
    ['a script and its children', ''],
    ['a script and children that ignore SIGTERM', "trap '' TERM"],
  ])(
    'kills %s: the whole process group, and the call fails',
    async (_what, trap) => {
      repo = tempRepo({ 'scripts/hang.sh': hanging(trap) });
      chmodSync(`${repo.dir}/scripts/hang.sh`, 0o755);
      const t = new ExecTargetAdapter(config(['./scripts/hang.sh'], 2000), repo.dir, {
        PATH: process.env.PATH,
      });
      await expect(t.observe()).rejects.toThrow('list: timed out after 2s');
      const child = Number(readFileSync(`${repo.dir}/child.pid`, 'utf8'));
      expect(child).toBeGreaterThan(0);
      expect(await waitUntil(() => !running(child))).toBe(true);
    },
    20_000,
  );
});

describe('exec target environment', () => {
  // Prints the names and values of the variables it was given, as JSON, to env.json.
  const DUMP = `#!/usr/bin/env node
require('node:fs').writeFileSync('env.json', JSON.stringify(process.env));
process.stdout.write('[]');
`;
  const runner = {
    PATH: process.env.PATH,
    HOME: '/home/runner',
    LANG: 'C.UTF-8',
    LC_ALL: 'C.UTF-8',
    TZ: 'UTC',
    TMPDIR: '/tmp',
    GITHUB_TOKEN: 'ghs_secret',
    GRANTOPS_ADMIN_TOKEN: 'ghs_admin',
    INPUT_TOKEN: 'ghs_input',
    'INPUT_ADMIN-TOKEN': 'ghs_input_admin',
    ACTIONS_RUNTIME_TOKEN: 'runtime',
    PROD_DB_URL: 'postgres://grantops:pw@db/prod',
    VPN_API_KEY: 'vpn-key',
    UNRELATED: 'x',
  };
  const seen = () => JSON.parse(readFileSync(`${repo.dir}/env.json`, 'utf8')) as Record<string, string>;
  // Node itself may add a variable or two to a child's environment; none of the runner's others.
  const names = (env: Record<string, string>) =>
    Object.keys(env)
      .filter((k) => k in runner)
      .sort();
  const ALLOWED = ['HOME', 'LANG', 'LC_ALL', 'PATH', 'TMPDIR', 'TZ', 'VPN_API_KEY'];

  function setupDump() {
    repo = tempRepo({ 'scripts/dump.cjs': DUMP });
    chmodSync(`${repo.dir}/scripts/dump.cjs`, 0o755);
  }

  it('gives a script only PATH, HOME, LANG, LC_*, TZ, TMPDIR and the variables the policy names', async () => {
    setupDump();
    await new ExecTargetAdapter(
      config(['./scripts/dump.cjs'], 5000, ['VPN_API_KEY']),
      repo.dir,
      runner,
    ).observe();
    const env = seen();
    expect(names(env)).toEqual(ALLOWED);
    expect(env.VPN_API_KEY).toBe('vpn-key');
    for (const secret of ['GITHUB_TOKEN', 'GRANTOPS_ADMIN_TOKEN', 'INPUT_TOKEN', 'PROD_DB_URL'])
      expect(env[secret]).toBeUndefined();
  });

  it('is the same whether the CLI (its environment passed) or the Action (process.env) builds the target', async () => {
    setupDump();
    const policy: Policy = {
      file: 'policies/vpn.yaml',
      target: config(['./scripts/dump.cjs'], 5000, ['VPN_API_KEY']),
      roles: new Map(),
      alertsBeforeMs: [],
    };
    await createTarget(policy, { repoRoot: repo.dir, env: runner }).observe();
    const fromCli = names(seen());
    const saved = { ...process.env };
    Object.assign(process.env, runner);
    try {
      await createTarget(policy, { repoRoot: repo.dir }).observe();
    } finally {
      for (const k of Object.keys(runner)) {
        if (saved[k] === undefined) delete process.env[k];
        else process.env[k] = saved[k];
      }
    }
    expect(fromCli).toEqual(ALLOWED);
    expect(names(seen())).toEqual(ALLOWED);
  });
});

describe('exec target check', () => {
  it('finds nothing missing for a working script', async () => {
    const t = setup();
    expect(await t.check()).toEqual([]);
  });

  it('names a missing script, one that is not executable, and a list that fails', async () => {
    repo = tempRepo({
      'scripts/plain.sh': '#!/bin/sh\necho []\n',
      'scripts/broken.sh': '#!/bin/sh\necho "no VPN_API_KEY" >&2\nexit 2\n',
    });
    chmodSync(`${repo.dir}/scripts/broken.sh`, 0o755);
    const check = (program: string) =>
      new ExecTargetAdapter(config([program]), repo.dir, { PATH: process.env.PATH }).check();
    expect(await check('./scripts/missing.sh')).toEqual(['exec command ./scripts/missing.sh does not exist']);
    expect(await check('./scripts/plain.sh')).toEqual([
      'exec command ./scripts/plain.sh is not executable (chmod +x ./scripts/plain.sh, and commit the mode)',
    ]);
    expect(await check('./scripts/broken.sh')).toEqual(['list failed (exit 2): no VPN_API_KEY']);
  });
});
