import { chmodSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliIn, STATE_FILE_SCRIPT } from './cli.js';
import { FakeGitHub } from './github-server.js';
import { mergePullRequest } from './merge.js';
import { tempRepo, type TempRepo } from './repo.js';

/** alice's grant, without its expiresAt. */
export const ALICE_GRANT = `user: alice\ntarget: vpn\nrole: ops\nreason: INC-7 restore the VPN\n`;

export interface ExtendFixture {
  gh: FakeGitHub;
  repo: TempRepo;
  /** grantops in `dir` (default: the repo) at `now`, with a token for the local GitHub server. */
  run(now: string, argv: readonly string[], dir?: string): ReturnType<typeof cliIn>;
  /** Who the exec target's state file says holds access. */
  holders(dir?: string): string[];
  stop(): Promise<void>;
}

/**
 * An access repo for extension tests: an exec target `vpn` keeping its state in a file, role `ops`
 * (maxDuration 8h, maxTotal 12h, one approval by bob), and alice's grant to 16:00 merged as pull
 * request #1 with bob's review. Real git and the local GitHub server.
 */
export async function extendFixture(): Promise<ExtendFixture> {
  const gh = await FakeGitHub.start({ token: 'tok' });
  const repo = tempRepo(
    {
      'policies/vpn.yaml': `target: { name: vpn, type: exec, command: [./scripts/vpn.cjs] }
roles:
  ops: { maxDuration: 8h, maxTotal: 12h, approvals: 1, approvers: [bob] }
`,
      'scripts/vpn.cjs': STATE_FILE_SCRIPT,
      '.gitignore': '.state.json\n',
    },
    { git: true },
  );
  chmodSync(join(repo.dir, 'scripts/vpn.cjs'), 0o755);
  mergePullRequest(repo, gh, {
    number: 1,
    author: 'alice',
    files: { 'grants/alice.yaml': `${ALICE_GRANT}expiresAt: 2026-11-28T16:00:00Z\n` },
    reviews: [{ user: 'bob' }],
  });
  const env = {
    PATH: process.env.PATH,
    GITHUB_TOKEN: 'tok',
    GITHUB_REPOSITORY: 'acme/access',
    GITHUB_API_URL: gh.url,
  };
  return {
    gh,
    repo,
    run: (now, argv, dir = repo.dir) => cliIn(dir, ['--now', now, ...argv], { env }),
    holders: (dir = repo.dir) => {
      try {
        return (JSON.parse(readFileSync(join(dir, '.state.json'), 'utf8')) as { user: string }[]).map(
          (e) => e.user,
        );
      } catch {
        return [];
      }
    },
    stop: async () => {
      await gh.stop();
      repo.cleanup();
    },
  };
}
