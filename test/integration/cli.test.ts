import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { aGrant, NOW, POLICIES } from '../support/builders.js';
import { cli } from '../support/cli.js';
import { tempRepo, type TempRepo } from '../support/repo.js';

let repo: TempRepo;
afterEach(() => repo?.cleanup());

describe('grantops CLI', () => {
  it.each(['validate', 'status', 'request'])('%s --help prints its usage and exits 0', async (command) => {
    repo = tempRepo();
    const r = await cli(repo.dir, command, '--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Usage: grantops ${command}`);
  });

  it('--version prints the version of package.json and exits 0', async () => {
    repo = tempRepo();
    const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    for (const flag of ['--version', '-V']) {
      const r = await cli(repo.dir, flag);
      expect(r).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
    }
  });

  it('exits 2 on an unknown flag, an unknown command and a bad --now', async () => {
    repo = tempRepo(POLICIES);
    expect((await cli(repo.dir, 'validate', '--frobnicate')).code).toBe(2);
    expect((await cli(repo.dir, 'frobnicate')).code).toBe(2);
    const r = await cli(repo.dir, 'status', '--now', '2026-11-28T12:00:00');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--now: "2026-11-28T12:00:00" has no time-zone offset');
  });

  it.each([
    ['apply', '--concurrency', '0'],
    ['reap', '--concurrency', '65'],
    ['audit', '--jobs', 'four'],
    ['audit', '--tolerance', '5x'],
    ['status', '--expiring-within', 'soon'],
  ])('checks %s %s %s before running, as a usage error naming the flag', async (command, flag, value) => {
    repo = tempRepo(POLICIES, { git: true });
    const r = await cli(repo.dir, command, flag, value, '--now', NOW);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(flag);
    expect(r.stderr).toContain(value);
  });

  it.each([
    [['apply', '--dry-run'], 'no-git'],
    [['reap'], 'no-git'],
    [['audit'], 'no-git'],
    [['audit', '--ref', 'nope'], 'git'],
    [['validate', '--base', 'nope'], 'git'],
    [['reap', '--push'], 'git'],
  ])('%j fails with a cause, never an internal error (%s)', async (args, kind) => {
    repo = tempRepo(POLICIES, { git: kind === 'git' });
    const r = await cli(repo.dir, ...args, '--now', NOW);
    expect(r.code).toBeGreaterThan(0);
    expect(r.stderr).toMatch(/grantops: \S/);
    expect(r.stderr).not.toContain('internal error');
  });

  it('validate --json prints exactly one JSON document in the contract shape', async () => {
    repo = tempRepo({
      ...POLICIES,
      'grants/a.yaml': aGrant().yaml(),
      'grants/b.yaml': aGrant().with('rol', 'x').yaml(),
    });
    const r = await cli(repo.dir, '--json', 'validate', '--now', NOW);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout) as { ok: boolean; grants: number; errors: unknown[] };
    expect(doc.ok).toBe(false);
    expect(doc.grants).toBe(2);
    expect(doc.errors).toEqual([
      {
        file: 'grants/b.yaml',
        line: 7,
        column: 1,
        message: 'unknown key "rol"; did you mean "role"?',
        rule: 'unknown-key',
      },
    ]);
  });

  it('status reports each state at --now, and honours GRANTOPS_NOW', async () => {
    repo = tempRepo({
      ...POLICIES,
      'grants/active.yaml': aGrant().expiresAt('2026-11-28T19:00:00Z').yaml(),
      'grants/pending.yaml': aGrant()
        .startsAt('2026-11-28T13:00:00Z')
        .expiresAt('2026-11-28T14:00:00Z')
        .yaml(),
      'grants/expired.yaml': aGrant().expiresAt('2026-11-28T11:00:00Z').yaml(),
      'grants/broken.yaml': 'user: [',
    });
    const r = await cli(repo.dir, 'status', '--json', '--now', NOW, '--expiring-within', '1h');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as {
      now: string;
      grants: { id: string; state: string; expiresAt: string }[];
    };
    expect(doc.now).toBe(NOW);
    expect(doc.grants.map((g) => [g.id, g.state])).toEqual([
      ['expired', 'expired'],
      ['pending', 'pending'],
      ['active', 'active'],
    ]);
    expect(r.stderr).toContain('grants/broken.yaml:1:8: error:');

    let out = '';
    const { runCli } = await import('../../src/cli/program.js');
    await runCli(['status', '--json'], {
      stdout: (s) => (out += s),
      stderr: () => undefined,
      color: { stdout: false, stderr: false },
      env: { GRANTOPS_NOW: '2026-11-28T18:30:00Z' },
      cwd: repo.dir,
    });
    expect(
      (JSON.parse(out) as { grants: { id: string; state: string }[] }).grants.find((g) => g.id === 'active')
        ?.state,
    ).toBe('expiring');
  });

  it('status prints an aligned table without colour when not on a terminal', async () => {
    repo = tempRepo({ ...POLICIES, 'grants/a.yaml': aGrant().yaml() });
    const r = await cli(repo.dir, 'status', '--now', NOW);
    const [header, row] = r.stdout.split('\n');
    expect(header).toMatch(/^GRANT\s+USER\s+TARGET\s+ROLE\s+STATE\s+EXPIRES\s+REMAINING$/);
    expect(row?.indexOf('alice')).toBe(header?.indexOf('USER'));
    expect(r.stdout).not.toContain('\u001b[');
  });

  it('request writes a grant that validate accepts', async () => {
    repo = tempRepo(POLICIES);
    const r = await cli(
      repo.dir,
      'request',
      '--now',
      NOW,
      '--user',
      'alice',
      '--target',
      'prod-db',
      '--role',
      'readonly',
      '--for',
      '2h',
      '--reason',
      'INC-9: look at "locks": all of them',
      '--ticket',
      'INC-9',
    );
    expect(r.code).toBe(0);
    const path = r.stdout.trim();
    expect(path).toBe('grants/prod-db/alice-readonly-20261128-1200.yaml');
    const text = readFileSync(join(repo.dir, path), 'utf8');
    expect(text).toContain('# yaml-language-server: $schema=../../schemas/grant.schema.json');
    expect(text).toContain('expiresAt: 2026-11-28T14:00:00Z');
    const v = await cli(repo.dir, 'validate', '--now', NOW);
    expect(v.code).toBe(0);
    // A second identical request gets its own file instead of overwriting the first.
    const again = await cli(
      repo.dir,
      'request',
      '--now',
      NOW,
      '--user',
      'alice',
      '--target',
      'prod-db',
      '--role',
      'readonly',
      '--for',
      '1h',
      '--reason',
      'x',
      '--ticket',
      'INC-9',
    );
    expect(again.stdout.trim()).toBe('grants/prod-db/alice-readonly-20261128-1200-2.yaml');
  });

  it("request refuses with the policy's reason and writes nothing", async () => {
    repo = tempRepo(POLICIES);
    const over = await cli(
      repo.dir,
      'request',
      '--now',
      NOW,
      '--user',
      'alice',
      '--target',
      'prod-db',
      '--role',
      'readwrite',
      '--for',
      '3h',
      '--reason',
      'x',
      '--ticket',
      'INC-1',
    );
    expect(over.code).toBe(1);
    expect(over.stderr).toContain(
      'request refused: grant lasts 3h, over the 2h maximum of role "readwrite" on "prod-db"',
    );
    const noTicket = await cli(
      repo.dir,
      'request',
      '--now',
      NOW,
      '--user',
      'alice',
      '--target',
      'prod-db',
      '--role',
      'readonly',
      '--for',
      '1h',
      '--reason',
      'x',
    );
    expect(noTicket.code).toBe(1);
    expect(noTicket.stderr).toContain('request refused: policy of "prod-db": missing required key "ticket"');
    const hostile = await cli(
      repo.dir,
      'request',
      '--now',
      NOW,
      '--user',
      'alice"; DROP ROLE x',
      '--target',
      'prod-db',
      '--role',
      'readonly',
      '--for',
      '1h',
      '--reason',
      'x',
      '--ticket',
      'INC-1',
    );
    expect(hostile.code).toBe(1);
    const badFor = await cli(
      repo.dir,
      'request',
      '--now',
      NOW,
      '--user',
      'alice',
      '--target',
      'prod-db',
      '--role',
      'readonly',
      '--for',
      '2 hours',
      '--reason',
      'x',
    );
    expect(badFor.code).toBe(2);
    const { existsSync } = await import('node:fs');
    expect(existsSync(join(repo.dir, 'grants'))).toBe(false);
  });

  it('exits 2 when a policy file is invalid, for every command', async () => {
    repo = tempRepo({ ...POLICIES, 'policies/bad.yaml': 'target: {}\n' });
    for (const args of [
      ['validate'],
      ['status'],
      ['request', '--user', 'a', '--target', 'vpn', '--role', 'ops', '--for', '1h', '--reason', 'x'],
    ]) {
      const r = await cli(repo.dir, ...args, '--now', NOW);
      expect(r.code, args[0]).toBe(2);
      expect(r.stderr).toContain('policies/bad.yaml:1:9: error: missing required key "target.name"');
    }
  });
});
