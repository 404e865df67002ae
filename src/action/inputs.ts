import * as core from '@actions/core';
import * as github from '@actions/github';
import { ConfigError } from '../model/errors.js';

export const COMMANDS = ['validate', 'status'] as const;
export type ActionCommand = (typeof COMMANDS)[number];

/** Everything the Action needs, read once from inputs and the event. */
export interface ActionInputs {
  command: ActionCommand;
  token: string;
  /** Access repo checkout, absolute. */
  repoPath: string;
  apiUrl: string;
  owner: string;
  repo: string;
  eventName: string;
  /** Set on pull_request events. */
  pullRequest?: { number: number; baseSha: string; baseRef?: string; headSha: string };
  /** Explicit base ref input, overrides the PR's base. */
  base?: string;
  now?: string;
}

/** Reads action inputs and the event payload; the only place that knows their names. */
export function readInputs(): ActionInputs {
  const command = core.getInput('command') || 'validate';
  if (!(COMMANDS as readonly string[]).includes(command)) {
    throw new ConfigError(`input "command" must be one of ${COMMANDS.join(', ')}; got "${command}"`);
  }
  const ctx = github.context;
  const pr = ctx.payload.pull_request as
    { number: number; base?: { sha?: string; ref?: string }; head?: { sha?: string } } | undefined;
  const base = core.getInput('base');
  const now = core.getInput('now');
  const repository = process.env.GITHUB_REPOSITORY ?? '';
  const [owner = '', repo = ''] = repository.split('/');
  return {
    command: command as ActionCommand,
    token: core.getInput('token'),
    repoPath: core.getInput('path') || process.env.GITHUB_WORKSPACE || process.cwd(),
    apiUrl: process.env.GITHUB_API_URL || 'https://api.github.com',
    owner,
    repo,
    eventName: ctx.eventName,
    ...(pr?.base?.sha && pr.head?.sha
      ? {
          pullRequest: {
            number: pr.number,
            baseSha: pr.base.sha,
            headSha: pr.head.sha,
            ...(pr.base.ref ? { baseRef: pr.base.ref } : {}),
          },
        }
      : {}),
    ...(base ? { base } : {}),
    ...(now ? { now } : {}),
  };
}
