// Reap benchmark: 1,000 expired grants on a GitHub team, the local GitHub server at 50 ms per call,
// revoked and removed in one cleanup commit pushed to a bare remote.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../src/cli/program.js';
import { FakeGitHub } from '../test/support/github-server.js';
import { tempRepo } from '../test/support/repo.js';

const GRANTS = Number(process.env.BENCH_REAP_GRANTS ?? 1000);

export async function benchReap(): Promise<void> {
  const gh = await FakeGitHub.start({ token: 'tok', latencyMs: 50 });
  const files: Record<string, string> = {
    'policies/team.yaml':
      'target: { name: oncall, type: github-team, org: acme, team: oncall }\nroles:\n  member: { maxDuration: 1d, approvals: 0 }\n',
  };
  for (let i = 0; i < GRANTS; i++) {
    files[`grants/u${i}.yaml`] =
      `user: u${i}\ntarget: oncall\nrole: member\nreason: bench ${i}\nexpiresAt: 2026-11-28T11:00:00Z\n`;
    gh.team('acme/oncall').set(`u${i}`, { login: `u${i}`, role: 'member' });
  }
  const repo = tempRepo(files, { git: true });
  const bare = mkdtempSync(join(tmpdir(), 'grantops-bench-origin-'));
  try {
    repo.git('init', '-q', '--bare', '-b', 'main', bare);
    repo.git('remote', 'add', 'origin', bare);
    repo.git('push', '-q', 'origin', 'main');
    const before = Number(repo.git('rev-list', '--count', 'main'));
    let err = '';
    const started = performance.now();
    const code = await runCli(['reap', '--push', '--now', '2026-11-28T12:00:00Z'], {
      stdout: () => undefined,
      stderr: (s) => (err += s),
      color: { stdout: false, stderr: false },
      env: { GITHUB_TOKEN: 'tok', GITHUB_REPOSITORY: 'acme/access', GITHUB_API_URL: gh.url },
      cwd: repo.dir,
    });
    const ms = performance.now() - started;
    const commits = Number(repo.git('--git-dir', bare, 'rev-list', '--count', 'main')) - before;
    if (code !== 0 || gh.team('acme/oncall').size !== 0)
      throw new Error(`reap failed (${code}): ${err.slice(0, 300)}`);
    console.log(
      `\nreap: ${GRANTS} expired grants (github-team), local GitHub server with 50 ms per call, pushed to a bare remote`,
    );
    console.log('| wall | API calls | cleanup commits | files removed | secondary-limit errors |');
    console.log('| ---: | ---: | ---: | ---: | ---: |');
    const files = repo.git('--git-dir', bare, 'ls-tree', '-r', '--name-only', 'main', 'grants/');
    console.log(
      `| ${(ms / 1000).toFixed(1)} s | ${gh.requests.length} | ${commits} | ${GRANTS - (files ? files.split('\n').length : 0)} | ${gh.secondaryLimited} |`,
    );
  } finally {
    await gh.stop();
    repo.cleanup();
    rmSync(bare, { recursive: true, force: true });
  }
}
