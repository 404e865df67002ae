import { execFileSync } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, type ProcessResult } from '../support/process.js';

/**
 * The README's first quick-start command, as a newcomer runs it: plain node on the committed bundle.
 * It runs from a copy holding only what a checkout has outside node_modules, so a bundle that reached
 * for node_modules would fail here, with its own TMPDIR, to see that it leaves nothing behind.
 */
describe('npm run demo (scripts/demo.sh)', () => {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  let dir: string;
  let tmp: string;
  let r: ProcessResult;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'grantops-demo-test-'));
    const copy = join(dir, 'grantops');
    tmp = join(dir, 'tmp');
    await mkdir(tmp);
    for (const p of [
      'package.json',
      'dist/cli.js',
      'scripts/demo.sh',
      'scripts/demo-github.mjs',
      'scripts/vpn-access.mjs',
      'policies',
      'schemas',
      'grants',
    ])
      await cp(join(root, p), join(copy, p), { recursive: true });
    r = await run('bash', ['scripts/demo.sh'], {
      cwd: copy,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, TMPDIR: tmp },
    });
  }, 60_000);
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('runs the whole loop offline and exits 0, in plain text on both streams', () => {
    expect(r.stderr).not.toContain('demo: expected');
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('\u001b[');
    expect(r.stderr).not.toContain('\u001b[');
  });

  it('tells each step of the story', () => {
    // The PR that loosens the policy judging it is judged by main's policy.
    expect(r.stderr).toContain('grant lasts 2d, over the 12h maximum of role "ops" on "vpn"');
    expect(r.stderr).toContain('it is judged by the rules at main');
    // Approval is read from (a loopback stand-in for) GitHub's reviews.
    expect(r.stdout).toMatch(/grant\s+vpn\s+frank\s+ops\s+new\s+2026-11-28T14:00:00Z\s+done/);
    expect(r.stdout).toContain('evidence recorded for auditors (refs/notes/grantops): 2 commit(s)');
    // A grant pushed to main without a pull request is refused, and the output says why.
    expect(r.stderr).toContain(
      'refused: grants/vpn/mallory-ops.yaml: no merged pull request brought this grant (pushed directly to main?)',
    );
    expect(r.stdout).not.toMatch(/mallory.*"role"/);
    expect(r.stdout).toMatch(
      /vpn\/frank-ops-\S+\s+frank\s+vpn\s+ops\s+expired\s+\S+\s+3h 30m ago, ACCESS STILL PRESENT/,
    );
    expect(r.stdout).toMatch(/vpn\/frank-ops-\S+\s+frank\s+vpn\s+ops\s+2026-11-28T14:00:00Z\s+3h 30m/);
    expect(r.stderr).toMatch(/cleanup commit [0-9a-f]{7} removes 2 file\(s\)/);
    expect(r.stdout).toContain('vpn profiles now: []');
  });

  it('hides nothing: every non-zero exit is shown and expected, and no target is left unreachable', () => {
    expect(r.stdout.match(/^exit code: 1$/gm)).toHaveLength(3);
    expect(r.stderr).not.toMatch(/^(unreachable|unreadable|problem|held|not revoked):/m);
    expect(`${r.stdout}${r.stderr}`).not.toContain('grantops: grantops:');
  });

  it('ends with grantops audit: frank from request to revocation, then the compliance findings', () => {
    expect(r.stdout).toMatch(/requested\s+vpn\/frank-ops-\S+\s+frank\s+vpn\s+ops\s+#12/);
    expect(r.stdout).toMatch(/approved\s+vpn\/frank-ops-\S+\s+frank\s+vpn\s+ops\s+#12\s+.*approved by bob/);
    expect(r.stdout).toMatch(/revoked\s+vpn\/frank-ops-\S+\s+frank\s+vpn\s+ops\s+grantops </);
    const findings = r.stdout.slice(r.stdout.lastIndexOf('Compliance findings'));
    expect(findings).toMatch(
      /overdue\s+vpn\/frank-ops-\S+\s+frank.*revoked 3h 30m after expiresAt \(tolerance 1h\)/,
    );
    expect(findings).toMatch(
      /unapproved\s+vpn\/mallory-ops\s+mallory.*no approval evidence recorded .*\(no PR\)/,
    );
    expect(r.stderr.trimEnd().endsWith('✗ 2 compliance finding(s)')).toBe(true);
    expect(r.stdout).not.toContain('Revoked-Grant:'); // the raw commit message is no longer the ending
  });

  it('leaves no process and no temporary directory behind', async () => {
    expect(await readdir(tmp)).toEqual([]);
    const processes = execFileSync('ps', ['-ww', '-eo', 'args'], { encoding: 'utf8' });
    expect(processes).not.toContain(tmp);
  });
});
