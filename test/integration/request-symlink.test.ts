import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { NOW, POLICIES } from '../support/builders.js';
import { cli } from '../support/cli.js';
import { tempRepo, type TempRepo } from '../support/repo.js';

/** `request` writes only into real folders of the repository, as the loader reads only real files. */
let repo: TempRepo;
let outside: string;
afterEach(() => {
  repo?.cleanup();
  rmSync(outside, { recursive: true, force: true });
});

const request = (dir: string) =>
  cli(
    dir,
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
    'INC-9 locks',
    '--ticket',
    'INC-9',
  );

describe('grantops request', () => {
  it.each([
    ['grants/', 'grants'],
    ['grants/<target>', 'grants/prod-db'],
  ])('refuses to write through a symlinked %s folder', async (_what, link) => {
    outside = mkdtempSync(join(tmpdir(), 'grantops-outside-'));
    repo = tempRepo({ ...POLICIES, [link]: { symlink: outside } });
    const r = await request(repo.dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${link} is a symbolic link`);
    expect(r.stdout).toBe('');
    expect(readdirSync(outside, { recursive: true })).toEqual([]);
  });

  it('still creates the folders it needs, and never overwrites', async () => {
    outside = mkdtempSync(join(tmpdir(), 'grantops-outside-'));
    repo = tempRepo(POLICIES);
    const first = await request(repo.dir);
    const second = await request(repo.dir);
    expect([first.code, second.code]).toEqual([0, 0]);
    expect([first.stdout.trim(), second.stdout.trim()]).toEqual([
      'grants/prod-db/alice-readonly-20261128-1200.yaml',
      'grants/prod-db/alice-readonly-20261128-1200-2.yaml',
    ]);
  });
});
