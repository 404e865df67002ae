import { copyFileSync, cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/action/inputs.js';
import { NOW } from '../support/builders.js';
import { DIST_ACTION } from '../support/cli.js';
import { run } from '../support/process.js';

/**
 * The committed bundles, copied where no node_modules can be found, run with plain node on this
 * repository's own example access repo.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
let dir: string;
let cliCopy: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'grantops-dist-'));
  cliCopy = join(dir, 'bin', 'cli.js');
  cpSync(join(ROOT, 'grants'), join(dir, 'example', 'grants'), { recursive: true });
  cpSync(join(ROOT, 'policies'), join(dir, 'example', 'policies'), { recursive: true });
  cpSync(join(ROOT, 'dist'), join(dir, 'bin'), { recursive: true });
  copyFileSync(DIST_ACTION, join(dir, 'bin', 'index.js'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('dist/cli.js', () => {
  it("validates the repo's own example with plain node and no node_modules", async () => {
    const r = await run(
      process.execPath,
      [cliCopy, '--repo', 'example', 'validate', '--json', '--now', NOW],
      {
        cwd: dir,
        env: { PATH: process.env.PATH },
      },
    );
    expect(r.stderr).not.toContain('Cannot find');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, grants: 4, errors: [] });
  });

  it('reports status of every example grant', async () => {
    const r = await run(process.execPath, [cliCopy, '--repo', 'example', 'status', '--json'], {
      cwd: dir,
      env: { PATH: process.env.PATH, GRANTOPS_NOW: NOW },
    });
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { grants: { id: string; state: string }[] };
    expect(Object.fromEntries(doc.grants.map((g) => [g.id, g.state]))).toEqual({
      'vpn/erin-ops': 'pending',
      // Each has more than a quarter of its role's maxDuration left: a fresh grant is not "expiring".
      'prod-db/alice-readonly-inc4211': 'active',
      'payments-repo/dave-push': 'active',
      'platform-team/carol-member': 'active',
    });
  });

  it('exits 2 on a usage error and says why', async () => {
    const r = await run(process.execPath, [cliCopy, 'validate', '--bogus'], {
      cwd: dir,
      env: { PATH: process.env.PATH },
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown option '--bogus'");
  });

  it('the Action bundle starts without node_modules and fails cleanly on a bad input', async () => {
    const r = await run(process.execPath, [join(dir, 'bin', 'index.js')], {
      cwd: dir,
      env: { PATH: process.env.PATH, INPUT_COMMAND: 'explode', GITHUB_WORKSPACE: join(dir, 'example') },
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      `::error::input "command" must be one of ${COMMANDS.join(', ')}; got "explode"`,
    );
  });
});
