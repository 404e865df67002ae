import * as core from '@actions/core';
import { resolve } from 'node:path';
import { GitRepo } from '../adapters/git/repo.js';
import { createOctokit, MAX_GITHUB_WRITES, OctokitAccessRepo } from '../adapters/github.js';
import { WorkTree } from '../adapters/work-tree.js';
import { evidenceSignerFromEnv, loadEvidenceVerifier } from '../policy/evidence-signature.js';
import { SchemaRegistry } from '../policy/schema-registry.js';
import { applyJson, applyRows } from '../render/apply-view.js';
import { renderTemplate } from '../render/render.js';
import { createTarget } from '../targets/registry.js';
import { applyGrants } from '../usecases/apply.js';
import { gitGrantHistory } from '../usecases/audit.js';
import { ApprovalFinder } from '../usecases/find-approvals.js';
import { syncIssues } from '../usecases/github-threads.js';
import { fixedClock } from '../ports/clock.js';
import type { ActionInputs } from './inputs.js';
import { runnerLog } from './log.js';
import { annotate, templateSource } from './report.js';

/** `command: apply` on push to main: verify approvals, reconcile targets, record evidence, report. */
export async function runApply(inputs: ActionInputs, now: Date): Promise<void> {
  const git = await GitRepo.open(resolve(inputs.repoPath));
  const octokit = createOctokit({
    token: inputs.token,
    baseUrl: inputs.apiUrl,
    log: (m) => runnerLog.warning(m),
    debug: (m) => runnerLog.debug(m),
    writeConcurrency: Math.min(inputs.concurrency, MAX_GITHUB_WRITES),
  });
  const admin = inputs.adminToken
    ? createOctokit({
        token: inputs.adminToken,
        baseUrl: inputs.apiUrl,
        log: (m) => runnerLog.warning(m),
        debug: (m) => runnerLog.debug(m),
        writeConcurrency: Math.min(inputs.concurrency, MAX_GITHUB_WRITES),
      })
    : octokit;
  const repo = new OctokitAccessRepo(octokit, inputs.owner, inputs.repo);
  const verifyEvidence = await loadEvidenceVerifier(new WorkTree(git.root));
  const finder = new ApprovalFinder(git, repo, fixedClock(now), new SchemaRegistry(), {
    concurrency: inputs.concurrency,
    ...evidenceSignerFromEnv(process.env),
    ...(verifyEvidence ? { verifyEvidence } : {}),
  });
  // Evidence recorded by earlier runs lives in refs/notes/grantops, which a checkout does not fetch.
  const remote = (await git.hasRemote('origin')) ? 'origin' : undefined;
  if (remote) await git.fetchNotes(remote);

  runnerLog.startGroup(inputs.dryRun ? 'Plan (dry run)' : 'Plan and apply');
  const report = await applyGrants(
    {
      now,
      dryRun: inputs.dryRun,
      concurrency: inputs.concurrency,
      ...(inputs.overrideGuard ? { overrideGuard: true } : {}),
    },
    {
      work: new WorkTree(git.root),
      registry: new SchemaRegistry(),
      approvals: finder,
      createTarget: (policy) => createTarget(policy, { repoRoot: git.root, octokit: admin }),
      // State-based: what grants no longer on main gave is found from history, not from this push.
      history: gitGrantHistory(git),
    },
  );
  for (const row of applyRows(report)) {
    runnerLog.info(
      `${row.kind} ${row.target} ${row.user} ${row.entitlement} (${row.reason}): ${row.result}${row.error ? `: ${row.error}` : ''}`,
    );
  }
  runnerLog.endGroup();

  if (!inputs.dryRun) {
    const n = await finder.recordEvidence(remote);
    if (n > 0) runnerLog.info(`recorded approval evidence on ${n} commit(s) in refs/notes/grantops`);
  }

  annotate(report.invalid);
  annotate(
    report.refused.map((r) => ({
      file: r.grant.file,
      line: 1,
      column: 1,
      message: `not applied: ${r.reason}`,
      rule: 'approval',
      severity: 'error' as const,
    })),
  );
  const templates = templateSource(new WorkTree(git.root));
  const json = applyJson(report, inputs.dryRun);
  await core.summary
    .addRaw(await renderTemplate('apply-summary.md', { ...json, rows: json.actions }, templates), true)
    .write();

  if (!inputs.dryRun) {
    const wanted = await Promise.all(
      report.refused.map(async (r) => {
        return {
          key: r.grant.id,
          title: `grantops: grant ${r.grant.id} was not applied (approval missing)`,
          body: await renderTemplate(
            'refused-issue.md',
            {
              grant: r.grant.id,
              file: r.grant.file,
              reason: r.reason,
              user: r.grant.user,
              target: r.grant.target,
              role: r.grant.role,
              approvals: String(r.required),
              approvers: r.eligible.join(', '),
            },
            templates,
          ),
        };
      }),
    );
    try {
      const c = await syncIssues(repo, 'refused', wanted);
      runnerLog.info(`refusal issues: ${c.created} opened, ${c.updated} updated, ${c.closed} closed`);
    } catch (err) {
      runnerLog.warning(
        `could not update refusal issues: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  }

  core.setOutput('ok', String(!report.failed));
  core.setOutput('plan', JSON.stringify(json));
  if (report.failed) {
    const failed = report.results.filter((r) => !r.ok).length;
    throw new Error(
      `apply incomplete: ${failed} action(s) failed, ${report.refused.length} grant(s) refused, ${report.plan.unobserved.length} target(s) unreachable`,
    );
  }
}
