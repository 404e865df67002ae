import * as core from '@actions/core';
import { resolve } from 'node:path';
import { createOctokit, OctokitAccessRepo } from '../adapters/github.js';
import { fixedClock, systemClock } from '../ports/clock.js';
import { ApprovalFinder } from '../usecases/find-approvals.js';
import { upsertStickyComment } from '../usecases/github-threads.js';
import { GitRepo } from '../adapters/git/repo.js';
import { WorkTree } from '../adapters/work-tree.js';
import { ConfigError, errorMessage, formatFinding } from '../model/errors.js';
import { formatTimestamp, parseTimestamp } from '../model/time.js';
import { SchemaRegistry } from '../policy/schema-registry.js';
import { escapeHtml } from '../render/escape.js';
import { validationView } from '../render/plan-view.js';
import { renderTemplate } from '../render/render.js';
import { reportStatus } from '../usecases/status.js';
import { validateAccessRepo } from '../usecases/validate.js';
import { runApply } from './run-apply.js';
import { runAudit } from './run-audit.js';
import { runnerLog } from './log.js';
import { runReap } from './run-reap.js';
import type { ActionInputs } from './inputs.js';
import { annotate, templateSource } from './report.js';

export const VALIDATE_MARKER = '<!-- grantops:validate -->';

/** Runs one Action command. Returns normally on success; throws to fail the step. */
export async function runAction(inputs: ActionInputs): Promise<void> {
  const now = resolveNow(inputs.now);
  switch (inputs.command) {
    case 'validate':
      return runValidate(inputs, now);
    case 'status':
      return runStatus(inputs, now);
    case 'apply':
      return runApply(inputs, now);
    case 'reap':
      return runReap(inputs, now);
    case 'audit':
      return runAudit(inputs, now);
  }
}

function resolveNow(text: string | undefined): Date {
  if (!text) return systemClock.now();
  const p = parseTimestamp(text);
  if (!p.ok) throw new ConfigError(`input "now": ${p.reason}`);
  return p.date;
}

async function runValidate(inputs: ActionInputs, now: Date): Promise<void> {
  const git = await GitRepo.open(resolve(inputs.repoPath));
  const base = inputs.base ?? inputs.pullRequest?.baseSha;
  if (base && /^[0-9a-f]{40}$/.test(base) && !(await git.hasCommit(base))) {
    // actions/checkout fetches only the merge commit by default; the base is one fetch away.
    runnerLog.info(`fetching base commit ${base}`);
    await git.fetchCommit('origin', base);
  }
  runnerLog.startGroup('Validate grants and policies');
  const report = await validateAccessRepo(
    {
      now,
      ...(base ? { base } : {}),
      ...(!inputs.base && inputs.pullRequest?.baseRef ? { baseLabel: inputs.pullRequest.baseRef } : {}),
    },
    { work: new WorkTree(git.root), registry: new SchemaRegistry(), history: git },
  );
  for (const f of report.findings) runnerLog.info(formatFinding(f));
  runnerLog.endGroup();
  annotate(report.findings);

  const templates = templateSource(base ? git.treeAt(base) : new WorkTree(git.root));
  let progress: Awaited<ReturnType<ApprovalFinder['progressOnPullRequest']>> | undefined;
  if (inputs.pullRequest && inputs.token && report.grants.length > 0) {
    // "Reviewer approval is the grant": show reviewers how far each grant is from being applied.
    const octokit = createOctokit({
      token: inputs.token,
      baseUrl: inputs.apiUrl,
      debug: (m) => runnerLog.debug(m),
    });
    const finder = new ApprovalFinder(
      git,
      new OctokitAccessRepo(octokit, inputs.owner, inputs.repo),
      fixedClock(now),
      new SchemaRegistry(),
    );
    try {
      progress = await finder.progressOnPullRequest(
        {
          number: inputs.pullRequest.number,
          author: inputs.pullRequest.author ?? '',
          headSha: inputs.pullRequest.headSha,
        },
        report.grants,
        (g) => report.policies.get(g.target)?.roles.get(g.role),
      );
    } catch (err) {
      runnerLog.warning(`could not read the reviews: ${errorMessage(err)}`);
    }
  }
  const markdown = await renderTemplate('pr-comment.md', validationView(report, now, progress), templates);
  await core.summary.addRaw(markdown, true).write();

  if (inputs.pullRequest && inputs.token) {
    const client = new OctokitAccessRepo(
      createOctokit({
        token: inputs.token,
        baseUrl: inputs.apiUrl,
        log: (m) => runnerLog.warning(m),
        debug: (m) => runnerLog.debug(m),
      }),
      inputs.owner,
      inputs.repo,
    );
    try {
      const r = await upsertStickyComment(client, inputs.pullRequest.number, VALIDATE_MARKER, markdown);
      runnerLog.info(
        `${r.created ? 'created' : 'updated'} plan comment ${r.id} on #${inputs.pullRequest.number}`,
      );
    } catch (err) {
      // A fork's read-only token cannot comment; the annotations and summary still carry the verdict.
      runnerLog.warning(`could not write the plan comment: ${errorMessage(err)}`);
    }
  }

  core.setOutput('ok', String(report.ok));
  core.setOutput('grants', String(report.grantsChecked));
  core.setOutput('errors', String(report.findings.filter((f) => f.severity === 'error').length));
  if (report.policyInvalid) throw new ConfigError('policy files are invalid');
  if (!report.ok) {
    throw new Error(`${report.findings.filter((f) => f.severity === 'error').length} grant problem(s) found`);
  }
}

async function runStatus(inputs: ActionInputs, now: Date): Promise<void> {
  const report = await reportStatus(
    { now },
    { work: new WorkTree(resolve(inputs.repoPath)), registry: new SchemaRegistry() },
  );
  annotate(report.problems.map((f) => ({ ...f, severity: 'warning' as const })));
  const rows = report.rows.map((r) => [
    r.grant.id,
    r.grant.user,
    r.grant.target,
    r.grant.role,
    r.state,
    formatTimestamp(r.grant.expiresAt),
  ]);
  await core.summary
    .addHeading('grantops status', 3)
    .addTable([
      ['Grant', 'User', 'Target', 'Role', 'State', 'Expires'].map((data) => ({ data, header: true })),
      ...rows.map((r) => r.map(escapeHtml)),
    ])
    .write();
  core.setOutput('grants', String(report.rows.length));
}
