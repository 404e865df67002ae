// Apply benchmark (dist/cli.js: run `npm run build` first): N grants landed in ONE merge commit (a bulk import, a renamed folder, an `init` of
// an existing team), `apply --dry-run` offline. The commit carries a grantops note with evidence for
// every grant, so the note and blob paths of the approval finder run for each grant (without a token
// the verdict is "undecided", which is what this run shows). Linear means 8k costs 8x 1k.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const SIZES = (process.env.BENCH_ONE_COMMIT_SIZES ?? '1000,2000,4000,8000').split(',').map(Number);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);

const git = (dir: string, ...args: string[]) => {
  const r = spawnSync('git', args, {
    cwd: dir,
    encoding: 'utf8',
    maxBuffer: 1 << 26,
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 'bench',
      GIT_AUTHOR_EMAIL: 'bench@example.com',
      GIT_COMMITTER_NAME: 'bench',
      GIT_COMMITTER_EMAIL: 'bench@example.com',
      GIT_AUTHOR_DATE: '2026-11-28T10:00:00Z',
      GIT_COMMITTER_DATE: '2026-11-28T10:00:00Z',
    },
  });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
};
const blobId = (text: string) =>
  createHash('sha1')
    .update(`blob ${Buffer.byteLength(text)}\0${text}`)
    .digest('hex');

/** An access repo whose N grants all came in one merge commit, with a note recording each. */
export function makeRepo(n: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'grantops-one-commit-'));
  git(dir, 'init', '-q', '-b', 'main');
  mkdirSync(join(dir, 'policies'));
  writeFileSync(
    join(dir, 'policies', 'team.yaml'),
    'target: { name: oncall, type: github-team, org: acme, team: oncall }\nroles:\n  member: { maxDuration: 1d, approvals: 1, approvers: [bob] }\n',
  );
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'policy');
  git(dir, 'checkout', '-q', '-b', 'import');
  mkdirSync(join(dir, 'grants', 'oncall'), { recursive: true });
  const blobs: Record<string, string> = {};
  for (let i = 0; i < n; i++) {
    const text = `user: u${i}\ntarget: oncall\nrole: member\nreason: bench ${i}\nexpiresAt: 2026-11-28T20:00:00Z\n`;
    writeFileSync(join(dir, 'grants', 'oncall', `u${i}.yaml`), text);
    blobs[`oncall/u${i}`] = blobId(text);
  }
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'import the team');
  git(dir, 'checkout', '-q', 'main');
  git(dir, 'merge', '-q', '--no-ff', '-m', 'Merge pull request #1 from acme/import', 'import');
  const merge = git(dir, 'rev-parse', 'HEAD');
  const grants = Object.fromEntries(
    Object.entries(blobs).map(([id, blob]) => [
      id,
      {
        pr: 1,
        headSha: merge,
        approvers: ['bob'],
        commit: merge,
        blob,
        userId: 1,
        verifiedAt: '2026-11-28T11:00:00Z',
      },
    ]),
  );
  writeFileSync(join(dir, '.git', 'note.json'), `${JSON.stringify({ grantops: 1, grants }, null, 2)}\n`);
  git(dir, 'notes', '--ref=refs/notes/grantops', 'add', '-F', join(dir, '.git', 'note.json'), merge);
  return dir;
}

/**
 * Wall time of the committed bundle, startup included, as a scheduled run pays it; and its CPU time
 * with git's (user + sys, from /usr/bin/time where there is one), steadier on a loaded machine.
 */
function measure(dir: string): { ms: number; cpuMs: number | undefined; refused: number } {
  const timed = existsSync('/usr/bin/time');
  const args = [
    join(here, '..', 'dist', 'cli.js'),
    '--repo',
    dir,
    '--now',
    '2026-11-28T12:00:00Z',
    'apply',
    '--dry-run',
    '--json',
  ];
  const started = performance.now();
  const r = spawnSync(
    timed ? '/usr/bin/time' : process.execPath,
    timed ? ['-f', 'cpu %U %S', process.execPath, ...args] : args,
    { encoding: 'utf8', maxBuffer: 1 << 28, env: { PATH: process.env.PATH ?? '' } },
  );
  const ms = performance.now() - started;
  // Exit 1 is expected: without a token every grant is undecided.
  const report = JSON.parse(r.stdout || '{}') as { refused?: unknown[] };
  if (!report.refused) throw new Error(`apply failed (${r.status}): ${r.stderr.slice(-500)}`);
  const cpu = /cpu ([\d.]+) ([\d.]+)\s*$/.exec(r.stderr);
  return {
    ms,
    cpuMs: cpu ? (Number(cpu[1]) + Number(cpu[2])) * 1000 : undefined,
    refused: report.refused.length,
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

export function benchApplyOneCommit(): void {
  console.log(
    `\napply: grants from one commit (apply --dry-run, offline, the merge commit noted for every grant); ${RUNS} runs, median`,
  );
  console.log('| grants | wall ms | wall / (size/1k x 1k) | CPU ms (node + git) | CPU / (size/1k x 1k) |');
  console.log('| ---: | ---: | ---: | ---: | ---: |');
  let first: { n: number; ms: number; cpuMs: number | undefined } | undefined;
  for (const n of SIZES) {
    const dir = makeRepo(n);
    try {
      const samples = Array.from({ length: RUNS }, () => measure(dir));
      if (samples.some((s) => s.refused !== n)) throw new Error(`expected ${n} undecided grants`);
      const ms = median(samples.map((s) => s.ms));
      const cpus = samples.map((s) => s.cpuMs).filter((c): c is number => c !== undefined);
      const cpuMs = cpus.length ? median(cpus) : undefined;
      first ??= { n, ms, cpuMs };
      const scale = n / first.n;
      const cpu =
        cpuMs !== undefined && first.cpuMs !== undefined
          ? `${cpuMs.toFixed(0)} | ${(cpuMs / (scale * first.cpuMs)).toFixed(2)}x`
          : '- | -';
      console.log(`| ${n} | ${ms.toFixed(0)} | ${(ms / (scale * first.ms)).toFixed(2)}x | ${cpu} |`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}
