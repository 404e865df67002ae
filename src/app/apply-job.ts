import { errorMessage } from '../model/errors.js';
import { renderTemplate } from '../render/render.js';
import { applyGrants, type ApplyReport } from '../usecases/apply-grants.js';
import { syncIssues } from '../usecases/github-threads.js';
import { trackBreakGlass, type BreakGlassTracking } from '../usecases/break-glass-issues.js';
import type { Wiring } from './wiring.js';

export interface ApplyJobOptions {
  dryRun: boolean;
  /** Only these targets. */
  only?: readonly string[];
  overrideGuard?: boolean;
  /** Fetch approval evidence from origin before judging, and push what is recorded (the Action). */
  shareNotes?: boolean;
  /** Told after each call to a target. */
  onProgress?: (done: number, total: number) => void;
  /** Keep one issue open per grant refused for approval, closed once it is resolved (the Action). */
  trackRefusals?: boolean;
}

export interface ApplyJobResult {
  report: ApplyReport;
  /** Commits approval evidence was recorded on, and the remote it was pushed to. */
  evidence: { recorded: number; pushedTo?: string };
  refusalIssues?: { created: number; updated: number; closed: number } | { error: string };
  /** Retro-review issues of break-glass grants applied without prior approval. */
  breakGlass?: BreakGlassTracking;
}

/**
 * `apply`: fetch the evidence recorded so far, verify approvals, reconcile every target, then record
 * (and share) the evidence found; with `trackRefusals`, an issue per refused grant.
 */
export async function applyJob(w: Wiring, opts: ApplyJobOptions): Promise<ApplyJobResult> {
  const git = w.requireGit();
  // Evidence recorded by earlier runs lives in refs/notes/grantops, which a checkout does not fetch.
  const remote = opts.shareNotes ? await w.notesRemote() : undefined;
  if (remote) await git.fetchNotes(remote);
  const finder = await w.approvals('grant');
  const report = await applyGrants(
    {
      now: w.config.now,
      dryRun: opts.dryRun,
      concurrency: w.config.concurrency,
      ...(opts.only ? { only: opts.only } : {}),
      ...(opts.overrideGuard ? { overrideGuard: true } : {}),
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    },
    {
      work: w.work,
      registry: w.registry,
      approvals: finder,
      createTarget: await w.targets(),
      // State-based: what grants no longer on main gave is found from history, not from this push.
      history: w.grantHistory(),
    },
  );
  if (opts.dryRun) return { report, evidence: { recorded: 0 } };
  const recorded = await finder.recordEvidence(remote);
  const result: ApplyJobResult = {
    report,
    evidence: { recorded, ...(remote && recorded > 0 ? { pushedTo: remote } : {}) },
  };
  if ([...report.approved.values()].some((v) => v.approved && v.evidence.breakGlass)) {
    // At once, from the CLI as from the Action: the review clock runs from the merge.
    result.breakGlass = await trackBreakGlass(
      await w.accessRepo(),
      { now: w.config.now, ...report },
      (name, view) => renderTemplate(name, view, w.templates),
      undefined,
    );
  }
  const repo = opts.trackRefusals ? await w.accessRepo() : undefined;
  if (repo) {
    try {
      const wanted = await Promise.all(
        report.refused.map(async (r) => ({
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
            w.templates,
          ),
        })),
      );
      const { created, updated, closed } = await syncIssues(repo, 'refused', wanted);
      result.refusalIssues = { created, updated, closed };
    } catch (err) {
      result.refusalIssues = { error: errorMessage(err) };
    }
  }
  return result;
}
