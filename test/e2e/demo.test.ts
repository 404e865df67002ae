import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { run } from '../support/process.js';

/** The README's first quick-start command, exactly as a newcomer runs it. */
describe('npm run demo (scripts/demo.sh)', () => {
  it('runs the whole loop on the example offline and exits 0', async () => {
    const root = fileURLToPath(new URL('../..', import.meta.url));
    const r = await run('bash', ['scripts/demo.sh'], {
      cwd: root,
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
    });
    expect(r.stderr).not.toContain('demo: expected');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/grant\s+vpn\s+frank\s+ops\s+new\s+2026-11-28T14:00:00Z\s+done/);
    expect(r.stdout).toMatch(/vpn\/frank-ops-\S+\s+frank\s+vpn\s+ops\s+2026-11-28T14:00:00Z\s+3h 30m/);
    expect(r.stdout).toContain('Revoked-Grant: vpn/erin-ops');
    expect(r.stdout).toContain('ACCESS STILL PRESENT');
    expect(r.stdout).toContain('vpn profiles now: []');
    expect(r.stderr).toContain('grant lasts 2d, over the 8h maximum of role "readonly" on "prod-db"');
    // Approval is read from (a loopback stand-in for) GitHub: nothing written by hand is trusted.
    expect(r.stdout).toContain(
      'refused: grants/vpn/mallory-ops.yaml: no merged pull request brought this grant (pushed directly to main?)',
    );
    expect(r.stdout).toMatch(/approved\s+vpn\/frank-ops-\S+\s+frank/);
    expect(r.stdout).not.toContain('\u001b[');
  }, 60_000);
});
