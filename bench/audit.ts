// Audit benchmark: a generated history of 100,000 commits touching 20,000 grants, against bare
// `git log --name-status` over the same history, in the same run.
import { spawn, spawnSync } from 'node:child_process';
import { build } from 'esbuild';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const COMMITS = Number(process.env.BENCH_AUDIT_COMMITS ?? 100_000);
const GRANTS = Number(process.env.BENCH_AUDIT_GRANTS ?? 20_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);

function generate(dir: string): void {
  mkdirSync(dir, { recursive: true });
  spawnSync('git', ['init', '-q', '-b', 'main', dir]);
  const child = spawn('git', ['fast-import', '--quiet'], { cwd: dir, stdio: ['pipe', 'inherit', 'inherit'] });
  writeCommits(child.stdin, 0, COMMITS, undefined);
  return void spawnSync('sleep', ['0']);
}

/** Commits `from`..`to` of the generated pattern (the same grant extended, revoked, re-granted). */
function writeCommits(
  stdin: NodeJS.WritableStream,
  from: number,
  to: number,
  parent: string | undefined,
): void {
  const data = (s: string) => `data ${Buffer.byteLength(s)}\n${s}\n`;
  const base = Date.parse('2026-01-01T00:00:00Z') / 1000;
  let chunk = '';
  const flush = () => {
    stdin.write(chunk);
    chunk = '';
  };
  for (let i = from; i < to; i++) {
    const g = i % GRANTS;
    const round = Math.floor(i / GRANTS);
    const t = base + i * 60;
    const path = `grants/t${g % 20}/u${g}.yaml`;
    const expires = new Date((t + 4 * 3600 + round * 3600) * 1000).toISOString().replace('.000Z', 'Z');
    const content = `user: u${g}\ntarget: t${g % 20}\nrole: ops\nreason: bench ${g} round ${round}\nexpiresAt: ${expires}\n`;
    const del = round % 5 === 4;
    chunk += `commit refs/heads/main\ncommitter Bench <bench@example.test> ${t} +0000\n`;
    const fromLine = i === from && parent ? `from ${parent}\n` : '';
    chunk += data(
      del
        ? `grantops: revoke 1 expired grant(s)\n\nRevoked-Grant: t${g % 20}/u${g}`
        : `grant u${g} round ${round}`,
    );
    chunk += fromLine;
    if (i === 0) {
      chunk +=
        'M 100644 inline policies/p.yaml\n' +
        data(
          'target: { name: t0, type: exec, command: [./x] }\nroles:\n  ops: { maxDuration: 8h, approvals: 0 }\n',
        );
    }
    chunk += del ? `D ${path}\n` : `M 100644 inline ${path}\n${data(content)}`;
    if (chunk.length > 1 << 20) flush();
  }
  flush();
  stdin.end();
}

/** Lands `n` more commits of the pattern on main (the next ones a busy access repo would get). */
function appendCommits(dir: string, n: number): void {
  const count = Number(
    spawnSync('git', ['rev-list', '--count', 'main'], { cwd: dir, encoding: 'utf8' }).stdout,
  );
  const parent = spawnSync('git', ['rev-parse', 'main'], { cwd: dir, encoding: 'utf8' }).stdout.trim();
  const script: string[] = [];
  const sink = {
    write: (s: string) => void script.push(s),
    end: () => undefined,
  } as unknown as NodeJS.WritableStream;
  writeCommits(sink, count, count + n, parent);
  const r = spawnSync('git', ['fast-import', '--quiet'], { cwd: dir, input: script.join('') });
  if (r.status !== 0) throw new Error(`fast-import: ${r.stderr.toString()}`);
  spawnSync('git', ['reset', '-q', '--hard', 'main'], { cwd: dir });
}

export async function benchAudit(): Promise<void> {
  const dir = join(tmpdir(), 'grantops-bench', `audit-${COMMITS}-${GRANTS}`);
  if (
    !existsSync(join(dir, '.git', 'refs', 'heads', 'main')) &&
    !existsSync(join(dir, '.git', 'packed-refs'))
  ) {
    generate(dir);
    await new Promise((r) => setTimeout(r, 100));
    // fast-import runs asynchronously: wait until the branch exists.
    for (
      let i = 0;
      i < 600 && spawnSync('git', ['rev-parse', '--verify', '-q', 'main'], { cwd: dir }).status !== 0;
      i++
    ) {
      await new Promise((r) => setTimeout(r, 500));
    }
    spawnSync('git', ['checkout', '-q', 'main'], { cwd: dir });
  }
  // The case is bundled as the CLI is (esbuild, one ESM file) and run with plain node: what users run.
  const here = fileURLToPath(new URL('.', import.meta.url));
  // Per process: benchmarks of other checkouts may run at the same time on this machine.
  const caseFile = join(dir, '..', `audit-case-${process.pid}.mjs`);
  await build({
    // The CLI's version: the case and the CLI read each other's cache.
    define: {
      __GRANTOPS_VERSION__: JSON.stringify(
        (JSON.parse(readFileSync(join(here, '..', 'package.json'), 'utf8')) as { version: string }).version,
      ),
    },
    entryPoints: [join(here, 'audit-case.ts')],
    outfile: caseFile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'warning',
    banner: {
      js: "import { createRequire as __c } from 'node:module'; const require = __c(import.meta.url);",
    },
  });
  const rssFile = join(dir, '..', 'cli-rss.txt');
  const hook = join(dir, '..', 'rss-hook.mjs');
  writeFileSync(
    hook,
    "import { writeFileSync } from 'node:fs';\nprocess.on('exit', () => writeFileSync(process.env.BENCH_RSS_FILE, String(process.resourceUsage().maxRSS / 1024)));\n",
  );
  const timed = (args: string[], env: NodeJS.ProcessEnv = process.env, cwd = dir) => {
    const t = performance.now();
    const r = spawnSync(args[0]!, args.slice(1), { cwd, stdio: ['ignore', 'ignore', 'pipe'], env });
    if (r.status !== 0 && r.status !== 1) throw new Error(`${args.join(' ')} failed: ${r.stderr.toString()}`);
    return performance.now() - t;
  };
  const caseRun = (jobs?: number, repo = dir, cache = false, user = '', files = false) => {
    const args = [caseFile, repo, String(jobs ?? 0), cache ? 'cache' : '', user, files ? 'files' : ''];
    const c = spawnSync(process.execPath, args, {
      encoding: 'utf8',
      maxBuffer: 1 << 20,
    });
    if (c.status !== 0) throw new Error(`audit failed: ${c.stderr}`);
    return JSON.parse(c.stdout.trim().split('\n').pop() ?? '{}') as CaseResult;
  };
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
  if (process.env.BENCH_AUDIT_PARTS !== 'warm') coldTable();
  warmTable();
  rmSync(caseFile, { force: true });

  function coldTable() {
    const bare: number[] = [];
    const pathspec: number[] = [];
    const single: CaseResult[] = [];
    const auto: CaseResult[] = [];
    const cli: { ms: number; maxRssMb: number }[] = [];
    for (let i = 0; i < RUNS; i++) {
      bare.push(timed(['git', 'log', '--first-parent', '--name-status', 'HEAD']));
      pathspec.push(
        timed(['git', 'log', '--first-parent', '--name-status', 'HEAD', '--', 'grants', 'policies']),
      );
      single.push(caseRun(1));
      auto.push(caseRun());
      const ms = timed(
        [
          process.execPath,
          '--import',
          hook,
          join(here, '..', 'dist', 'cli.js'),
          'audit',
          '--format',
          'json',
          '--verify',
          '--at',
          '2026-06-01T00:00:00Z',
          '--now',
          '2027-01-01T00:00:00Z',
        ],
        { ...process.env, BENCH_RSS_FILE: rssFile },
      );
      cli.push({ ms, maxRssMb: Number(readFileSync(rssFile, 'utf8')) });
    }
    const b = med(bare);
    const row = (name: string, ms: number, rss: number) =>
      `| ${name} | ${(ms / 1000).toFixed(2)} s | ${rss.toFixed(0)} MB | ${(ms / b).toFixed(2)}x |`;
    console.log(
      `\naudit: ${COMMITS} commits touching ${GRANTS} grants (first-parent history), ${availableParallelism()} cores, median of ${RUNS}`,
    );
    console.log(
      `events ${auto[0]?.events}, lifecycles ${auto[0]?.lifecycles}, findings ${auto[0]?.findings}`,
    );
    console.log('| run | wall | peak RSS | vs bare `git log --name-status` |');
    console.log('| --- | ---: | ---: | ---: |');
    console.log(row('`git log --first-parent --name-status` (bare)', b, 0).replace('| 0 MB |', '| – |'));
    console.log(
      row('`git log … --name-status -- grants policies`', med(pathspec), 0).replace('| 0 MB |', '| – |'),
    );
    console.log(
      row(
        'load + events + `--at` + `--verify`, one git log',
        med(single.map((x) => x.ms)),
        med(single.map((x) => x.maxRssMb)),
      ),
    );
    console.log(
      row(
        `same, default (git log per core, ${Math.min(availableParallelism(), 4)})`,
        med(auto.map((x) => x.ms)),
        med(auto.map((x) => x.maxRssMb)),
      ),
    );
    console.log(
      row(
        '`node dist/cli.js audit --format json --verify --at T` (71 MB out)',
        med(cli.map((x) => x.ms)),
        med(cli.map((x) => x.maxRssMb)),
      ),
    );
  }

  /**
   * The warm path (issue 15): a clone of the same history, its cache in .git/grantops. Per run: a
   * cold load without the cache, a cold load that writes it, a load with nothing new, and one after
   * 100 more commits landed; then the whole CLI (a one-user audit: little output) warm and cold.
   */
  function warmTable() {
    const warmDir = join(dir, '..', `audit-${COMMITS}-${GRANTS}-warm`);
    rmSync(warmDir, { recursive: true, force: true });
    spawnSync('git', ['clone', '-q', dir, warmDir]);
    const runs = {
      cold: [] as CaseResult[],
      write: [] as CaseResult[],
      none: [] as CaseResult[],
      user: [] as CaseResult[],
      files: [] as CaseResult[],
      more: [] as CaseResult[],
    };
    const cliWarm: number[] = [];
    const reap: number[] = [];
    const status: number[] = [];
    const cli = join(here, '..', 'dist', 'cli.js');
    // A time inside the history: the last commit is 2026-03-11T10:39Z.
    const now = ['--now', '2026-03-11T12:00:00Z'];
    const cliMore: number[] = [];
    const help: number[] = [];
    const cliArgs = [
      process.execPath,
      join(here, '..', 'dist', 'cli.js'),
      'audit',
      '--user',
      'u1',
      '--format',
      'json',
    ];
    for (let i = 0; i < RUNS; i++) {
      rmSync(join(warmDir, '.git', 'grantops'), { recursive: true, force: true });
      runs.cold.push(caseRun(undefined, warmDir, false));
      runs.write.push(caseRun(undefined, warmDir, true));
      runs.none.push(caseRun(undefined, warmDir, true));
      runs.user.push(caseRun(undefined, warmDir, true, 'u1'));
      runs.files.push(caseRun(undefined, warmDir, true, '', true));
      cliWarm.push(timed(cliArgs, process.env, warmDir));
      // Exits 1: the bench policy's exec target (./x) cannot be read; the history is read all the same.
      reap.push(timed([process.execPath, cli, 'reap', '--dry-run', ...now], process.env, warmDir));
      status.push(timed([process.execPath, cli, 'status', ...now], process.env, warmDir));
      help.push(
        timed([process.execPath, join(here, '..', 'dist', 'cli.js'), '--help'], process.env, warmDir),
      );
      appendCommits(warmDir, 100);
      runs.more.push(caseRun(undefined, warmDir, true));
      appendCommits(warmDir, 100);
      cliMore.push(timed(cliArgs, process.env, warmDir));
    }
    for (const r of [...runs.none, ...runs.user, ...runs.files])
      if (r.cache?.mode !== 'warm' || r.cache.commitsRead !== 0)
        throw new Error(`not warm: ${JSON.stringify(r.cache)}`);
    for (const r of runs.more)
      if (r.cache?.mode !== 'warm' || r.cache.commitsRead !== 100)
        throw new Error(`not warm: ${JSON.stringify(r.cache)}`);
    const cold = med(runs.cold.map((x) => x.loadMs));
    const line = (name: string, xs: CaseResult[]) => {
      const load = med(xs.map((x) => x.loadMs));
      return `| ${name} | ${(load / 1000).toFixed(2)} s | ${(med(xs.map((x) => x.ms)) / 1000).toFixed(2)} s | ${med(xs.map((x) => x.maxRssMb)).toFixed(0)} MB | ${(load / cold).toFixed(3)}x |`;
    };
    console.log(`\naudit, warm path: the same history in a clone, cache in .git/grantops, median of ${RUNS}`);
    console.log('| run | load | load + events + `--at` + `--verify` | peak RSS | load vs cold |');
    console.log('| --- | ---: | ---: | ---: | ---: |');
    console.log(line('cold, no cache', runs.cold));
    console.log(line('cold, writing the cache', runs.write));
    console.log(line('warm, no new commits', runs.none));
    console.log(line('warm, no new commits, one user (`audit --user`)', runs.user));
    console.log(line('warm, no new commits, what reap and apply read (`grantFiles`)', runs.files));
    console.log(line('warm, 100 new commits', runs.more));
    const whole = (name: string, xs: number[]) =>
      `| ${name} (whole process) | ${(med(xs) / 1000).toFixed(2)} s | | | ${(med(xs) / med(help)).toFixed(2)}x \`--help\` |`;
    console.log(whole('`node dist/cli.js audit --user u1 --format json`, warm, nothing new', cliWarm));
    console.log(whole('same, 100 new commits', cliMore));
    console.log(whole('`node dist/cli.js reap --dry-run --now T`, warm, nothing new', reap));
    console.log(whole('`node dist/cli.js status --now T` (reads no history)', status));
    console.log(whole('`node dist/cli.js --help`', help));
  }
}

interface CaseResult {
  ms: number;
  loadMs: number;
  maxRssMb: number;
  events: number;
  lifecycles: number;
  findings: number;
  cache?: { mode: string; commitsRead: number; written: boolean };
}
