import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIST_CLI } from '../support/cli.js';
import { FakeGitHub } from '../support/github-server.js';
import { mergePullRequest } from '../support/merge.js';
import { tempRepo, type TempRepo } from '../support/repo.js';

/**
 * Output to a closed pipe ends quietly: the committed bundle, its stdout read by something that stops
 * early (`| head`), on a repo whose output of each command is far beyond a pipe's 64 KiB buffer.
 */
const GRANTS = 1200;
const NOW = '2026-11-28T12:00:00Z';
let gh: FakeGitHub;
let repo: TempRepo;

beforeAll(async () => {
  gh = await FakeGitHub.start({ token: 'tok' });
  repo = tempRepo(
    {
      'policies/team.yaml': `target: { name: oncall, type: github-team, org: acme, team: oncall }
roles:
  member: { maxDuration: 1d, approvals: 1, approvers: [bob] }
`,
    },
    { git: true },
  );
  const perPr = 100;
  for (let pr = 0; pr * perPr < GRANTS; pr++) {
    const files: Record<string, string> = {};
    for (let i = pr * perPr; i < (pr + 1) * perPr; i++)
      files[`grants/user-with-a-long-name-${i}.yaml`] =
        `user: user-with-a-long-name-${i}\ntarget: oncall\nrole: member\nreason: closed pipe ${i}\nexpiresAt: 2026-11-28T20:00:00Z\n`;
    mergePullRequest(repo, gh, { number: pr + 1, author: 'requester', files, reviews: [{ user: 'bob' }] });
  }
}, 120_000);
afterAll(async () => {
  await gh.stop();
  repo.cleanup();
});

interface Cut {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  read: number;
}

/** Runs the CLI with stdout read until `keep` bytes arrived (0: closed before any), then closed. */
function runCut(args: string[], keep: number): Promise<Cut> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [DIST_CLI, ...args], {
      cwd: repo.dir,
      env: {
        PATH: process.env.PATH,
        GITHUB_TOKEN: 'tok',
        GITHUB_REPOSITORY: 'acme/access',
        GITHUB_API_URL: gh.url,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let read = 0;
    let stderr = '';
    if (keep === 0) child.stdout.destroy();
    else
      child.stdout.on('data', (d: Buffer) => {
        read += d.length;
        if (read >= keep) child.stdout.destroy();
      });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stderr, read });
    });
  });
}

const STACK = /EPIPE|Error|\n\s+at /;
const big: [string, string[]][] = [
  ['audit --format json', ['audit', '--format', 'json', '--now', NOW]],
  ['status --json', ['status', '--json', '--now', NOW]],
  ['apply --dry-run', ['apply', '--dry-run', '--now', NOW]],
];
const commands: [string, string[]][] = [
  ...big,
  ['audit (text)', ['audit', '--now', NOW]],
  ['validate --json', ['validate', '--json', '--now', NOW]],
  ['--help', ['--help']],
];

describe('a closed stdout', () => {
  it.each(big)(
    '%s: writes more than a pipe holds when read to the end',
    async (_name, args) => {
      const r = await runCut(args, Number.MAX_SAFE_INTEGER);
      expect(r.stderr).not.toMatch(STACK);
      expect(r.code).toBe(0);
      expect(r.read).toBeGreaterThan(1 << 16);
    },
    60_000,
  );

  it.each(commands)(
    '%s: ends quietly with exit 0 when the reader stops after the first bytes',
    async (_n, args) => {
      const r = await runCut(args, 100);
      expect(r.stderr).not.toMatch(STACK);
      expect({ code: r.code, signal: r.signal }).toEqual({ code: 0, signal: null });
    },
    60_000,
  );

  it.each(commands)(
    '%s: ends quietly with exit 0 when the reader is gone before any output',
    async (_n, args) => {
      const r = await runCut(args, 0);
      expect(r.stderr).not.toMatch(STACK);
      expect({ code: r.code, signal: r.signal }).toEqual({ code: 0, signal: null });
    },
    60_000,
  );

  it('`audit --format json | head` in a shell with pipefail exits 0', async () => {
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
      const child = spawn(
        'bash',
        [
          '-c',
          `set -o pipefail; "${process.execPath}" "${DIST_CLI}" audit --format json --now ${NOW} | head -c 200 >/dev/null`,
        ],
        { cwd: repo.dir, env: { PATH: process.env.PATH }, stdio: ['ignore', 'ignore', 'pipe'] },
      );
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stderr }));
    });
    expect(r).toEqual({ code: 0, stderr: '' });
  }, 60_000);
});
