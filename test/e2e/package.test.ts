import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { NOW } from '../support/builders.js';
import { run } from '../support/process.js';

/**
 * The npm package as a user gets it: `npm pack` of this repository, installed globally into a temp
 * prefix and run through `npx`, both offline. The package has no runtime dependencies (dist/cli.js
 * is a self-contained bundle), so neither needs the registry. npm runs with its cache and HOME in
 * the temp dir, so no user's ~/.npmrc or cache takes part.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
let dir: string;
let tarball: string;
let files: string[] = [];
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'grantops-package-'));
  mkdirSync(join(dir, 'home'));
  env = {
    PATH: process.env.PATH,
    HOME: join(dir, 'home'),
    npm_config_cache: join(dir, 'npm-cache'),
    npm_config_update_notifier: 'false',
    npm_config_fund: 'false',
    npm_config_audit: 'false',
  };
  cpSync(join(ROOT, 'grants'), join(dir, 'example', 'grants'), { recursive: true });
  cpSync(join(ROOT, 'policies'), join(dir, 'example', 'policies'), { recursive: true });
  const packed = await run('npm', ['pack', '--json', '--pack-destination', dir], { cwd: ROOT, env });
  expect(packed.code, packed.stderr).toBe(0);
  const [info] = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
  tarball = join(dir, info!.filename);
  files = info!.files.map((f) => f.path).sort();
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the npm package', () => {
  it('holds the CLI bundle, the schemas, the licence and the changelog, nothing of the sources', () => {
    expect(files).toEqual([
      'CHANGELOG.md',
      'LICENSE',
      'README.md',
      'dist/cli.js',
      'package.json',
      'schemas/grant.schema.json',
      'schemas/policy.schema.json',
    ]);
    expect(tarball).toMatch(new RegExp(`grantops-${version.replace(/\./g, '\\.')}\\.tgz$`));
  });

  it('declares no runtime dependency and is publishable', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(pkg.dependencies).toBeUndefined();
    expect(pkg.private).toBeUndefined();
    expect(pkg.bin).toEqual({ grantops: 'dist/cli.js' });
  });

  it('installs globally offline and runs --version and validate', async () => {
    const prefix = join(dir, 'global');
    const install = await run('npm', ['install', '--global', '--offline', '--prefix', prefix, tarball], {
      cwd: dir,
      env,
      timeoutMs: 120_000,
    });
    expect(install.code, install.stderr).toBe(0);
    // Nothing was installed beside it: the bundle is all it needs.
    expect(existsSync(join(prefix, 'lib', 'node_modules', 'grantops', 'node_modules'))).toBe(false);

    const bin = join(prefix, 'bin', 'grantops');
    const v = await run(bin, ['--version'], { cwd: dir, env });
    expect(v).toMatchObject({ code: 0, stdout: `${version}\n` });

    const r = await run(bin, ['--repo', 'example', 'validate', '--json', '--now', NOW], { cwd: dir, env });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, grants: 4, errors: [] });
  }, 120_000);

  it('runs through npx from the tarball, offline', async () => {
    // `./` makes npx read it as a package; an absolute path would be run as a program.
    const r = await run('npx', ['--yes', '--offline', `./${basename(tarball)}`, '--version'], {
      cwd: dir,
      env,
      timeoutMs: 120_000,
    });
    expect(r.stderr).toBe('');
    expect(r).toMatchObject({ code: 0, stdout: `${version}\n` });
  }, 120_000);
});

describe('action.yml for the Marketplace', () => {
  it('has a short description and branding GitHub accepts', () => {
    const action = parseDocument(readFileSync(join(ROOT, 'action.yml'), 'utf8')).toJS() as {
      name: string;
      description: string;
      branding?: { icon?: string; color?: string };
    };
    expect(action.description.length).toBeLessThan(125);
    expect(action.branding?.icon).toBe('lock');
    expect(['white', 'black', 'yellow', 'blue', 'green', 'orange', 'red', 'purple', 'gray-dark']).toContain(
      action.branding?.color,
    );
  });
});
