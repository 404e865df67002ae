import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { aGrant } from '../support/builders.js';
import { DIST_CLI } from '../support/cli.js';
import { FakeGitHub } from '../support/github-server.js';
import { run } from '../support/process.js';
import { tempRepo, type TempRepo } from '../support/repo.js';

/**
 * The reaper on real repositories: a bare remote, clones, real pushes, the bundled CLI in child
 * processes killed for real (by the exec script after it revoked, by a post-commit hook after the
 * commit), and two reapers racing for the same remote.
 */
const VPN = `#!/usr/bin/env node
const fs = require('node:fs');
const file = process.env.VPN_STATE;
const verb = process.argv[2];
// Like a real system, the fake VPN serialises its own writes (two reapers may call it at once).
const lock = file + '.lock';
for (let i = 0; ; i++) {
  try { fs.mkdirSync(lock); break; } catch { if (i > 2000) process.exit(3); Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5); }
}
process.on('exit', () => { try { fs.rmdirSync(lock); } catch {} });
const state = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : [];
if (verb === 'list') { process.stdout.write(JSON.stringify(state)); process.exit(0); }
const req = JSON.parse(fs.readFileSync(0, 'utf8'));
if (req.user === 'stuck') { process.stderr.write('directory unavailable'); process.exit(1); }
const next = state.filter((e) => !(e.user === req.user && e.role === req.role));
if (verb === 'grant') next.push({ user: req.user, role: req.role });
fs.writeFileSync(file + '.tmp', JSON.stringify(next));
fs.renameSync(file + '.tmp', file);
// Crash the caller right after revoking, once: the state change happened, nothing else did.
if (verb === 'revoke' && process.env.KILL_AFTER_REVOKE && !fs.existsSync(process.env.KILL_AFTER_REVOKE)) {
  fs.writeFileSync(process.env.KILL_AFTER_REVOKE, 'x');
  process.kill(process.ppid, 'SIGKILL');
}
`;
const POLICY = `target: { name: vpn, type: exec, command: [./scripts/vpn.cjs], env: [VPN_STATE, KILL_AFTER_REVOKE] }
roles:
  ops: { maxDuration: 12h, approvals: 0 }
`;
const NOW = '2026-11-28T12:00:00Z';

let scratch: string;
let origin: string;
let seed: TempRepo;
let state: string;
const clones: string[] = [];

function setup(grants: Record<string, string>) {
  scratch = mkdtempSync(join(tmpdir(), 'grantops-reap-'));
  origin = join(scratch, 'origin.git');
  state = join(scratch, 'vpn.json');
  seed = tempRepo({ 'policies/vpn.yaml': POLICY, 'scripts/vpn.cjs': VPN, ...grants });
  chmodSync(join(seed.dir, 'scripts/vpn.cjs'), 0o755);
  seed.git('init', '-q', '-b', 'main');
  seed.commit('access repo');
  seed.git('init', '-q', '--bare', '-b', 'main', origin);
  seed.git('push', '-q', origin, 'main');
  // Every grant has been applied: the VPN holds their access.
  const users = Object.values(grants).map((y) => /user: (\S+)/.exec(y)?.[1]);
  writeFileSync(state, JSON.stringify(users.map((user) => ({ user, role: 'ops' }))));
}
function clone(): string {
  const dir = join(scratch, `clone-${clones.length}`);
  seed.git('clone', '-q', origin, dir);
  clones.push(dir);
  return dir;
}
const grantops = (cwd: string, args: string[], env: Record<string, string> = {}) =>
  run(process.execPath, [DIST_CLI, ...args], {
    cwd,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      VPN_STATE: state,
      GIT_AUTHOR_NAME: 't',
      GIT_AUTHOR_EMAIL: 't@t',
      GIT_COMMITTER_NAME: 't',
      GIT_COMMITTER_EMAIL: 't@t',
      ...env,
    },
  });
const originLog = () =>
  seed
    .git('--git-dir', origin, 'log', '--format=%s%n%b%x00', 'main')
    .split('\0')
    .map((s) => s.trim())
    .filter(Boolean);
const cleanupCommits = () => originLog().filter((m) => m.startsWith('grantops: revoke'));
const trailers = () =>
  cleanupCommits().flatMap((m) => [...m.matchAll(/^Revoked-Grant: (.+)$/gm)].map((x) => x[1]));
const originFiles = () =>
  seed
    .git('--git-dir', origin, 'ls-tree', '-r', '--name-only', 'main', 'grants')
    .split('\n')
    .filter(Boolean)
    .sort();
const vpn = () => (JSON.parse(readFileSync(state, 'utf8')) as { user: string }[]).map((e) => e.user).sort();

const GRANTS = {
  'grants/alice.yaml': aGrant().for('alice').on('vpn', 'ops').expiresAt('2026-11-28T10:00:00Z').yaml(),
  'grants/bob.yaml': aGrant().for('bob').on('vpn', 'ops').expiresAt('2026-11-28T11:30:00Z').yaml(),
  'grants/carol.yaml': aGrant().for('carol').on('vpn', 'ops').expiresAt('2026-11-28T18:00:00Z').yaml(),
};

beforeEach(() => {
  clones.length = 0;
});
afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('grantops reap', () => {
  it('revokes expired grants, then removes their files in one pushed commit with trailers and lag', async () => {
    setup(GRANTS);
    const dir = clone();
    const dry = await grantops(dir, ['reap', '--dry-run', '--now', NOW]);
    expect(dry.code).toBe(0);
    expect(vpn()).toEqual(['alice', 'bob', 'carol']);

    const r = await grantops(dir, ['reap', '--push', '--now', NOW, '--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as {
      revoked: { grant: string; lagSeconds: number }[];
      pushed: boolean;
      concurrency: Record<string, number>;
    };
    expect(doc.concurrency).toEqual({ vpn: 1 }); // an exec policy without concurrency: one call at a time
    expect(doc.revoked).toEqual([
      expect.objectContaining({ grant: 'alice', lagSeconds: 7200 }),
      expect.objectContaining({ grant: 'bob', lagSeconds: 1800 }),
    ]);
    expect(doc.pushed).toBe(true);
    expect(vpn()).toEqual(['carol']);
    expect(originFiles()).toEqual(['grants/carol.yaml']);
    const [commit] = cleanupCommits();
    expect(cleanupCommits()).toHaveLength(1);
    expect(commit).toMatch(/^grantops: revoke 2 expired grant\(s\)\n/);
    expect(commit).toContain(
      '- alice: alice had ops on vpn; expired 2026-11-28T10:00:00Z, revoked 2026-11-28T12:00:00Z (2h after expiry)',
    );
    expect(commit!.trim().endsWith('Revoked-Grant: alice\nRevoked-Grant: bob')).toBe(true);
    expect(seed.git('--git-dir', origin, 'log', '-1', '--format=%an <%ae>', 'main')).toBe(
      'grantops <grantops@users.noreply.github.com>',
    );

    const again = await grantops(dir, ['reap', '--push', '--now', NOW]);
    expect(again.code).toBe(0);
    expect(cleanupCommits()).toHaveLength(1);
  });

  it('status --observe shows access that outlives its grant, and for how long', async () => {
    setup(GRANTS);
    const dir = clone();
    const r = await grantops(dir, ['status', '--observe', '--json', '--now', NOW]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as {
      grants: { id: string; state: string; accessOutlives?: boolean; overdueSeconds?: number }[];
    };
    expect(doc.grants.map((g) => [g.id, g.state, g.accessOutlives ?? false, g.overdueSeconds ?? 0])).toEqual([
      ['alice', 'expired', true, 7200],
      ['bob', 'expired', true, 1800],
      ['carol', 'active', false, 0],
    ]);
    await grantops(dir, ['reap', '--now', NOW]);
    const after = await grantops(dir, ['status', '--observe', '--now', NOW]);
    expect(after.stdout).not.toContain('ACCESS STILL PRESENT');
  });

  it('status --observe reports an approved, started grant that its target lacks (a skipped apply)', async () => {
    setup(GRANTS);
    writeFileSync(state, JSON.stringify([{ user: 'carol', role: 'ops' }]));
    const dir = clone();
    writeFileSync(
      join(dir, 'grants/dave.yaml'),
      aGrant().for('dave').on('vpn', 'ops').expiresAt('2026-11-28T18:00:00Z').yaml(),
    );
    seed.git('-C', dir, 'add', 'grants/dave.yaml');
    seed.git('-C', dir, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-m', 'dave');
    // The apply run for dave's merge recorded its evidence, then died before granting.
    const commit = seed.git('-C', dir, 'rev-parse', 'HEAD');
    const blob = seed.git('-C', dir, 'rev-parse', 'HEAD:grants/dave.yaml');
    const note = {
      grantops: 1,
      grants: { dave: { pr: 7, headSha: commit, approvers: [], commit, blob, verifiedAt: NOW } },
    };
    seed.git('-C', dir, 'notes', '--ref', 'grantops', 'add', '-m', JSON.stringify(note), commit);
    const r = await grantops(dir, ['status', '--observe', '--json', '--now', NOW]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { grants: { id: string; notApplied?: boolean }[] };
    expect(doc.grants.filter((g) => g.notApplied).map((g) => g.id)).toEqual(['dave']);
    expect(r.stderr).toContain('not applied: dave: approved and started');
  });

  it('keeps the file of a grant whose revocation failed, and exits 1', async () => {
    setup({
      ...GRANTS,
      'grants/stuck.yaml': aGrant().for('stuck').on('vpn', 'ops').expiresAt('2026-11-28T09:00:00Z').yaml(),
    });
    const dir = clone();
    const r = await grantops(dir, ['reap', '--push', '--now', NOW]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'not revoked: stuck: revoke failed (exit 1): directory unavailable (file kept)',
    );
    expect(originFiles()).toEqual(['grants/carol.yaml', 'grants/stuck.yaml']);
    expect(trailers()).toEqual(['alice', 'bob']);
  });

  it('converges after being killed between revoke and commit', async () => {
    setup(GRANTS);
    const dir = clone();
    const marker = join(scratch, 'killed-once');
    const killed = await grantops(dir, ['reap', '--push', '--now', NOW], { KILL_AFTER_REVOKE: marker });
    expect(killed.code).not.toBe(0);
    expect(existsSync(marker)).toBe(true);
    expect(cleanupCommits()).toHaveLength(0);
    expect(originFiles()).toEqual(['grants/alice.yaml', 'grants/bob.yaml', 'grants/carol.yaml']); // no file removed early
    const r = await grantops(dir, ['reap', '--push', '--now', NOW]);
    expect(r.code).toBe(0);
    expect(vpn()).toEqual(['carol']);
    expect(originFiles()).toEqual(['grants/carol.yaml']);
    expect(trailers()).toEqual(['alice', 'bob']);
  });

  it('converges after being killed between commit and push, without a duplicate commit', async () => {
    setup(GRANTS);
    const dir = clone();
    const marker = join(scratch, 'hook-fired');
    const hook = join(dir, '.git', 'hooks', 'post-merge');
    // The cleanup commit lands on the branch by a fast-forward; git runs post-merge after it, and the
    // hook kills grantops (git's parent).
    writeFileSync(
      hook,
      `#!/bin/sh\n[ -e "${marker}" ] && exit 0\ntouch "${marker}"\nkill -9 $(ps -o ppid= -p $PPID)\n`,
    );
    chmodSync(hook, 0o755);
    const killed = await grantops(dir, ['reap', '--push', '--now', NOW]);
    expect(killed.code).not.toBe(0);
    expect(existsSync(marker)).toBe(true);
    expect(cleanupCommits()).toHaveLength(0); // committed locally, never pushed
    expect(seed.git('-C', dir, 'log', '-1', '--format=%s')).toBe('grantops: revoke 2 expired grant(s)');

    const r = await grantops(dir, ['reap', '--push', '--now', NOW]);
    expect(r.code).toBe(0);
    expect(cleanupCommits()).toHaveLength(1);
    expect(trailers()).toEqual(['alice', 'bob']);
    expect(originFiles()).toEqual(['grants/carol.yaml']);
  });

  it('lets two reapers race: each expired grant is removed exactly once, nothing else is lost', async () => {
    const many: Record<string, string> = {};
    for (let i = 0; i < 12; i++)
      many[`grants/u${i}.yaml`] = aGrant()
        .for(`u${i}`)
        .on('vpn', 'ops')
        .expiresAt(i < 8 ? '2026-11-28T11:00:00Z' : '2026-11-28T20:00:00Z')
        .yaml();
    setup(many);
    // Someone else's change lands on main while the reapers run: it must survive.
    const a = clone();
    const b = clone();
    const other = clone();
    writeFileSync(join(other, 'README.md'), 'unrelated change\n');
    seed.git('-C', other, 'add', 'README.md');
    seed.git('-C', other, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-m', 'docs');
    const [ra, rb] = await Promise.all([
      grantops(a, ['reap', '--push', '--now', NOW]),
      grantops(b, ['reap', '--push', '--now', NOW]),
      run('git', ['push', '-q', 'origin', 'main'], { cwd: other, env: process.env }),
    ]);
    expect([ra.code, rb.code, ra.stderr + rb.stderr]).toEqual([0, 0, expect.any(String) as string]);
    expect(trailers().sort()).toEqual(['u0', 'u1', 'u2', 'u3', 'u4', 'u5', 'u6', 'u7']);
    expect(originFiles()).toEqual(['grants/u10.yaml', 'grants/u11.yaml', 'grants/u8.yaml', 'grants/u9.yaml']);
    expect(vpn()).toEqual(['u10', 'u11', 'u8', 'u9']);
  });

  it('opens (then updates) one cleanup pull request when main refuses direct pushes', async () => {
    setup(GRANTS);
    const hook = join(origin, 'hooks', 'pre-receive');
    writeFileSync(
      hook,
      '#!/bin/sh\nwhile read old new ref; do [ "$ref" = refs/heads/main ] && { echo "GH006: Protected branch update failed for refs/heads/main." >&2; exit 1; }; done\nexit 0\n',
    );
    chmodSync(hook, 0o755);
    const gh = await FakeGitHub.start({ token: 'tok' });
    try {
      const env = { GITHUB_TOKEN: 'tok', GITHUB_REPOSITORY: 'acme/access', GITHUB_API_URL: gh.url };
      const r = await grantops(clone(), ['reap', '--push', '--now', NOW], env);
      expect(r.code).toBe(0);
      expect(r.stderr).toContain('main is protected: cleanup pull request #100 opened');
      expect(seed.git('--git-dir', origin, 'log', '-1', '--format=%s', 'grantops/cleanup')).toBe(
        'grantops: revoke 2 expired grant(s)',
      );
      const again = await grantops(clone(), ['reap', '--push', '--now', '2026-11-28T19:00:00Z'], env);
      expect(again.code).toBe(0);
      expect(again.stderr).toContain('cleanup pull request #100 updated');
      expect(gh.openPulls.get('acme/access')).toHaveLength(1);
      expect(seed.git('--git-dir', origin, 'log', '-1', '--format=%s', 'grantops/cleanup')).toBe(
        'grantops: revoke 3 expired grant(s)',
      );
      expect(gh.violations).toEqual([]);
    } finally {
      await gh.stop();
    }
    // Two full reaps, each a push refused by a hook, a fetch and a pull request: 5-17 s on an idle
    // machine, past 30 s under a loaded one (faketime, other suites); correctness never depends on it.
  }, 120_000);
});

/**
 * Issue 11 on real repositories: revocation never waits on git. Each git failure is met after the
 * revocations, reported next to them in the JSON document, and the run exits 1; a later run converges.
 */
describe('grantops reap when git fails', () => {
  interface Doc {
    ok: boolean;
    revoked: { grant: string }[];
    problems: string[];
    pushed: boolean;
  }
  const reapJson = async (dir: string, extra: string[] = []) => {
    const r = await grantops(dir, ['reap', '--push', '--now', NOW, '--json', ...extra]);
    return { ...r, doc: JSON.parse(r.stdout) as Doc };
  };

  it('revokes with a stale index.lock, reports it with the revocations, and converges once it is gone', async () => {
    setup(GRANTS);
    const dir = clone();
    writeFileSync(join(dir, '.git', 'index.lock'), '');
    const r = await reapJson(dir);
    expect(r.code).toBe(1);
    expect(vpn()).toEqual(['carol']);
    expect(r.doc.revoked.map((x) => x.grant)).toEqual(['alice', 'bob']);
    expect(r.doc.problems.join('\n')).toMatch(/index\.lock/);
    expect(originFiles()).toHaveLength(3);
    rmSync(join(dir, '.git', 'index.lock'));
    const again = await reapJson(dir);
    expect([again.code, again.doc.pushed]).toEqual([0, true]);
    expect(originFiles()).toEqual(['grants/carol.yaml']);
    expect(cleanupCommits()).toHaveLength(1);
  });

  it('revokes when the origin is unreachable and says so in its JSON', async () => {
    setup(GRANTS);
    const dir = clone();
    seed.git('-C', dir, 'remote', 'set-url', 'origin', join(scratch, 'gone.git'));
    const r = await reapJson(dir);
    expect(r.code).toBe(1);
    expect(vpn()).toEqual(['carol']);
    expect(r.doc.ok).toBe(false);
    expect(r.doc.revoked.map((x) => x.grant)).toEqual(['alice', 'bob']);
    expect(r.doc.problems.join('\n')).toMatch(/gone\.git/);
  });

  it("commits to the remote's default branch, whatever it is called, and refuses another checked-out branch", async () => {
    setup(GRANTS);
    // The access repo's default branch is trunk.
    seed.git('--git-dir', origin, 'branch', '-m', 'main', 'trunk');
    seed.git('--git-dir', origin, 'symbolic-ref', 'HEAD', 'refs/heads/trunk');
    const dir = clone();
    seed.git('-C', dir, 'checkout', '-q', '-b', 'feature');
    const wrong = await reapJson(dir);
    expect(wrong.code).toBe(1);
    expect(wrong.doc.problems.join('\n')).toMatch(/on feature, but the cleanup belongs on trunk/);
    expect(vpn()).toEqual(['carol']);
    seed.git('-C', dir, 'checkout', '-q', 'trunk');
    const r = await reapJson(dir);
    expect([r.code, r.doc.pushed]).toEqual([0, true]);
    expect(seed.git('--git-dir', origin, 'log', '-1', '--format=%s', 'trunk')).toBe(
      'grantops: revoke 2 expired grant(s)',
    );
  });

  it('refuses a dirty work tree after revoking, and keeps the staged change staged', async () => {
    setup(GRANTS);
    const dir = clone();
    writeFileSync(join(dir, 'policies/vpn.yaml'), `${POLICY}# a local edit\n`);
    seed.git('-C', dir, 'add', 'policies/vpn.yaml');
    const r = await reapJson(dir);
    expect(r.code).toBe(1);
    expect(vpn()).toEqual(['carol']);
    expect(r.doc.problems.join('\n')).toMatch(/uncommitted changes \(policies\/vpn\.yaml\)/);
    expect(seed.git('-C', dir, 'diff', '--cached', '--name-only')).toBe('policies/vpn.yaml');
    expect(cleanupCommits()).toHaveLength(0);
  });

  it('revokes expired grants in a shallow clone and reports that removed grants were not checked', async () => {
    setup(GRANTS);
    const dir = join(scratch, 'shallow');
    seed.git('clone', '-q', '--depth', '1', `file://${origin}`, dir);
    const r = await reapJson(dir);
    expect(r.code).toBe(1);
    expect(vpn()).toEqual(['carol']);
    expect(r.doc.problems.join('\n')).toMatch(/shallow/);
  });

  it('revokes the access of a grant removed from main whose apply run never happened', async () => {
    setup(GRANTS);
    const dir = clone();
    seed.git('-C', dir, 'rm', '-q', 'grants/carol.yaml');
    seed.git('-C', dir, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-m', 'withdraw carol');
    seed.git('-C', dir, 'push', '-q', 'origin', 'main');
    const r = await reapJson(dir);
    expect(r.code).toBe(0);
    expect(vpn()).toEqual([]);
  });
});

describe('grantops reap after a policy change', () => {
  it('revokes what the role conferred when the grant landed, though the policy no longer offers it', async () => {
    setup({
      ...GRANTS,
      'policies/vpn.yaml': POLICY.replace(
        'roles:\n',
        'roles:\n  admin: { maxDuration: 12h, approvals: 0 }\n',
      ),
    });
    const dir = clone();
    writeFileSync(
      join(dir, 'grants/dave.yaml'),
      aGrant().for('dave').on('vpn', 'admin').expiresAt('2026-11-28T11:00:00Z').yaml(),
    );
    seed.git('-C', dir, 'add', 'grants/dave.yaml');
    seed.git('-C', dir, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-m', 'dave');
    // Reviewed later: the admin role goes away. dave's file is now invalid, and his access real.
    writeFileSync(join(dir, 'policies/vpn.yaml'), POLICY);
    seed.git('-C', dir, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qam', 'drop admin');
    seed.git('-C', dir, 'push', '-q', 'origin', 'main');
    writeFileSync(
      state,
      JSON.stringify([
        { user: 'carol', role: 'ops' },
        { user: 'dave', role: 'admin' },
      ]),
    );
    const r = await grantops(dir, ['reap', '--push', '--now', NOW, '--json']);
    const doc = JSON.parse(r.stdout) as { revoked: { grant: string }[]; problems: string[] };
    expect(vpn()).toEqual(['carol']);
    expect(doc.revoked.map((x) => x.grant)).toContain('dave');
    // Reported all the same: the file was invalid.
    expect(doc.problems.join('\n')).toMatch(/grants\/dave\.yaml/);
    expect(originFiles()).toEqual(['grants/carol.yaml']);
  });
});
