import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { aGrant } from '../support/builders.js';
import { DIST_CLI } from '../support/cli.js';
import { run } from '../support/process.js';
import { tempRepo, type TempRepo } from '../support/repo.js';

/**
 * Scale-out (issue 15): one shard per target revokes on its own runner, at the same time as the
 * others, and commits nothing; one last job merges every shard's cleanup into a single commit.
 * Real processes, one bare remote, a call log per target.
 */
// Each target's script keeps its state in a file of its own and logs every change call.
const VPN = `#!/usr/bin/env node
const fs = require('node:fs');
const [name, verb] = process.argv.slice(2);
const dir = process.env.SHARD_STATE_DIR;
const file = dir + '/' + name + '.json';
const state = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : [];
if (verb === 'list') { process.stdout.write(JSON.stringify(state)); process.exit(0); }
const req = JSON.parse(fs.readFileSync(0, 'utf8'));
fs.appendFileSync(dir + '/' + name + '.log', verb + ' ' + req.user + '\\n');
const next = state.filter((e) => !(e.user === req.user && e.role === req.role));
if (verb === 'grant') next.push({ user: req.user, role: req.role });
fs.writeFileSync(file, JSON.stringify(next));
`;
const policy = (
  name: string,
) => `target: { name: ${name}, type: exec, command: [./scripts/vpn.cjs, ${name}], env: [SHARD_STATE_DIR] }
roles:
  ops: { maxDuration: 12h, approvals: 0 }
`;
const NOW = '2026-11-28T12:00:00Z';

let scratch: string;
let seed: TempRepo;
afterEach(() => {
  seed?.cleanup();
  rmSync(scratch, { recursive: true, force: true });
});

const grantops = (cwd: string, args: string[]) =>
  run(process.execPath, [DIST_CLI, '--now', NOW, ...args], {
    cwd,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      SHARD_STATE_DIR: scratch,
      GIT_AUTHOR_NAME: 't',
      GIT_AUTHOR_EMAIL: 't@t',
      GIT_COMMITTER_NAME: 't',
      GIT_COMMITTER_EMAIL: 't@t',
    },
  });

describe('a sharded reap', () => {
  it('two shards at once on one remote: each grant revoked once, one cleanup commit', async () => {
    scratch = mkdtempSync(join(tmpdir(), 'grantops-shards-'));
    const origin = join(scratch, 'origin.git');
    const grants: Record<string, string> = {};
    const holders: Record<string, { user: string; role: string }[]> = { east: [], west: [] };
    for (const [target, users] of [
      ['east', ['ann', 'ben', 'cat']],
      ['west', ['dan', 'eve']],
    ] as const) {
      for (const user of users) {
        grants[`grants/${target}/${user}.yaml`] = aGrant()
          .for(user)
          .on(target, 'ops')
          .without('ticket')
          .expiresAt('2026-11-28T11:00:00Z')
          .yaml();
        holders[target]!.push({ user, role: 'ops' });
      }
    }
    // One live grant per target stays.
    grants['grants/east/zoe.yaml'] = aGrant()
      .for('zoe')
      .on('east', 'ops')
      .without('ticket')
      .expiresAt('2026-11-28T20:00:00Z')
      .yaml();
    seed = tempRepo({
      'policies/east.yaml': policy('east'),
      'policies/west.yaml': policy('west'),
      'scripts/vpn.cjs': VPN,
    });
    chmodSync(join(seed.dir, 'scripts/vpn.cjs'), 0o755);
    seed.git('init', '-q', '-b', 'main');
    seed.commit('access repo');
    seed.write(grants);
    seed.commit('grants');
    seed.git('init', '-q', '--bare', '-b', 'main', origin);
    seed.git('push', '-q', origin, 'main');
    for (const t of ['east', 'west']) writeFileSync(join(scratch, `${t}.json`), JSON.stringify(holders[t]));
    const tip = seed.git('--git-dir', origin, 'rev-parse', 'main');
    const clone = (name: string) => {
      const dir = join(scratch, name);
      seed.git('clone', '-q', origin, dir);
      return dir;
    };
    const [east, west, merger] = [clone('east'), clone('west'), clone('merge')];

    // The matrix: both shards at the same time, each on its own checkout.
    const [a, b] = await Promise.all([
      grantops(east, ['reap', '--target', 'east', '--shard-out', join(scratch, 'east-shard.json')]),
      grantops(west, ['reap', '--target', 'west', '--shard-out', join(scratch, 'west-shard.json')]),
    ]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    expect(seed.git('--git-dir', origin, 'rev-parse', 'main')).toBe(tip); // shards commit nothing
    expect(seed.git('-C', east, 'rev-parse', 'HEAD')).toBe(tip);
    const shard = JSON.parse(readFileSync(join(scratch, 'east-shard.json'), 'utf8')) as {
      targets: string[];
      revoked: { id: string }[];
    };
    expect(shard.targets).toEqual(['east']);
    expect(shard.revoked.map((r) => r.id).sort()).toEqual(['east/ann', 'east/ben', 'east/cat']);

    // The last job: nothing revoked, one commit for everything the shards revoked.
    const m = await grantops(merger, [
      'reap',
      '--merge-shards',
      join(scratch, 'east-shard.json'),
      join(scratch, 'west-shard.json'),
      '--push',
    ]);
    expect(m.code, m.stderr).toBe(0);
    const log = seed
      .git('--git-dir', origin, 'log', '--format=%s%n%b%x00', `${tip}..main`)
      .split('\0')
      .map((x) => x.trim())
      .filter(Boolean);
    expect(log).toHaveLength(1);
    expect([...log[0]!.matchAll(/^Revoked-Grant: (.+)$/gm)].map((x) => x[1]).sort()).toEqual([
      'east/ann',
      'east/ben',
      'east/cat',
      'west/dan',
      'west/eve',
    ]);
    expect(seed.git('--git-dir', origin, 'ls-tree', '-r', '--name-only', 'main', 'grants')).toBe(
      'grants/east/zoe.yaml',
    );
    // Each expired grant was revoked exactly once, by its own shard; the merge called no target.
    const calls = (t: string) =>
      readFileSync(join(scratch, `${t}.log`), 'utf8')
        .trim()
        .split('\n')
        .sort();
    expect(calls('east')).toEqual(['revoke ann', 'revoke ben', 'revoke cat']);
    expect(calls('west')).toEqual(['revoke dan', 'revoke eve']);
    expect(JSON.parse(readFileSync(join(scratch, 'east.json'), 'utf8'))).toEqual([]);
  }, 120_000);

  it('refuses shards that overlap, or a file that is not a shard (exit 2)', async () => {
    scratch = mkdtempSync(join(tmpdir(), 'grantops-shards-'));
    seed = tempRepo({ 'policies/east.yaml': policy('east') }, { git: true });
    const shard = {
      grantops: 'reap-shard',
      version: 1,
      now: NOW,
      targets: ['east'],
      revoked: [],
      failed: [],
      blocked: [],
    };
    writeFileSync(join(scratch, 'a.json'), JSON.stringify(shard));
    writeFileSync(join(scratch, 'b.json'), JSON.stringify(shard));
    writeFileSync(
      join(scratch, 'c.json'),
      JSON.stringify({
        ...shard,
        revoked: [{ id: 'x', file: '../../etc/passwd', blob: 'a'.repeat(40), lagMs: 0 }],
      }),
    );
    const overlap = await grantops(seed.dir, [
      'reap',
      '--merge-shards',
      join(scratch, 'a.json'),
      join(scratch, 'b.json'),
    ]);
    expect(overlap.code).toBe(2);
    expect(overlap.stderr).toContain('target east is in two shards');
    const hostile = await grantops(seed.dir, ['reap', '--merge-shards', join(scratch, 'c.json')]);
    expect(hostile.code).toBe(2);
    expect(hostile.stderr).toContain('is not a reap shard');
    const both = await grantops(seed.dir, ['reap', '--shard-out', 'x.json', '--merge-shards', 'a.json']);
    expect(both.code).toBe(2);
  });

  it("keeps a file another shard failed to revoke for, or that its shard's targets do not cover", async () => {
    scratch = mkdtempSync(join(tmpdir(), 'grantops-shards-'));
    seed = tempRepo(
      { 'policies/east.yaml': policy('east'), 'policies/west.yaml': policy('west') },
      { git: true },
    );
    seed.write({
      'grants/east/ann.yaml': aGrant()
        .for('ann')
        .on('east', 'ops')
        .without('ticket')
        .expiresAt('2026-11-28T11:00:00Z')
        .yaml(),
      'grants/west/dan.yaml': aGrant()
        .for('dan')
        .on('west', 'ops')
        .without('ticket')
        .expiresAt('2026-11-28T11:00:00Z')
        .yaml(),
    });
    seed.commit('grants');
    const blob = (f: string) => seed.git('rev-parse', `HEAD:${f}`);
    const entry = (id: string) => ({
      id,
      file: `grants/${id}.yaml`,
      blob: blob(`grants/${id}.yaml`),
      lagMs: 3_600_000,
    });
    const base = { grantops: 'reap-shard', version: 1, now: NOW, failed: [] };
    // East revoked ann; west's shard failed a revoke that ann's earlier version (on west) needed.
    writeFileSync(
      join(scratch, 'east.json'),
      JSON.stringify({ ...base, targets: ['east'], revoked: [entry('east/ann')], blocked: [] }),
    );
    // A shard for west that claims a grant of east.
    writeFileSync(
      join(scratch, 'west.json'),
      JSON.stringify({ ...base, targets: ['west'], revoked: [entry('west/dan')], blocked: ['east/ann'] }),
    );
    const r = await grantops(seed.dir, [
      'reap',
      '--merge-shards',
      join(scratch, 'east.json'),
      join(scratch, 'west.json'),
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('east/ann: a revoke for it failed or was held in the shard');
    expect(seed.git('ls-tree', '-r', '--name-only', 'HEAD', 'grants')).toBe('grants/east/ann.yaml');
    expect(seed.git('log', '-1', '--format=%B')).toContain('Revoked-Grant: west/dan');

    writeFileSync(
      join(scratch, 'wrong.json'),
      JSON.stringify({ ...base, targets: ['west'], revoked: [entry('east/ann')], blocked: [] }),
    );
    const wrong = await grantops(seed.dir, ['reap', '--merge-shards', join(scratch, 'wrong.json')]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('its target east is not one of the shard');
    expect(seed.git('ls-tree', '-r', '--name-only', 'HEAD', 'grants')).toBe('grants/east/ann.yaml');
  });

  it('removes an expired file that is no longer a valid grant, once its shard revoked it', async () => {
    scratch = mkdtempSync(join(tmpdir(), 'grantops-shards-'));
    const origin = join(scratch, 'origin.git');
    const twoRoles = `${policy('east')}  dev: { maxDuration: 12h, approvals: 0 }\n`;
    seed = tempRepo({ 'policies/east.yaml': twoRoles, 'scripts/vpn.cjs': VPN });
    chmodSync(join(seed.dir, 'scripts/vpn.cjs'), 0o755);
    seed.git('init', '-q', '-b', 'main');
    seed.commit('access repo');
    seed.write({
      'grants/east/ann.yaml': aGrant()
        .for('ann')
        .on('east', 'dev')
        .without('ticket')
        .expiresAt('2026-11-28T11:00:00Z')
        .yaml(),
    });
    seed.commit('grants');
    // The role leaves the policy: ann's file is no longer a valid grant, and her access is still there.
    seed.write({ 'policies/east.yaml': policy('east') });
    seed.commit('drop the dev role');
    seed.git('init', '-q', '--bare', '-b', 'main', origin);
    seed.git('push', '-q', origin, 'main');
    writeFileSync(join(scratch, 'east.json'), JSON.stringify([{ user: 'ann', role: 'dev' }]));
    const tip = seed.git('--git-dir', origin, 'rev-parse', 'main');
    const [east, merger] = ['east', 'merge'].map((name) => {
      seed.git('clone', '-q', origin, join(scratch, name));
      return join(scratch, name);
    }) as [string, string];

    const shard = await grantops(east, ['reap', '--target', 'east', '--shard-out', join(scratch, 's.json')]);
    expect(readFileSync(join(scratch, 'east.log'), 'utf8')).toBe('revoke ann\n');
    expect(shard.stderr).toContain('grants/east/ann.yaml'); // the invalid file is reported
    const m = await grantops(merger, ['reap', '--merge-shards', join(scratch, 's.json'), '--push']);
    expect(m.code, m.stderr).toBe(0);
    expect(seed.git('--git-dir', origin, 'log', '-1', '--format=%B', 'main')).toContain(
      'Revoked-Grant: east/ann',
    );
    expect(seed.git('--git-dir', origin, 'rev-parse', 'main~1')).toBe(tip);
    expect(seed.git('--git-dir', origin, 'ls-tree', '-r', '--name-only', 'main', 'grants')).toBe('');
    expect(m.stdout + m.stderr).not.toContain('removed elsewhere');
  }, 120_000);
});
