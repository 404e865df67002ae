// npm run bench: numbers, not pass/fail. Each measurement runs in its own process.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateAccessRepo } from './generate.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const only = process.env.BENCH_ONLY; // validate | validate-base | github | apply | apply-one-commit | reap | audit | report
const sizes = (process.env.BENCH_SIZES ?? '1000,10000,50000').split(',').map(Number);
const runs = Number(process.env.BENCH_RUNS ?? 3);
const cache = join(tmpdir(), 'grantops-bench');

interface Sample {
  grants: number;
  ms: number;
  maxRssMb: number;
}
function measure(dir: string, mode: string): Sample {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(here, 'validate-case.ts'), dir, mode], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  if (r.status !== 0) throw new Error(`${mode} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as Sample;
}
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}
function cli(dir: string): number {
  const start = performance.now();
  const r = spawnSync(
    process.execPath,
    [
      join(here, '..', 'dist', 'cli.js'),
      '--repo',
      dir,
      '--now',
      '2026-11-28T12:00:00Z',
      'validate',
      '--json',
    ],
    {
      encoding: 'utf8',
      maxBuffer: 64 << 20,
    },
  );
  if (r.status !== 0) throw new Error(`cli failed: ${r.stderr.slice(0, 500)}`);
  return performance.now() - start;
}

if (!only || only === 'validate') {
  console.log(`validate: ${runs} runs per cell, median; 20 policies; node ${process.version}`);
  console.log(
    '| grants | grantops ms | grants/s | peak RSS MB | floor ms | floor RSS MB | ratio | CLI wall ms (dist, incl. startup) |',
  );
  console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const n of sizes) {
    const dir = join(cache, `repo-${n}`);
    if (!existsSync(join(dir, 'grants'))) {
      mkdirSync(dir, { recursive: true });
      generateAccessRepo(dir, n);
    }
    const ours: Sample[] = [];
    const floor: Sample[] = [];
    const wall: number[] = [];
    for (let i = 0; i < runs; i++) {
      floor.push(measure(dir, 'floor'));
      ours.push(measure(dir, 'ours'));
      wall.push(cli(dir));
    }
    if (ours.some((s) => s.grants !== n) || floor.some((s) => s.grants !== n))
      throw new Error('not every grant was valid');
    const oMs = median(ours.map((s) => s.ms));
    const fMs = median(floor.map((s) => s.ms));
    console.log(
      `| ${n} | ${oMs.toFixed(0)} | ${Math.round((n / oMs) * 1000)} | ${median(ours.map((s) => s.maxRssMb)).toFixed(0)} | ${fMs.toFixed(0)} | ${median(floor.map((s) => s.maxRssMb)).toFixed(0)} | ${(oMs / fMs).toFixed(2)}x | ${median(wall).toFixed(0)} |`,
    );
  }
}

if (!only || only === 'github') {
  const { benchGitHub } = await import('./github.js');
  await benchGitHub();
}

if (!only || only === 'validate-base') {
  const { benchValidateBase } = await import('./validate-base.js');
  benchValidateBase(Math.max(runs, 5));
}

if (!only || only === 'apply') {
  const { benchApply } = await import('./apply.js');
  await benchApply();
}

if (!only || only === 'apply-one-commit') {
  const { benchApplyOneCommit } = await import('./apply-one-commit.js');
  benchApplyOneCommit();
}

if (!only || only === 'reap') {
  const { benchReap } = await import('./reap.js');
  await benchReap();
}

if (!only || only === 'audit') {
  const { benchAudit } = await import('./audit.js');
  await benchAudit();
}

if (!only || only === 'report') {
  const { benchReport } = await import('./report.js');
  await benchReport();
}
