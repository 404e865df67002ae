// Apply benchmark: 1,000 grants on a GitHub team, brought by 50 merged PRs, against the local GitHub
// server with 50 ms latency per call. Sequential (concurrency 1) and the default concurrency, same run.
import { rmSync } from 'node:fs';
import { runCli } from '../src/cli/program.js';
import { FakeGitHub } from '../test/support/github-server.js';
import { mergePullRequest } from '../test/support/merge.js';
import { tempRepo } from '../test/support/repo.js';

const GRANTS = Number(process.env.BENCH_APPLY_GRANTS ?? 1000);
const PER_PR = 20;
const LATENCY = 50;

export async function benchApply(): Promise<void> {
  const gh = await FakeGitHub.start({ token: 'tok', latencyMs: LATENCY });
  const repo = tempRepo(
    {
      'policies/team.yaml': `target: { name: oncall, type: github-team, org: acme, team: oncall }
roles:
  member: { maxDuration: 1d, approvals: 1, approvers: [bob] }
`,
    },
    { git: true },
  );
  try {
    for (let pr = 0; pr * PER_PR < GRANTS; pr++) {
      const files: Record<string, string> = {};
      for (let i = pr * PER_PR; i < Math.min(GRANTS, (pr + 1) * PER_PR); i++) {
        files[`grants/u${i}.yaml`] =
          `user: u${i}\ntarget: oncall\nrole: member\nreason: bench ${i}\nexpiresAt: 2026-11-28T20:00:00Z\n`;
      }
      mergePullRequest(repo, gh, { number: pr + 1, author: 'requester', files, reviews: [{ user: 'bob' }] });
    }
    const measure = async (concurrency: number) => {
      gh.team('acme/oncall').clear();
      repo.git('update-ref', '-d', 'refs/notes/grantops');
      const before = gh.requests.length;
      gh.peakInFlight = 0;
      const started = performance.now();
      let err = '';
      const code = await runCli(
        ['apply', '--now', '2026-11-28T12:00:00Z', '--concurrency', String(concurrency)],
        {
          stdout: () => undefined,
          stderr: (s) => (err += s),
          color: { stdout: false, stderr: false },
          env: { GITHUB_TOKEN: 'tok', GITHUB_REPOSITORY: 'acme/access', GITHUB_API_URL: gh.url },
          cwd: repo.dir,
        },
      );
      const ms = performance.now() - started;
      if (code !== 0 || gh.team('acme/oncall').size !== GRANTS)
        throw new Error(`apply failed (${code}): ${err.slice(0, 400)}`);
      return { ms, calls: gh.requests.length - before, peak: gh.peakInFlight };
    };
    const seq = await measure(1);
    const conc = await measure(16);
    console.log(
      `\napply: ${GRANTS} grants (github-team, ${GRANTS / PER_PR} merged PRs), local GitHub server with ${LATENCY} ms per call`,
    );
    console.log('| run | wall | API calls | peak in flight | secondary-limit errors |');
    console.log('| --- | ---: | ---: | ---: | ---: |');
    console.log(
      `| sequential (--concurrency 1) | ${(seq.ms / 1000).toFixed(1)} s | ${seq.calls} | ${seq.peak} | 0 |`,
    );
    console.log(
      `| --concurrency 16 (GitHub writes capped at 10) | ${(conc.ms / 1000).toFixed(1)} s | ${conc.calls} | ${conc.peak} | ${gh.secondaryLimited} |`,
    );
    console.log(
      `speed-up: ${(seq.ms / conc.ms).toFixed(1)}x; violations of GitHub's OpenAPI description: ${gh.violations.length}`,
    );
  } finally {
    await gh.stop();
    repo.cleanup();
    rmSync(repo.dir, { recursive: true, force: true });
  }
}
