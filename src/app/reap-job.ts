import { ConfigError, errorMessage } from '../model/errors.js';
import { trackBreakGlass, type BreakGlassTracking } from '../usecases/break-glass-issues.js';
import { alertsAfterReap } from '../reaper/alerts.js';
import { reapExpired, type ReapReport } from '../reaper/reap-expired.js';
import { renderTemplate } from '../render/render.js';
import { applyGrants } from '../usecases/apply-grants.js';
import { AlertSender, type AlertResult } from '../usecases/send-alerts.js';
import { slackWebhook } from '../adapters/webhook.js';
import { writeShard } from './reap-shards.js';
import { cleanupCommit } from './cleanup-commit.js';
import type { Wiring } from './wiring.js';

export interface ReapJobOptions {
  dryRun: boolean;
  /**
   * Push the cleanup commit: `required` (the CLI's --push: no origin is a usage error), `if-origin`
   * (the Action: push when the checkout has a remote), or `no`.
   */
  push: 'required' | 'if-origin' | 'no';
  /** The branch the cleanup belongs on; default: the remote's default branch. */
  branch?: string;
  /** Told after each revoke call. */
  onProgress?: (done: number, total: number) => void;
  /** Only these targets (a shard of a sharded reap). */
  only?: readonly string[];
  /**
   * A shard: revoke only, commit nothing, and write what was revoked to this file for the job that
   * merges every shard's cleanup into one commit (`reap --merge-shards`).
   */
  shardOut?: string;
}

export interface ReapJobResult {
  report: ReapReport;
  /** Undefined on a dry run. */
  alerts?: AlertResult;
  /** Break-glass grants: reviews recorded, early revocations announced. */
  breakGlass?: BreakGlassTracking;
}

/**
 * `reap`: revoke every ended grant on its target, then commit (and push) the removal of the files whose
 * revocation succeeded, then alert. Which live grants still justify access is decided from recorded
 * evidence only: taking access away never needs GitHub, and a grant without evidence is undecided
 * (its access kept), never refused.
 */
export async function reapJob(w: Wiring, opts: ReapJobOptions): Promise<ReapJobResult> {
  const { remote, repo, options, deps } = await cleanupCommit(w, opts.branch);
  if (opts.push === 'required' && !opts.dryRun && !remote)
    throw new ConfigError('--push needs a remote named origin');
  const push = opts.push !== 'no' && !opts.dryRun && remote !== undefined;
  const finder = await w.approvals('keep');
  const report = await reapExpired(
    {
      now: w.config.now,
      dryRun: opts.dryRun,
      push,
      ...options,
      ...(opts.shardOut !== undefined ? { record: false } : {}),
    },
    {
      ...deps,
      revokeExpired: async () =>
        applyGrants(
          {
            now: w.config.now,
            dryRun: opts.dryRun,
            concurrency: w.config.concurrency,
            mode: 'reap',
            ...(opts.only ? { only: opts.only } : {}),
            ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
          },
          {
            work: w.work,
            registry: w.registry,
            // Keeping access a live grant justifies: recorded evidence is enough (a note never grants).
            approvals: finder,
            createTarget: await w.targets(),
            history: w.grantHistory(),
          },
        ),
    },
  );
  const evidenceProblem = w.evidenceProblem();
  if (evidenceProblem) report.problems.push(evidenceProblem);
  if (opts.shardOut !== undefined && !opts.dryRun) await writeShard(w, opts.shardOut, opts.only, report);
  if (opts.dryRun) return { report };
  const { warnings, overdue, reviewUnread } = alertsAfterReap(w.config.now, report);
  const alerts = await new AlertSender(
    repo,
    (name, view) => renderTemplate(name, view, w.templates),
    w.config.webhookUrl ? slackWebhook(w.config.webhookUrl) : undefined,
  ).send(w.config.now, warnings, overdue, report.apply.policies, reviewUnread);
  const revokedEarly = new Map(
    report.apply.cutShort
      .filter((c) => report.revoked.some((r) => r.breakGlassUnreviewed && r.grant.id === c.grant.id))
      .map((c) => [c.grant.id, c.reason]),
  );
  const result: ReapJobResult = { report, alerts };
  if ([...report.apply.approved.values()].some((v) => v.approved && v.evidence.breakGlass)) {
    // Reviews seen on GitHub are recorded for auditors (a record: every run reads GitHub again).
    await finder.recordEvidence(push ? remote : undefined).catch((err: unknown) => {
      report.problems.push(`break-glass reviews were not recorded as notes: ${errorMessage(err)}`);
    });
    result.breakGlass = await trackBreakGlass(
      repo,
      {
        now: w.config.now,
        ...report.apply,
        revokedEarly,
        reaped: new Set(report.commit ? report.revoked.map((r) => r.grant.id) : []),
      },
      (name, view) => renderTemplate(name, view, w.templates),
      w.config.webhookUrl ? slackWebhook(w.config.webhookUrl) : undefined,
    );
  }
  return result;
}
