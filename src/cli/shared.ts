import type { Command } from 'commander';
import { resolve } from 'node:path';
import { configFromEnvironment, type AppConfig } from '../app/config.js';
import { ConfigError, type Finding } from '../model/errors.js';
import { parseTimestamp } from '../model/time.js';
import { fixedClock, systemClock } from '../ports/clock.js';
import type { Wiring } from '../app/wiring.js';
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
  /** The run's adapters, built by the composition root from the flags and the environment. */
  wire: (cmd: Command, run?: { concurrency?: number }) => Promise<{ w: Wiring; json: boolean }>;
}

/** A command registers itself with commander; its action parses nothing by hand. */
export type CliCommand = (program: Command, tools: CommandTools) => void;

/** Global options of `cmd`: the repo, the instant (--now, GRANTOPS_NOW or the clock, read once), --json. */
export function commandContext(io: Pick<CliIo, 'cwd' | 'env'>, cmd: Command) {
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
  return { repo, now, json: g.json === true };
}

/** The run's configuration from the global flags and the environment, as the Action's CI sets it. */
export function cliConfig(
  io: Pick<CliIo, 'cwd' | 'env'>,
  cmd: Command,
  run: { concurrency?: number } = {},
): { config: AppConfig; json: boolean } {
  const ctx = commandContext(io, cmd);
  return {
    json: ctx.json,
    config: configFromEnvironment(io.env, {
      repo: ctx.repo,
      now: ctx.now,
      concurrency: run.concurrency ?? 16,
      ...(io.env.GITHUB_TOKEN ? { token: io.env.GITHUB_TOKEN } : {}),
      ...(io.env.GRANTOPS_ADMIN_TOKEN ? { adminToken: io.env.GRANTOPS_ADMIN_TOKEN } : {}),
    }),
  };
}

export function jsonFinding(f: Finding) {
  return { file: f.file, line: f.line, column: f.column, message: f.message, rule: f.rule };
}
