import * as core from '@actions/core';
import { resolve } from 'node:path';
import { GitRepo } from '../adapters/git/repo.js';
import { createOctokit, MAX_GITHUB_WRITES, OctokitAccessRepo } from '../adapters/github.js';
import { slackWebhook } from '../adapters/webhook.js';
import { WorkTree } from '../adapters/work-tree.js';
import { formatDuration } from '../model/duration.js';
import { evidencePublicKeyFromEnv } from '../policy/evidence-signature.js';
import { alertsAfterReap } from '../reaper/alerts.js';
import { renderTemplate } from '../render/render.js';
import { templateSource } from '../render/template-source.js';
import { revokedView } from '../reaper/reap-expired.js';
import { upsertPullRequest } from '../usecases/github-threads.js';
import { reapRepository } from '../usecases/reap-repository.js';
import { AlertSender } from '../usecases/send-alerts.js';
import type { ActionInputs } from './inputs.js';
import { runnerLog } from './log.js';
import { annotate } from './report.js';

/** `command: reap` on schedule: revoke expired grants, commit and push the cleanup, alert. */
export async function runReap(inputs: ActionInputs, now: Date): Promise<void> {
  const git = await GitRepo.open(resolve(inputs.repoPath));
  const log = { log: (m: string) => runnerLog.warning(m), debug: (m: string) => runnerLog.debug(m) };
  const repo = new OctokitAccessRepo(
    createOctokit({ token: inputs.token, baseUrl: inputs.apiUrl, ...log }),
    inputs.owner,
    inputs.repo,
  );
  const admin = createOctokit({
    token: inputs.adminToken ?? inputs.token,
    baseUrl: inputs.apiUrl,
    ...log,
    writeConcurrency: Math.min(inputs.concurrency, MAX_GITHUB_WRITES),
  });
  const push = inputs.push && !inputs.dryRun && (await git.hasRemote('origin'));
  const templates = templateSource(new WorkTree(git.root));
  // Notes are judged with the key the workflow holds, never only with the one main carries.
  const evidenceKey = evidencePublicKeyFromEnv(process.env);

  runnerLog.startGroup(inputs.dryRun ? 'Reap (dry run)' : 'Revoke expired grants, then commit');
  const report = await reapRepository(
    git,
    { now, dryRun: inputs.dryRun, push, concurrency: inputs.concurrency },
    {
      admin,
      ...(evidenceKey ? { evidenceKey } : {}),
      pulls: { upsert: (head, base, title, body) => upsertPullRequest(repo, head, base, title, body) },
    },
  );
  for (const r of report.revoked)
    runnerLog.info(`revoked ${r.grant.id} (${formatDuration(r.lagMs)} after expiry)`);
  for (const p of report.problems) runnerLog.error(p);
  runnerLog.endGroup();

  if (!inputs.dryRun) {
    const { warnings, overdue } = alertsAfterReap(now, report);
    const webhookUrl = process.env[inputs.webhookEnv];
    const sent = await new AlertSender(
      repo,
      (name, view) => renderTemplate(name, view, templates),
      webhookUrl ? slackWebhook(webhookUrl) : undefined,
    ).send(now, warnings, overdue, report.apply.policies);
    runnerLog.info(
      `alerts: ${sent.warningsPosted} expiry warning(s) posted, ${sent.warningsAlreadySent} already sent`,
    );
    for (const e of sent.errors) runnerLog.warning(`alert not sent: ${e}`);
  }

  annotate(
    report.failed.map((f) => ({
      file: f.grant.file,
      line: 1,
      column: 1,
      message: `expired grant not revoked: ${f.reason}`,
      rule: 'revoke',
      severity: 'error' as const,
    })),
  );
  await core.summary
    .addRaw(
      await renderTemplate(
        'reap-summary.md',
        {
          dryRun: inputs.dryRun,
          revoked: report.revoked.map((r) => revokedView(r, now)),
          failed: report.failed.map((f) => ({ grant: f.grant.id, reason: f.reason })),
          problems: report.problems,
          ...(report.commit ? { commit: report.commit.slice(0, 7) } : {}),
          pushed: report.pushed,
          ...(report.pullRequest ? { pullRequest: String(report.pullRequest.number) } : {}),
        },
        templates,
      ),
      true,
    )
    .write();
  core.setOutput('revoked', String(report.revoked.length));
  if (report.failed.length > 0 || report.problems.length > 0)
    throw new Error(
      `${report.failed.length} expired grant(s) could not be revoked; ${report.problems.length} problem(s) (see the summary)`,
    );
}
