// Audit benchmark: a generated history of 100,000 commits touching 20,000 grants, against bare
// `git log --name-status` over the same history, in the same run.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const COMMITS = Number(process.env.BENCH_AUDIT_COMMITS ?? 100_000);
const GRANTS = Number(process.env.BENCH_AUDIT_GRANTS ?? 20_000);

function generate(dir: string): void {
  mkdirSync(dir, { recursive: true });
  spawnSync('git', ['init', '-q', '-b', 'main', dir]);
  const child = spawn('git', ['fast-import', '--quiet'], { cwd: dir, stdio: ['pipe', 'inherit', 'inherit'] });
  const data = (s: string) => `data ${Buffer.byteLength(s)}\n${s}\n`;
  const base = Date.parse('2026-01-01T00:00:00Z') / 1000;
  let chunk = '';
  const flush = () => {
    child.stdin.write(chunk);
    chunk = '';
  };
  for (let i = 0; i < COMMITS; i++) {
    const g = i % GRANTS;
    const round = Math.floor(i / GRANTS);
    const t = base + i * 60;
    const path = `grants/t${g % 20}/u${g}.yaml`;
    const expires = new Date((t + 4 * 3600 + round * 3600) * 1000).toISOString().replace('.000Z', 'Z');
    const content = `user: u${g}\ntarget: t${g % 20}\nrole: ops\nreason: bench ${g} round ${round}\nexpiresAt: ${expires}\n`;
    const del = round % 5 === 4;
    chunk += `commit refs/heads/main\ncommitter Bench <bench@example.test> ${t} +0000\n`;
    chunk += data(
      del
        ? `grantops: revoke 1 expired grant(s)\n\nRevoked-Grant: t${g % 20}/u${g}`
        : `grant u${g} round ${round}`,
    );
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
  child.stdin.end();
  return void spawnSync('sleep', ['0']);
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
  const baseline: number[] = [];
  const ours: { ms: number; maxRssMb: number; events: number; lifecycles: number }[] = [];
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    const r = spawnSync(
      'git',
      ['log', '--first-parent', '--name-status', 'HEAD', '--', 'grants', 'policies'],
      { cwd: dir, maxBuffer: 1 << 30 },
    );
    if (r.status !== 0) throw new Error('git log failed');
    baseline.push(performance.now() - t);
    const here = fileURLToPath(new URL('.', import.meta.url));
    const c = spawnSync(process.execPath, ['--import', 'tsx', join(here, 'audit-case.ts'), dir], {
      encoding: 'utf8',
      maxBuffer: 1 << 20,
    });
    if (c.status !== 0) throw new Error(`audit failed: ${c.stderr}`);
    ours.push(JSON.parse(c.stdout.trim().split('\n').pop() ?? '{}') as (typeof ours)[number]);
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
  const o = med(ours.map((x) => x.ms));
  const b = med(baseline);
  console.log(`\naudit: ${COMMITS} commits touching ${GRANTS} grants (first-parent history), median of 3`);
  console.log(
    '| grantops audit (+ --at, --verify) | peak RSS | events | lifecycles | `git log --name-status` | ratio |',
  );
  console.log('| ---: | ---: | ---: | ---: | ---: | ---: |');
  console.log(
    `| ${(o / 1000).toFixed(2)} s | ${med(ours.map((x) => x.maxRssMb)).toFixed(0)} MB | ${ours[0]?.events} | ${ours[0]?.lifecycles} | ${(b / 1000).toFixed(2)} s | ${(o / b).toFixed(2)}x |`,
  );
}
