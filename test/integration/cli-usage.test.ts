import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliIn, STATE_FILE_SCRIPT } from '../support/cli.js';
import { aGrant } from '../support/builders.js';
import { tempRepo, type TempRepo } from '../support/repo.js';

/**
 * A wrong place, a typo or contradictory flags never pass silently: exit 2 with the reason, from any
 * subdirectory the repo is found; long runs draw progress only on a terminal.
 */
let repo: TempRepo;
const NOW = '2026-11-28T12:00:00Z';

beforeAll(() => {
  repo = tempRepo(
    {
      'policies/bastion.yaml': `target: { name: bastion, type: exec, command: [./scripts/bastion.cjs] }
roles:
  ops: { maxDuration: 1d, approvals: 0 }
`,
      'policies/down.yaml': `target: { name: down, type: exec, command: [./scripts/missing.sh] }
roles:
  ops: { maxDuration: 1d, approvals: 0 }
`,
      'scripts/bastion.cjs': STATE_FILE_SCRIPT,
      '.gitignore': '.state.json\n',
    },
    { git: true },
  );
  chmodSync(join(repo.dir, 'scripts/bastion.cjs'), 0o755);
  // The grants land after the policies: a grant is judged by the policy of its commit's parent.
  repo.write({
    'grants/alice-bastion.yaml': aGrant()
      .for('alice')
      .on('bastion', 'ops')
      .without('ticket')
      .expiresAt('2026-11-28T11:00:00Z')
      .yaml(),
    'grants/bob-bastion.yaml': aGrant()
      .for('bob')
      .on('bastion', 'ops')
      .without('ticket')
      .expiresAt('2026-11-28T11:00:00Z')
      .yaml(),
  });
  repo.commit('grants for alice and bob');
});
afterAll(() => repo.cleanup());

const cli = (cwd: string, argv: string[], io: { progress?: boolean } = {}) =>
  cliIn(cwd, ['--now', NOW, ...argv], { ...io, env: { PATH: process.env.PATH } });

describe('finding the access repo', () => {
  it('works from any subdirectory: the repo is git top level', async () => {
    const r = await cli(join(repo.dir, 'grants'), ['--json', 'validate']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, grants: 2 });
    const s = await cli(join(repo.dir, 'scripts'), ['--json', 'status']);
    expect((JSON.parse(s.stdout) as { grants: unknown[] }).grants).toHaveLength(2);
  });

  it('refuses a directory with no policies/ (exit 2), for every command', async () => {
    const elsewhere = tempRepo({ 'README.md': 'not an access repo\n' });
    try {
      for (const command of [
        ['validate'],
        ['status'],
        ['apply', '--dry-run'],
        ['reap', '--dry-run'],
        ['audit'],
      ]) {
        const r = await cli(elsewhere.dir, command);
        expect(r.code, command.join(' ')).toBe(2);
        expect(r.stderr).toContain(`not an access repo: no policies/ in ${elsewhere.dir}; run grantops init`);
        expect(r.stdout).toBe('');
      }
      const json = await cli(elsewhere.dir, ['--json', 'validate']);
      expect(JSON.parse(json.stdout)).toMatchObject({ ok: false });
    } finally {
      elsewhere.cleanup();
    }
  });

  it('a policies that is a file is no access repo either', async () => {
    const odd = tempRepo({ policies: 'not a folder\n' });
    try {
      const r = await cli(odd.dir, ['validate']);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`not an access repo: no policies/ in ${odd.dir}`);
    } finally {
      odd.cleanup();
    }
  });

  it('names a --repo that does not exist', async () => {
    const r = await cli(repo.dir, ['--repo', '/nope/nowhere', 'validate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no policies/ in /nope/nowhere');
  });
});

describe('typos and contradictions are usage errors', () => {
  it('an unknown --target: exit 2 with a did-you-mean, nothing applied', async () => {
    const r = await cli(repo.dir, ['apply', '--target', 'bastoin']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown target "bastoin" (did you mean "bastion"?); known: bastion, down');
    const far = await cli(repo.dir, ['apply', '--dry-run', '--target', 'zzzzzzzz']);
    expect(far.code).toBe(2);
    expect(far.stderr).not.toContain('did you mean');
    const audit = await cli(repo.dir, ['audit', '--target', 'bastio']);
    expect(audit.code).toBe(2);
    expect(audit.stderr).toContain('(did you mean "bastion"?)');
  });

  it('contradictory flags', async () => {
    const cases: [string[], string][] = [
      [['reap', '--dry-run', '--push'], "option '--push' cannot be used with option '--dry-run'"],
      [
        ['apply', '--dry-run', '--push-notes'],
        "option '--push-notes' cannot be used with option '--dry-run'",
      ],
      [['--json', 'audit', '--format', 'csv'], '--json prints JSON; it cannot be combined with --format csv'],
      [['audit', '--tolerance', '2h'], '--tolerance only applies with --verify'],
      [['audit', '--evidence-key', 'k.pem'], '--evidence-key only applies with --verify'],
    ];
    for (const [argv, message] of cases) {
      const r = await cli(repo.dir, argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.stderr).toContain(message);
    }
  });
});

describe('apply names what it could not reach', () => {
  it('the summary line says which targets were unreachable', async () => {
    const r = await cli(repo.dir, ['apply', '--target', 'down']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      'nothing to do on the targets that could be read; unreachable, not checked: down',
    );
    expect(r.stderr).toContain('1 target(s) unreachable: down');
  });
});

describe('progress on a terminal', () => {
  const holdAccess = () =>
    writeFileSync(
      join(repo.dir, '.state.json'),
      JSON.stringify([
        { user: 'alice', role: 'ops' },
        { user: 'bob', role: 'ops' },
      ]),
    );
  it('draws a line on stderr while calling targets, and clears it; never with --json or when piped', async () => {
    holdAccess();
    const json = await cli(repo.dir, ['--json', 'apply', '--target', 'bastion'], { progress: true });
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: true });
    expect(json.stderr).not.toContain('\r');

    holdAccess();
    const piped = await cli(repo.dir, ['apply', '--target', 'bastion']);
    expect(piped.stdout).toContain('revoke');
    expect(piped.stderr).not.toContain('\r');

    holdAccess();
    const tty = await cli(repo.dir, ['reap'], { progress: true });
    // Exit 1: the unreachable `down` target is reported as a problem after the revocations.
    expect(tty.code).toBe(1);
    expect(tty.stderr).toContain('problem: target down could not be read');
    expect(tty.stderr).toContain('\r\u001b[Kreap: revoke calls: 2/2 (100%)');
    expect(tty.stderr).toContain('(100%)\r\u001b[K');
    expect(tty.stdout).toContain('alice');
  });
});
