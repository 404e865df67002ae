// Report benchmark (issue 16): the dashboard of the audit benchmark's history (100,000 commits over
// 20,000 grants, 20,000 users), read at an instant when all 20,000 grants are on main; the CLI cold,
// writing the history cache, and warm with nothing new (the scheduled run); then the page in chromium.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const COMMITS = Number(process.env.BENCH_AUDIT_COMMITS ?? 100_000);
const GRANTS = Number(process.env.BENCH_AUDIT_GRANTS ?? 20_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const CHROMIUM = process.env.GRANTOPS_CHROMIUM ?? '/usr/bin/chromium';
// The end of the generator's fourth round: every grant is on main (round five removes them all).
const NOW = new Date(Date.parse('2026-01-01T00:00:00Z') + ((GRANTS * 4 - 1) * 60 + 1800) * 1000)
  .toISOString()
  .replace('.000Z', 'Z');

const here = fileURLToPath(new URL('.', import.meta.url));
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

export async function benchReport(): Promise<void> {
  const history = join(tmpdir(), 'grantops-bench', `audit-${COMMITS}-${GRANTS}`);
  if (!existsSync(join(history, '.git'))) {
    // The audit benchmark generates the history (once; a few minutes).
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(here, 'run.ts')], {
      env: { ...process.env, BENCH_ONLY: 'audit', BENCH_RUNS: '1', BENCH_AUDIT_PARTS: 'warm' },
      stdio: 'inherit',
    });
    if (r.status !== 0) throw new Error('could not generate the audit history');
  }
  const scratch = mkdtempSync(join(tmpdir(), 'grantops-bench-report-'));
  const repo = join(scratch, 'repo');
  spawnSync('git', ['clone', '-q', history, repo]);
  const report = (out: string, ...flags: string[]) => {
    const t = performance.now();
    const r = spawnSync(
      process.execPath,
      [join(here, '..', 'dist', 'cli.js'), '--now', NOW, 'report', '--out', out, ...flags],
      { cwd: repo, encoding: 'utf8', env: { ...process.env, GRANTOPS_DEBUG: '1' } },
    );
    if (r.status !== 0) throw new Error(`report failed: ${r.stderr}`);
    const phases = JSON.parse(/report ms: (\{.*\})/.exec(r.stderr)?.[1] ?? '{}') as Phases;
    return { ms: performance.now() - t, cache: /history cache: (\{.*\})/.exec(r.stderr)?.[1] ?? '', phases };
  };
  const runs = {
    cold: [] as Run[],
    write: [] as Run[],
    warm: [] as Run[],
    memory: [] as Run[],
    again: [] as Run[],
    help: [] as number[],
  };
  let n = 0;
  const fresh = () => join(scratch, `site-${n++}`);
  // This machine's disk makes creating thousands of files slow and erratic (ext4 with discard on a
  // shared virtual disk): the same run into tmpfs shows what grantops itself costs.
  const memory = existsSync('/dev/shm') ? mkdtempSync('/dev/shm/grantops-bench-report-') : undefined;
  for (let i = 0; i < RUNS; i++) {
    runs.cold.push(report(fresh(), '--no-cache'));
    rmSync(join(repo, '.git', 'grantops'), { recursive: true, force: true });
    runs.write.push(report(fresh()));
    const warm = report(fresh());
    if (!warm.cache.includes('"mode":"warm","commitsRead":0')) throw new Error(`not warm: ${warm.cache}`);
    runs.warm.push(warm);
    if (memory) {
      runs.memory.push(report(join(memory, `site-${i}`)));
      rmSync(join(memory, `site-${i}`), { recursive: true, force: true });
    }
    const t = performance.now();
    spawnSync(process.execPath, [join(here, '..', 'dist', 'cli.js'), '--help'], { cwd: repo });
    runs.help.push(performance.now() - t);
    // Over the files of an earlier run: once, it takes a minute on this disk.
    if (i === 0) runs.again.push(report(join(scratch, 'site-0')));
  }
  if (memory) rmSync(memory, { recursive: true, force: true });
  const site = join(scratch, 'site-0');
  const mb = (f: string) => (statSync(join(site, f)).size / 1e6).toFixed(1);
  console.log(
    `\nreport: ${COMMITS} commits, ${GRANTS} grants and users, --now ${NOW}; median of ${RUNS}; load average ${loadavg()[0]!.toFixed(1)} on this shared machine`,
  );
  console.log(
    `index.html ${mb('index.html')} MB, calendar.ics ${mb('calendar.ics')} MB, ${readdirSync(join(site, 'calendars')).length} user calendars`,
  );
  console.log(
    '| run (whole CLI process, dist/cli.js) | wall | read history and policies | model | render and write the files |',
  );
  console.log('| --- | ---: | ---: | ---: | ---: |');
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  const row = (name: string, xs: Run[]) =>
    console.log(
      `| ${name} | ${s(med(xs.map((x) => x.ms)))} | ${s(med(xs.map((x) => x.phases.read)))} | ${s(med(xs.map((x) => x.phases.model)))} | ${s(med(xs.map((x) => x.phases.write)))} |`,
    );
  row('cold, `--no-cache`', runs.cold);
  row('cold, writing the history cache', runs.write);
  row('warm, no new commits, into a new directory (the scheduled run)', runs.warm);
  if (memory) row('same, into a new directory in memory (tmpfs)', runs.memory);
  row('warm, no new commits, over the last run’s files (one run)', runs.again);
  console.log(`| \`grantops --help\`, whole process | ${s(med(runs.help))} | | | |`);
  await browser(join(site, 'index.html'));
  rmSync(scratch, { recursive: true, force: true });
}

interface Phases {
  read: number;
  model: number;
  write: number;
}
interface Run {
  ms: number;
  cache: string;
  phases: Phases;
}

/** The page in chromium: time until the tables are drawn, and a filter and a page turn on the largest. */
async function browser(file: string): Promise<void> {
  if (!existsSync(CHROMIUM)) return void console.log(`(no browser at ${CHROMIUM}: page not measured)`);
  const { chromium } = await import('playwright-core');
  const b = await chromium.launch({ executablePath: CHROMIUM });
  const load: number[] = [];
  const filter: number[] = [];
  const next: number[] = [];
  let heap = 0;
  for (let i = 0; i < RUNS; i++) {
    const page = await b.newPage();
    const t = performance.now();
    await page.goto(pathToFileURL(file).href);
    await page.waitForSelector('html[data-ready="true"]');
    load.push(performance.now() - t);
    // Synchronous redraws: timed inside the page.
    filter.push(
      await page.evaluate(`(() => {
        const input = document.getElementById('t-overdue-filter');
        const t = performance.now();
        input.value = 'u1999';
        input.dispatchEvent(new Event('input'));
        const ms = performance.now() - t;
        input.value = '';
        input.dispatchEvent(new Event('input'));
        return ms;
      })()`),
    );
    next.push(
      await page.evaluate(`(() => {
        const button = [...document.querySelectorAll('#t-overdue button')].find((b) => b.textContent === 'Next page');
        const t = performance.now();
        button.click();
        return performance.now() - t;
      })()`),
    );
    heap = await page.evaluate('performance.memory ? performance.memory.usedJSHeapSize / 1e6 : 0');
    await page.close();
  }
  await b.close();
  console.log('\n| the page in chromium (file://) | median |');
  console.log('| --- | ---: |');
  console.log(`| open until every table is drawn (100 rows a page) | ${med(load).toFixed(0)} ms |`);
  console.log(`| filter the 19,580-row overdue table | ${med(filter).toFixed(0)} ms |`);
  console.log(`| next page of it | ${med(next).toFixed(0)} ms |`);
  console.log(`| JS heap in use | ${heap.toFixed(0)} MB |`);
}
