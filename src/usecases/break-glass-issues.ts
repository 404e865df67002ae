import { errorMessage } from '../model/errors.js';
import type { Grant } from '../model/grant.js';
import type { Policy } from '../model/policy.js';
import { formatTimestamp } from '../model/time.js';
import type { ApprovalVerdict } from '../policy/approval.js';
import { retroReviewKey } from '../policy/break-glass.js';
import type { AccessRepoGitHub, IssueSummary } from '../ports/access-repo.js';
import { mention } from '../render/markdown.js';
import { findRetroIssue, retroReviewMarker } from './break-glass.js';
import { ISSUE_LABEL, writtenBy } from './github-threads.js';
import type { Render } from './send-alerts.js';

export interface BreakGlassTracking {
  /** Retro-review issues opened. */
  opened: number;
  /** Reviews in time announced on their issue (which is then closed). */
  reviewed: number;
  /** Early revocations announced (issue comment, webhook). */
  revokedEarly: number;
  /** Uses that ended at their expiresAt unreviewed, announced once (issue comment, webhook). */
  neverReviewed: number;
  webhookSent: boolean;
  errors: string[];
}

/** What the apply or reap run knows of its break-glass grants. */
export interface BreakGlassRun {
  now: Date;
  approved: ReadonlyMap<string, ApprovalVerdict>;
  /** As loaded (a cut-short grant ending at its deadline). */
  grants: readonly Grant[];
  policies: ReadonlyMap<string, Policy>;
  /** Break-glass grants whose early revocation succeeded in this run (the reaper), with why. */
  revokedEarly?: ReadonlyMap<string, string>;
  /** Grants whose files this run's cleanup removed (the reaper). */
  reaped?: ReadonlySet<string>;
}

/**
 * Keeps the retro-review issue of every break-glass use in step: opened at once (apply), a comment
 * and closed once a review in time was seen (the reaper), and on an early revocation a comment, the
 * issue closed and the chat webhook told. Each comment is posted once (found again by a hidden marker
 * in grantops' own comments). Every failure is reported, none stops the run.
 */
export async function trackBreakGlass(
  gh: AccessRepoGitHub | undefined,
  run: BreakGlassRun,
  render: Render,
  webhook: ((text: string) => Promise<void>) | undefined,
): Promise<BreakGlassTracking> {
  const out: BreakGlassTracking = {
    opened: 0,
    reviewed: 0,
    revokedEarly: 0,
    neverReviewed: 0,
    webhookSent: false,
    errors: [],
  };
  let issues: Promise<IssueSummary[]> | undefined;
  let self: Promise<string> | undefined;
  const alerts: string[] = [];
  for (const grant of run.grants) {
    const v = run.approved.get(grant.id);
    if (!v?.approved || !v.evidence.breakGlass) continue;
    const use = v.evidence.breakGlass;
    const role = run.policies.get(grant.target)?.roles.get(grant.role);
    const early = run.revokedEarly?.get(grant.id);
    const view = {
      grant: grant.id,
      file: grant.file,
      mention: mention(grant.user),
      user: grant.user,
      target: grant.target,
      role: grant.role,
      reason: grant.reason,
      pr: String(v.evidence.pr),
      expiresAt: formatTimestamp(grant.expiresAt),
      landedAt: formatTimestamp(new Date(use.landedAt)),
      reviewBy: v.cutShort
        ? formatTimestamp(v.cutShort.at)
        : v.neverReviewed
          ? formatTimestamp(v.neverReviewed.due)
          : (use.reviewBy ?? ''),
      reviewWithin: role?.breakGlass?.reviewWithin ?? '',
      approvers: role?.approvers.join(', ') ?? '',
      now: formatTimestamp(run.now),
    };
    if (early !== undefined) {
      alerts.push(
        await render('break-glass-webhook.txt', {
          ...view,
          reason: early,
          repo: gh?.slug ?? 'the access repo',
        }),
      );
      out.revokedEarly++;
    }
    if (!gh) continue;
    try {
      issues ??= gh.openIssues(ISSUE_LABEL, 'all');
      const key = retroReviewKey(grant.id, v.evidence.commit);
      self ??= gh.selfLogin();
      const use = { grantId: grant.id, commit: v.evidence.commit, landedAt: v.evidence.breakGlass.landedAt };
      let issue = findRetroIssue(await issues, use, await self);
      // A review in a note is a record anyone who can push could write: only one seen now counts.
      if (!issue && !v.cutShort && !v.reviewSeen && !v.neverReviewed) {
        const title = `grantops: break-glass use of ${grant.id} by ${grant.user} needs review by ${view.reviewBy}`;
        const body = `${retroReviewMarker(grant.id, v.evidence.commit)}\n${await render('break-glass-issue.md', view)}`;
        issue = {
          number: await gh.createIssue(title, body, [ISSUE_LABEL]),
          title,
          body,
          state: 'open',
          author: await self,
          createdAt: run.now.toISOString(),
        };
        out.opened++;
      }
      if (v.neverReviewed) {
        // Said once: the marker on the issue, else (no issue to mark) only in the run that reaps it.
        const told = issue
          ? await once(
              gh,
              issue,
              await self,
              `never-reviewed:${key}`,
              await render('break-glass-never-reviewed.md', view),
            )
          : run.reaped?.has(grant.id) === true;
        if (told) {
          alerts.push(await render('break-glass-never-reviewed-webhook.txt', { ...view, repo: gh.slug }));
          out.neverReviewed++;
        }
        continue;
      }
      if (!issue) continue;
      if (early !== undefined) {
        await once(
          gh,
          issue,
          await self,
          `revoked:${key}`,
          await render('break-glass-revoked.md', { ...view, reason: early }),
        );
      } else if (v.reviewSeen && !v.cutShort) {
        const text = await render('break-glass-reviewed.md', {
          ...view,
          by: v.reviewSeen.by,
          at: formatTimestamp(new Date(v.reviewSeen.at)),
        });
        if (await once(gh, issue, await self, `reviewed:${key}`, text)) out.reviewed++;
      }
    } catch (err) {
      out.errors.push(`break-glass issue for ${grant.id}: ${errorMessage(err)}`);
    }
  }
  if (webhook && alerts.length > 0) {
    try {
      for (const text of alerts) await webhook(text);
      out.webhookSent = true;
    } catch (err) {
      out.errors.push(`webhook: ${errorMessage(err)}`);
    }
  }
  return out;
}

/**
 * Posts `text` on the issue unless grantops did already (by marker, in a comment by grantops' own
 * login `me`: another bot, such as a writer's workflow, posting the marker must not silence it),
 * then closes it.
 */
async function once(
  gh: AccessRepoGitHub,
  issue: IssueSummary,
  me: string,
  what: string,
  text: string,
): Promise<boolean> {
  const marker = `<!-- grantops:break-glass-${what} -->`;
  const mine = writtenBy(me);
  const done = (await gh.comments(issue.number)).some((c) => mine(c) && c.body.includes(marker));
  if (!done) await gh.createComment(issue.number, `${marker}\n${text}`);
  if (issue.state !== 'closed') await gh.updateIssue(issue.number, { state: 'closed' });
  return !done;
}
