// `validate --base` on a 10,000-grant access repo whose last commit adds one grant (issue 15): the
// check every pull request waits for. Wall time of the built CLI, against `--help` (process start and
// loading the bundle: the floor of any run), measured in pairs so both see the same machine load.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateAccessRepo } from './generate.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const GRANTS = Number(process.env.BENCH_BASE_GRANTS ?? 10000);
/** Another build to compare (e.g. the previous release's dist/cli.js). */
const CLI = process.env.BENCH_CLI ?? join(here, '..', 'dist', 'cli.js');

function baseRepo(grants: number): string {
  const dir = join(tmpdir(), 'grantops-bench', `base-${grants}`);
  if (existsSync(join(dir, '.git'))) return dir;
  mkdirSync(dir, { recursive: true });
  generateAccessRepo(dir, grants);
  const git = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=bench', '-c', 'user.email=bench@example.com', ...args], {
      cwd: dir,
      stdio: 'ignore',
    });
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('commit', '-q', '-m', 'base');
  mkdirSync(join(dir, 'grants', 't0', 'pr'), { recursive: true });
  writeFileSync(
    join(dir, 'grants', 't0', 'pr', 'newcomer.yaml'),
    'user: newcomer\ntarget: t0\nrole: readonly\nreason: INC-1 investigate\nticket: INC-1\nexpiresAt: 2026-11-28T15:00:00Z\n',
  );
  git('add', '-A');
  git('commit', '-q', '-m', 'one more grant');
  return dir;
}

function wall(args: string[]): number {
  const start = performance.now();
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', maxBuffer: 16 << 20 });
  if (r.status !== 0)
    throw new Error(`${args.join(' ')} failed: ${r.stderr.slice(0, 500)}${r.stdout.slice(0, 500)}`);
  return performance.now() - start;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

export function benchValidateBase(runs: number): void {
  const dir = baseRepo(GRANTS);
  const args = ['--repo', dir, '--now', '2026-11-28T12:00:00Z', 'validate', '--base', 'HEAD~1'];
  wall(args); // warm the page cache and git's
  const help: number[] = [];
  const base: number[] = [];
  const ratios: number[] = [];
  for (let i = 0; i < runs; i++) {
    const h = wall(['--help']);
    const b = wall(args);
    help.push(h);
    base.push(b);
    ratios.push(b / h);
  }
  console.log(`validate --base: ${GRANTS} grants, +1 grant since HEAD~1; ${runs} pairs, median; ${CLI}`);
  console.log('| grants | `validate --base HEAD~1` ms | `--help` ms | ratio (median of pairs) |');
  console.log('| ---: | ---: | ---: | ---: |');
  console.log(
    `| ${GRANTS} | ${median(base).toFixed(0)} | ${median(help).toFixed(0)} | ${median(ratios).toFixed(2)}x |`,
  );
}
