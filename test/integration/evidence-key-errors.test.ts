import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cliIn, STATE_FILE_SCRIPT } from '../support/cli.js';
import { aGrant } from '../support/builders.js';
import { tempRepo, type TempRepo } from '../support/repo.js';

/**
 * A broken evidence key (not a key, a pair that does not match) must not stop revocation: the
 * reaper trusts no note, revokes what expired, and reports the key; apply refuses to run on it.
 */
let repo: TempRepo;
const NOW = '2026-11-28T12:00:00Z';

beforeEach(() => {
  repo = tempRepo(
    {
      'policies/vpn.yaml': `target: { name: vpn, type: exec, command: [./scripts/vpn.cjs] }
roles:
  ops: { maxDuration: 1d, approvals: 0 }
`,
      'scripts/vpn.cjs': STATE_FILE_SCRIPT,
      '.gitignore': '.state.json\n',
    },
    { git: true },
  );
  chmodSync(join(repo.dir, 'scripts/vpn.cjs'), 0o755);
  repo.write({
    'grants/alice.yaml': aGrant()
      .for('alice')
      .on('vpn', 'ops')
      .without('ticket')
      .expiresAt('2026-11-28T11:00:00Z')
      .yaml(),
  });
  repo.commit('grant: alice');
  writeFileSync(join(repo.dir, '.state.json'), JSON.stringify([{ user: 'alice', role: 'ops' }]));
});
afterEach(() => repo.cleanup());

const cli = (env: Record<string, string>, ...argv: string[]) =>
  cliIn(repo.dir, ['--now', NOW, ...argv], { env: { PATH: process.env.PATH, ...env } });

describe('a broken evidence key', () => {
  for (const [name, env, message] of [
    [
      'a public key that is not one',
      { GRANTOPS_EVIDENCE_PUBLIC_KEY: 'garbage' },
      'GRANTOPS_EVIDENCE_PUBLIC_KEY is not a PEM public key',
    ],
    [
      'a private key that is not one',
      { GRANTOPS_EVIDENCE_KEY: 'garbage' },
      'GRANTOPS_EVIDENCE_KEY is not a PEM private key',
    ],
  ] as const) {
    it(`${name}: the reaper still revokes the expired grant, removes its file, and reports the key`, async () => {
      const r = await cli(env, 'reap');
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/alice\s+alice\s+vpn\s+ops/);
      expect(r.stderr).toContain(`problem: the evidence key cannot be used: ${message}`);
      expect(JSON.parse(readFileSync(join(repo.dir, '.state.json'), 'utf8'))).toEqual([]);
      expect(existsSync(join(repo.dir, 'grants/alice.yaml'))).toBe(false);
      expect(repo.git('log', '-1', '--format=%B')).toContain('Revoked-Grant: alice');
    });
  }

  it('apply refuses to run on it (exit 2, the variable named); validate is unaffected', async () => {
    const r = await cli({ GRANTOPS_EVIDENCE_KEY: 'garbage' }, 'apply');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('GRANTOPS_EVIDENCE_KEY is not a PEM private key');
    expect(JSON.parse(readFileSync(join(repo.dir, '.state.json'), 'utf8'))).toEqual([
      { user: 'alice', role: 'ops' },
    ]);
    const v = await cli({ GRANTOPS_EVIDENCE_KEY: 'garbage' }, 'validate');
    expect(v.stderr).not.toContain('PEM');
  });
});
