import { mkdirSync, readdirSync, readFileSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { WorkTree } from '../../src/adapters/work-tree.js';
import { cli } from '../support/cli.js';
import { tempRepo, type TempRepo } from '../support/repo.js';

/** `grantops extend` on real git repos: the file it rewrites, the policy that judges it, `validate --base`. */
let repo: TempRepo;
afterEach(() => repo.cleanup());

const NOW = '2026-11-28T12:00:00Z';
const POLICY = {
  'policies/vpn.yaml': `target: { name: vpn, type: exec, command: [./scripts/vpn.sh] }
roles:
  ops: { maxDuration: 8h, maxTotal: 10h, approvals: 1, approvers: [bob] }
  admin: { maxDuration: 8h, approvals: 1, approvers: [bob] }
`,
};
const GRANT = `# yaml-language-server: $schema=../schemas/grant.schema.json
# Requested for the outage.
user: alice
target: vpn
role: ops # the smallest role that works
reason: INC-7 restore the VPN
expiresAt: 2026-11-28T16:00:00Z # ends before the evening shift
`;

/** main with the policy and alice's grant, landed at 09:00:05 (the pinned git clock); a PR branch. */
function setUp(grant = GRANT): TempRepo {
  repo = tempRepo(POLICY, { git: true });
  repo.write({ 'grants/alice.yaml': grant });
  repo.commit('grant: alice');
  repo.git('checkout', '-q', '-b', 'extend-alice');
  return repo;
}
const file = () => readFileSync(join(repo.dir, 'grants/alice.yaml'), 'utf8');
const extend = (...args: string[]) => cli(repo.dir, 'extend', '--now', NOW, ...args);

describe('grantops extend', () => {
  it('moves expiresAt later in the same file, keeps its comments, records the extension', async () => {
    setUp();
    const r = await extend('alice', '--for', '2h', '--reason', 'still rolling back', '--ticket', 'INC-7');
    expect(r.stderr).toContain('extended grants/alice.yaml: alice → vpn/ops until 2026-11-28T18:00:00Z');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('grants/alice.yaml\n');
    const text = file();
    expect(text).toContain('# Requested for the outage.\n');
    expect(text).toContain('role: ops # the smallest role that works\n');
    expect(text).toContain('expiresAt: 2026-11-28T18:00:00Z # ends before the evening shift\n');
    expect(parse(text)).toEqual({
      user: 'alice',
      target: 'vpn',
      role: 'ops',
      reason: 'INC-7 restore the VPN',
      expiresAt: '2026-11-28T18:00:00Z',
      extensions: [
        {
          from: '2026-11-28T16:00:00Z',
          to: '2026-11-28T18:00:00Z',
          reason: 'still rolling back',
          ticket: 'INC-7',
        },
      ],
    });
    // A second extension appends to the list; the PR is valid against main.
    const again = await extend('alice', '--for', '30m', '--reason', 'one more check', '--json');
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual({
      path: 'grants/alice.yaml',
      id: 'alice',
      from: '2026-11-28T18:00:00Z',
      expiresAt: '2026-11-28T18:30:00Z',
    });
    expect((parse(file()) as { extensions: unknown[] }).extensions).toHaveLength(2);
    repo.commit('extend alice');
    const v = await cli(repo.dir, 'validate', '--now', NOW, '--base', 'main');
    expect(v.stderr + v.stdout).not.toContain('error');
    expect(v.code).toBe(0);
    // The plan reviewers see calls it an extension.
    expect(v.stdout + v.stderr).toMatch(/extended\s+alice\s+vpn\s+ops/);
  });

  it('refuses over maxDuration (exit 1) and leaves the file as it was', async () => {
    setUp();
    // 16:00 + 5h = 21:00, 9 h from now: over the 8h maxDuration.
    const r = await extend('alice', '--for', '5h', '--reason', 'longer');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('over the 8h maximum of role "ops"');
    expect(file()).toBe(GRANT);
  });

  it('refuses over maxTotal, measured from when the file landed on main (git), not from now', async () => {
    setUp();
    // Landed 09:00:05; 16:00 + 4h = 20:00 is 8 h from now (within maxDuration), ~11h since landing.
    const over = await extend('alice', '--for', '4h', '--reason', 'longer');
    expect(over.stderr).toContain('over the 10h maxTotal of role "ops" on "vpn"');
    expect(over.code).toBe(1);
    expect(file()).toBe(GRANT);
    const within = await extend('alice', '--for', '2h', '--reason', 'a bit longer');
    expect(within.code).toBe(0);
  });

  it('a role without maxTotal is bounded by maxDuration alone', async () => {
    setUp(GRANT.replace('role: ops', 'role: admin'));
    const r = await extend('alice', '--for', '3h', '--reason', 'longer');
    expect(r.code).toBe(0);
  });

  it('refuses an expired grant (exit 1): it is being reaped; request anew', async () => {
    setUp(GRANT.replace('2026-11-28T16:00:00Z', '2026-11-28T11:00:00Z'));
    const r = await extend('alice', '--for', '1h', '--reason', 'late');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('expired at 2026-11-28T11:00:00Z');
  });

  it('usage errors exit 2: unknown id, bad --for, a path for an id, a symbolic link', async () => {
    setUp();
    const unknown = await extend('bob', '--for', '1h', '--reason', 'x');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown grant id "bob"');
    const bad = await extend('alice', '--for', '2 hours', '--reason', 'x');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--for: "2 hours" is not a duration');
    const escape = await extend('../policies/vpn', '--for', '1h', '--reason', 'x');
    expect(escape.code).toBe(2);
    const hostile = await extend('al\u001b[2Jice', '--for', '1h', '--reason', 'x');
    expect(hostile.code).toBe(2);
    expect(hostile.stderr).not.toContain('\u001b');
    unlinkSync(join(repo.dir, 'grants/alice.yaml'));
    symlinkSync('../policies/vpn.yaml', join(repo.dir, 'grants/alice.yaml'));
    const link = await extend('alice', '--for', '1h', '--reason', 'x');
    expect(link.code).toBe(2);
    expect(readFileSync(join(repo.dir, 'policies/vpn.yaml'), 'utf8')).toBe(POLICY['policies/vpn.yaml']);
  });

  it('writes a hostile reason as text: it reads back exactly and is escaped when shown', async () => {
    setUp();
    const reason = 'ok\n\u001b[2J\u001b]0;pwned\u0007 ]: {a: [b]} # not a comment\n- item';
    const r = await extend('alice', '--for', '1h', '--reason', reason);
    expect(r.code).toBe(0);
    const doc = parse(file()) as { extensions: { reason: string }[]; reason: string };
    expect(doc.extensions[0]!.reason).toBe(reason);
    expect(doc.reason).toBe('INC-7 restore the VPN');
    repo.commit('extend');
    repo.git('checkout', '-q', 'main');
    repo.git('merge', '-q', '--no-ff', '-m', 'Merge pull request #2 from acme/extend-alice', 'extend-alice');
    for (const format of ['table', 'markdown', 'csv']) {
      const a = await cli(repo.dir, 'audit', '--now', NOW, '--format', format);
      expect(a.code).toBe(0);
      expect(a.stdout).toContain('extended');
      expect(a.stdout).not.toContain('\u001b');
      expect(a.stdout).not.toContain('\u0007');
    }
  });
});

describe('validate --base and extensions', () => {
  async function extendAndCommit() {
    setUp();
    expect((await extend('alice', '--for', '1h', '--reason', 'first')).code).toBe(0);
    repo.commit('extend alice');
    repo.git('checkout', '-q', 'main');
    repo.git('merge', '-q', '--no-ff', '-m', 'Merge pull request #2 from acme/extend-alice', 'extend-alice');
    repo.git('checkout', '-q', '-b', 'rewrite');
  }
  const validate = async () => {
    const v = await cli(repo.dir, 'validate', '--now', NOW, '--base', 'main', '--json');
    return {
      code: v.code,
      errors: (JSON.parse(v.stdout) as { errors: { line: number; column: number; message: string }[] })
        .errors,
    };
  };

  it('refuses a change that rewrites an extension already on the base, at its line and column', async () => {
    await extendAndCommit();
    repo.write({ 'grants/alice.yaml': file().replace('reason: first', 'reason: something else') });
    const v = await validate();
    expect(v.code).toBe(1);
    expect(v.errors[0]!.message).toContain('extension 0 differs from the base');
    expect(file().split('\n')[v.errors[0]!.line - 1]).toContain('- from:');
  });

  it('refuses removing the extensions, and an extension that does not start at the base expiresAt', async () => {
    await extendAndCommit();
    const text = file();
    repo.write({ 'grants/alice.yaml': text.replace(/extensions:[\s\S]*$/, '') });
    expect((await validate()).errors[0]!.message).toContain('cannot be removed');
    repo.write({
      'grants/alice.yaml': `${text.replace('expiresAt: 2026-11-28T17:00:00Z', 'expiresAt: 2026-11-28T18:00:00Z')}  - from: 2026-11-28T16:30:00Z\n    to: 2026-11-28T18:00:00Z\n    reason: sneaky\n`,
    });
    const v = await validate();
    expect(v.code).toBe(1);
    expect(v.errors.map((e) => e.message).join('\n')).toContain(
      'must be where the extension before it ended',
    );
  });

  it('refuses an extension that also changes the role, and a new grant that arrives with extensions', async () => {
    await extendAndCommit();
    const text = file();
    repo.write({
      'grants/alice.yaml': `${text.replace('role: ops', 'role: admin').replace('expiresAt: 2026-11-28T17:00:00Z', 'expiresAt: 2026-11-28T18:00:00Z')}  - from: 2026-11-28T17:00:00Z\n    to: 2026-11-28T18:00:00Z\n    reason: more\n`,
    });
    expect((await validate()).errors.map((e) => e.message).join('\n')).toContain('"role" must stay as it is');
    repo.git('checkout', '-q', '--', 'grants/alice.yaml');
    repo.write({ 'grants/bob.yaml': text.replace('user: alice', 'user: bob') });
    const v = await validate();
    expect(v.code).toBe(1);
    expect(v.errors[0]!.message).toContain('a new grant has no extensions');
  });

  it('judges maxTotal from the landing on the base even when the PR edits the file by hand', async () => {
    setUp();
    // 16:00 -> 20:00 by hand, with a made-up extension: 8 h from now, ~11h since it landed.
    repo.write({
      'grants/alice.yaml': `${GRANT.replace('2026-11-28T16:00:00Z', '2026-11-28T20:00:00Z')}extensions:\n  - from: 2026-11-28T16:00:00Z\n    to: 2026-11-28T20:00:00Z\n    reason: by hand\n`,
    });
    const v = await validate();
    expect(v.code).toBe(1);
    expect(v.errors[0]!.message).toContain('maxTotal');
  });
});

describe('validate --base in a shallow clone (as the Action checks out a pull request)', () => {
  it('keeps the history rules but leaves maxTotal to apply, with a warning: the landing is unknown', async () => {
    setUp();
    repo.write({
      'grants/alice.yaml': `${GRANT.replace('2026-11-28T16:00:00Z', '2026-11-28T20:00:00Z')}extensions:\n  - from: 2026-11-28T16:00:00Z\n    to: 2026-11-28T20:00:00Z\n    reason: by hand\n`,
    });
    repo.commit('extend by hand');
    const shallow = join(repo.dir, '.shallow');
    repo.git('clone', '-q', '--depth', '1', '--branch', 'extend-alice', `file://${repo.dir}`, shallow);
    execFileSync(
      'git',
      ['-C', shallow, 'fetch', '-q', '--depth', '1', 'origin', 'main:refs/remotes/origin/main'],
      {
        env: repo.gitEnv(),
      },
    );
    const v = await cli(shallow, 'validate', '--now', NOW, '--base', 'origin/main', '--json');
    const doc = JSON.parse(v.stdout) as { ok: boolean; errors: unknown[] };
    expect(v.stderr).toContain('maxTotal of role "ops" not checked: this clone\'s history is shallow');
    expect(doc.errors).toEqual([]);
    expect(v.code).toBe(0);
    // The history rules still hold there: an extension must start at the base's expiresAt.
    writeFileSync(
      join(shallow, 'grants/alice.yaml'),
      `${GRANT.replace('2026-11-28T16:00:00Z', '2026-11-28T17:00:00Z')}extensions:\n  - from: 2026-11-28T16:30:00Z\n    to: 2026-11-28T17:00:00Z\n    reason: x\n`,
    );
    const dropped = await cli(shallow, 'validate', '--now', NOW, '--base', 'origin/main', '--json');
    expect(dropped.stdout).toContain('must be the expiresAt at the base');
    expect(dropped.code).toBe(1);
  });
});

describe('WorkTree.replaceFile (what extend writes with)', () => {
  it('replaces only the file it read: a changed file, a linked folder or a link is refused, nothing left behind', async () => {
    repo = tempRepo({ 'grants/a.yaml': 'old\n', 'elsewhere/b.yaml': 'theirs\n' });
    const work = new WorkTree(repo.dir);
    await expect(work.replaceFile('grants/a.yaml', 'not what it holds\n', 'new\n')).rejects.toThrow(
      'changed while it was being rewritten',
    );
    expect(readFileSync(join(repo.dir, 'grants/a.yaml'), 'utf8')).toBe('old\n');
    expect(readdirSync(join(repo.dir, 'grants'))).toEqual(['a.yaml']);
    await work.replaceFile('grants/a.yaml', 'old\n', 'new\n');
    expect(readFileSync(join(repo.dir, 'grants/a.yaml'), 'utf8')).toBe('new\n');

    symlinkSync('../elsewhere', join(repo.dir, 'grants/linked'));
    await expect(work.replaceFile('grants/linked/b.yaml', 'theirs\n', 'mine\n')).rejects.toThrow(
      'grants/linked is a symbolic link',
    );
    symlinkSync('../elsewhere/b.yaml', join(repo.dir, 'grants/c.yaml'));
    await expect(work.replaceFile('grants/c.yaml', 'theirs\n', 'mine\n')).rejects.toThrow(
      'is a symbolic link',
    );
    expect(readFileSync(join(repo.dir, 'elsewhere/b.yaml'), 'utf8')).toBe('theirs\n');
    mkdirSync(join(repo.dir, 'grants/d.yaml'));
    await expect(work.replaceFile('grants/d.yaml', '', 'x')).rejects.toThrow('not a regular file');
    writeFileSync(join(repo.dir, 'grants/e.yaml'), 'e\n');
    await expect(work.replaceFile('grants/../grants/e.yaml', 'e\n', 'x')).rejects.toThrow('not a plain path');
    expect(readdirSync(join(repo.dir, 'grants')).sort()).toEqual([
      'a.yaml',
      'c.yaml',
      'd.yaml',
      'e.yaml',
      'linked',
    ]);
  });
});
