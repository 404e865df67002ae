import * as core from '@actions/core';
import * as github from '@actions/github';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { configFromEnvironment, type AppConfig } from '../app/config.js';
import type { IssueEvent } from '../app/request-from-issue-job.js';
import { parseDuration } from '../model/duration.js';
import { ConfigError } from '../model/errors.js';
import { MAX_CONCURRENCY } from '../model/policy.js';

export const COMMANDS = [
  'validate',
  'status',
  'apply',
  'reap',
  'audit',
  'report',
  'request-from-issue',
] as const;
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
  pullRequest?: { number: number; baseSha: string; baseRef?: string; headSha: string; author?: string };
  /** Set on issues events: the issue, its author and who caused the event. */
  issue?: IssueEvent;
  /** Token allowed to manage teams and collaborators (GitHub targets); default: token. */
  adminToken?: string;
  dryRun: boolean;
  /** audit: run the compliance check. */
  verify: boolean;
  /** audit: who had access at this instant. */
  auditAt?: string;
  /** report: directory the site is written to (relative to the working directory). */
  reportOut: string;
  /** report: read the targets for drift. */
  observe: boolean;
  /** audit --verify: how long access may outlive expiresAt (ms). */
  toleranceMs: number;
  /** reap: push the cleanup commit (default true). */
  push: boolean;
  /** reap: name of the environment variable holding the webhook URL. */
  webhookEnv: string;
  /** apply, reap: only these targets (a shard of a sharded run). */
  targets?: string[];
  /** reap: a shard; revoke only and write what was revoked to this file. */
  shardOut?: string;
  /** reap: the last job of a sharded reap; one cleanup commit for these shard files. */
  mergeShards?: string[];
  concurrency: number;
  overrideGuard: boolean;
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
    | {
        number: number;
        base?: { sha?: string; ref?: string };
        head?: { sha?: string };
        user?: { login?: string };
      }
    | undefined;
  const base = core.getInput('base');
  const now = core.getInput('now');
  const repository = process.env.GITHUB_REPOSITORY ?? '';
  const [owner = '', repo = ''] = repository.split('/');
  const concurrency = Number(core.getInput('concurrency') || '16');
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > MAX_CONCURRENCY) {
    throw new ConfigError(`input "concurrency" must be a whole number from 1 to ${MAX_CONCURRENCY}`);
  }
  const adminToken = core.getInput('admin-token');
  const issue = command === 'request-from-issue' ? issueFromEvent(readEvent()) : undefined;
  return {
    command: command as ActionCommand,
    ...(adminToken ? { adminToken } : {}),
    dryRun: booleanInput('dry-run'),
    push: core.getInput('push') === '' ? true : booleanInput('push'),
    verify: booleanInput('verify'),
    reportOut: core.getInput('out') || 'grantops-report',
    observe: booleanInput('observe'),
    ...(core.getInput('at') ? { auditAt: core.getInput('at') } : {}),
    webhookEnv: core.getInput('webhook-url-env') || 'GRANTOPS_WEBHOOK_URL',
    toleranceMs: durationInput('tolerance', '1h'),
    ...listInput('targets', 'targets'),
    ...(core.getInput('shard-out') ? { shardOut: core.getInput('shard-out') } : {}),
    ...listInput('merge-shards', 'mergeShards'),
    concurrency,
    overrideGuard: booleanInput('override-guard'),
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
            ...(pr.user?.login ? { author: pr.user.login } : {}),
          },
        }
      : {}),
    ...(issue ? { issue } : {}),
    ...(base ? { base } : {}),
    ...(now ? { now } : {}),
  };
}

/**
 * The issue of an `issues` event, read from GITHUB_EVENT_PATH when it is asked for (not from
 * `github.context`, built once at import). Only typed fields are taken; the author comes from
 * `issue.user`, which GitHub sets, never from the body.
 */
export function issueFromEvent(payload: unknown): IssueEvent | undefined {
  const p = payload as {
    action?: unknown;
    issue?: {
      number?: unknown;
      body?: unknown;
      state?: unknown;
      user?: { login?: unknown; type?: unknown };
      author_association?: unknown;
      labels?: unknown;
      pull_request?: unknown;
    };
    sender?: { login?: unknown };
    repository?: { default_branch?: unknown };
    changes?: { body?: unknown };
  } | null;
  const i = p?.issue;
  if (!i || typeof i.number !== 'number' || typeof i.user?.login !== 'string') return undefined;
  const str = (v: unknown) => (typeof v === 'string' ? v : '');
  return {
    action: str(p.action),
    number: i.number,
    body: str(i.body),
    author: { login: i.user.login, type: str(i.user.type) },
    authorAssociation: str(i.author_association),
    labels: Array.isArray(i.labels)
      ? i.labels.map((l: unknown) =>
          typeof l === 'string' ? l : str((l as { name?: unknown } | null)?.name),
        )
      : [],
    state: str(i.state),
    ...(typeof p.sender?.login === 'string' ? { sender: p.sender.login } : {}),
    ...(typeof p.repository?.default_branch === 'string'
      ? { defaultBranch: p.repository.default_branch }
      : {}),
    isPullRequest: i.pull_request !== undefined && i.pull_request !== null,
    // GitHub lists what an edit changed: `changes.body` only when the body (the form) changed.
    ...(p.action === 'edited' ? { bodyEdited: p.changes?.body !== undefined } : {}),
  };
}

function readEvent(): unknown {
  const path = process.env.GITHUB_EVENT_PATH;
  if (!path) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError(`GITHUB_EVENT_PATH ${path} is not a readable JSON event (${String(err)})`);
  }
}

/**
 * The run's configuration, as the CLI would build it from the same facts: the composition root turns
 * it into the same adapters.
 */
export function actionConfig(
  inputs: ActionInputs,
  env: Readonly<Record<string, string | undefined>>,
  now: Date,
): AppConfig {
  return configFromEnvironment(
    { ...env, GITHUB_API_URL: inputs.apiUrl, GITHUB_REPOSITORY: `${inputs.owner}/${inputs.repo}` },
    {
      repo: resolve(inputs.repoPath),
      now,
      concurrency: inputs.concurrency,
      token: inputs.token,
      ...(inputs.adminToken ? { adminToken: inputs.adminToken } : {}),
      webhookEnv: inputs.webhookEnv,
    },
  );
}

/** A whitespace-separated list input, as `{ [key]: [...] }` when given. */
function listInput<K extends string>(name: string, key: K): { [k in K]?: string[] } {
  const items = core.getInput(name).split(/\s+/).filter(Boolean);
  return (items.length ? { [key]: items } : {}) as { [k in K]?: string[] };
}

function durationInput(name: string, fallback: string): number {
  const text = core.getInput(name) || fallback;
  const d = parseDuration(text);
  if (!d.ok) throw new ConfigError(`input "${name}": ${d.reason}`);
  return d.ms;
}

/** Like core.getBooleanInput, but an absent input is false (runners fill defaults; tests may not). */
function booleanInput(name: string): boolean {
  const v = core.getInput(name);
  if (v === '') return false;
  if (/^(true|True|TRUE)$/.test(v)) return true;
  if (/^(false|False|FALSE)$/.test(v)) return false;
  throw new ConfigError(`input "${name}" must be true or false; got "${v}"`);
}
