import type { Command } from 'commander';
import { resolve } from 'node:path';
import { WorkTree } from '../adapters/work-tree.js';
import { ConfigError, type Finding } from '../model/errors.js';
import { parseTimestamp } from '../model/time.js';
import { fixedClock, systemClock } from '../ports/clock.js';
import { evidencePublicKeyFromEnv, loadEvidenceVerifier } from '../policy/evidence-signature.js';
import { type CliIo } from './output.js';

interface GlobalOptions {
  repo?: string;
  now?: string;
  json?: boolean;
}

/** What every command is given: where to write, how to set the exit code, and its run's context. */
export interface CommandTools {
  io: CliIo;
  setExit: (code: number) => void;
  /** The repo, the one instant of this run, and --json: read once per command. */
  context: (cmd: Command) => ReturnType<typeof commandContext>;
}

/** A command registers itself with commander; its action parses nothing by hand. */
export type CliCommand = (program: Command, tools: CommandTools) => void;

/** Global options of `cmd`: the repo, the instant (--now, GRANTOPS_NOW or the clock, read once), --json. */
export function commandContext(io: CliIo, cmd: Command) {
  const g = cmd.optsWithGlobals<GlobalOptions>();
  const repo = g.repo ? resolve(io.cwd, g.repo) : io.cwd;
  const nowText = g.now ?? io.env.GRANTOPS_NOW;
  let clock = systemClock;
  if (nowText !== undefined && nowText !== '') {
    const p = parseTimestamp(nowText);
    if (!p.ok) throw new ConfigError(`--now: ${p.reason}`);
    clock = fixedClock(p.date);
  }
  // One instant per command: every decision of a run is made at the same T.
  const now = clock.now();
  return { repo, now, clock: fixedClock(now), json: g.json === true };
}

/** GitHub access from the environment, as the Action and CI set it. */
export async function githubFromEnv(env: CliIo['env'], concurrency: number) {
  const [{ createOctokit, MAX_GITHUB_WRITES, OctokitAccessRepo }, { upsertPullRequest }] = await Promise.all([
    import('../adapters/github.js'),
    import('../usecases/github-threads.js'),
  ]);
  const token = env.GITHUB_TOKEN;
  const admin = env.GRANTOPS_ADMIN_TOKEN ?? token;
  const [owner, repo] = (env.GITHUB_REPOSITORY ?? '').split('/');
  const baseUrl = env.GITHUB_API_URL || 'https://api.github.com';
  const access =
    token && owner && repo
      ? new OctokitAccessRepo(createOctokit({ token, baseUrl }), owner, repo)
      : undefined;
  return {
    repo: access,
    ...(access
      ? {
          pulls: {
            upsert: (head: string, base: string, title: string, body: string) =>
              upsertPullRequest(access, head, base, title, body),
          },
        }
      : {}),
    ...(admin
      ? {
          admin: createOctokit({
            token: admin,
            baseUrl,
            writeConcurrency: Math.min(concurrency, MAX_GITHUB_WRITES),
          }),
        }
      : {}),
  };
}

export function jsonFinding(f: Finding) {
  return { file: f.file, line: f.line, column: f.column, message: f.message, rule: f.rule };
}

/** The evidence key committed in the access repo, as the finder's `verifyEvidence` option. */
export async function evidenceVerifierOf(root: string) {
  const verifyEvidence = await loadEvidenceVerifier(new WorkTree(root));
  return verifyEvidence ? { verifyEvidence } : {};
}

/** The evidence key's public half from the environment, to spread into the reaper's deps. */
export function evidenceKeyOf(env: NodeJS.ProcessEnv): { evidenceKey?: string } {
  const key = evidencePublicKeyFromEnv(env);
  return key ? { evidenceKey: key } : {};
}
