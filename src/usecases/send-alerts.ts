import { formatDuration } from '../model/duration.js';
import { errorMessage } from '../model/errors.js';
import type { Policy } from '../model/policy.js';
import { formatTimestamp } from '../model/time.js';
import type { ExpiryWarning, Overdue, ReviewUnread } from '../reaper/alerts.js';
import { mention } from '../render/markdown.js';
import type { TemplateName } from '../render/templates.js';
import type { AccessRepoGitHub } from '../ports/access-repo.js';
import { syncIssues, writtenBy } from './github-threads.js';

export type Render = (name: TemplateName, view: object) => Promise<string>;

export interface AlertResult {
  warningsPosted: number;
  warningsAlreadySent: number;
  overdueIssues?: { created: number; updated: number; closed: number };
  webhookSent: boolean;
  errors: string[];
}

/** The overdue-issue key of a break-glass grant whose due review could not be read (ids hold no ':'). */
const unreadKey = (grantId: string) => `break-glass-review:${grantId}`;

/**
 * Delivers the reaper's alerts: expiry warnings as comments on each grant's PR (one per grant and
 * window, found again by a hidden marker), overdue access as one issue per grant (updated, closed when
 * resolved), and newly overdue grants to an optional Slack-compatible webhook. A break-glass grant
 * whose due review could not be read gets an issue the same way, and the webhook on every run while
 * it lasts: GitHub failing is when the issue may not get through.
 */
export class AlertSender {
  constructor(
    private readonly github: AccessRepoGitHub | undefined,
    private readonly render: Render,
    /** Posts a text to the chat webhook (Slack-compatible), if one is configured. */
    private readonly webhook: ((text: string) => Promise<void>) | undefined,
  ) {}

  async send(
    now: Date,
    warnings: readonly ExpiryWarning[],
    overdue: readonly Overdue[],
    policies: ReadonlyMap<string, Policy>,
    reviewUnread: readonly ReviewUnread[] = [],
  ): Promise<AlertResult> {
    const result: AlertResult = { warningsPosted: 0, warningsAlreadySent: 0, webhookSent: false, errors: [] };
    let newlyOverdue: readonly Overdue[] = overdue;
    if (this.github) {
      const gh = this.github;
      const comments = new Map<number, Promise<string[]>>();
      for (const w of warnings) {
        if (!w.pr) continue;
        try {
          const marker = `<!-- grantops:expiry:${w.grant.id}:${w.window} -->`;
          let bodies = comments.get(w.pr);
          if (!bodies) {
            // Only grantops' own comments count: a person quoting the marker, or another bot (a
            // writer's workflow) posting it, must not silence it.
            bodies = Promise.all([gh.selfLogin(), gh.comments(w.pr)]).then(([me, list]) =>
              list.filter(writtenBy(me)).map((c) => c.body),
            );
            comments.set(w.pr, bodies);
          }
          if ((await bodies).some((b) => b.includes(marker))) {
            result.warningsAlreadySent++;
            continue;
          }
          const role = policies.get(w.grant.target)?.roles.get(w.grant.role);
          const body = await this.render('expiry-warning.md', {
            mention: mention(w.grant.user),
            grant: w.grant.id,
            file: w.grant.file,
            target: w.grant.target,
            role: w.grant.role,
            expiresAt: formatTimestamp(w.grant.expiresAt),
            remaining: formatDuration(w.remainingMs),
            maxDuration: role?.maxDuration ?? '',
          });
          await gh.createComment(w.pr, `${marker}\n${body}`);
          result.warningsPosted++;
        } catch (err) {
          result.errors.push(`expiry warning for ${w.grant.id}: ${errorMessage(err)}`);
        }
      }
      try {
        const unread = reviewUnread.map(async (u) => ({
          key: unreadKey(u.grant.id),
          title: `grantops: retro review of break-glass grant ${u.grant.id} could not be read`,
          body: await this.render('review-unread-issue.md', unreadView(now, u)),
        }));
        const wanted = await Promise.all([
          ...overdue.map(async (o) => ({
            key: o.grant.id,
            title: `grantops: access of expired grant ${o.grant.id} is not revoked`,
            body: await this.render('overdue-issue.md', {
              grant: o.grant.id,
              file: o.grant.file,
              user: o.grant.user,
              target: o.grant.target,
              role: o.grant.role,
              expiresAt: formatTimestamp(o.grant.expiresAt),
              overdue: formatDuration(now.getTime() - o.grant.expiresAt.getTime()),
              reason: o.reason,
            }),
          })),
          ...unread,
        ]);
        const synced = await syncIssues(gh, 'overdue', wanted);
        result.overdueIssues = { created: synced.created, updated: synced.updated, closed: synced.closed };
        // The webhook speaks when a grant becomes overdue, not on every run it stays so.
        newlyOverdue = overdue.filter((o) => synced.createdKeys.includes(o.grant.id));
      } catch (err) {
        result.errors.push(`overdue issues: ${errorMessage(err)}`);
      }
    }
    if (this.webhook && reviewUnread.length > 0) {
      try {
        const text = await this.render('review-unread-webhook.txt', {
          count: String(reviewUnread.length),
          repo: this.github?.slug ?? 'the access repo',
          items: reviewUnread.map((u) => unreadView(now, u)),
        });
        await this.webhook(text);
        result.webhookSent = true;
      } catch (err) {
        result.errors.push(`webhook: ${errorMessage(err)}`);
      }
    }
    if (this.webhook && newlyOverdue.length > 0) {
      try {
        const text = await this.render('webhook.txt', {
          count: String(newlyOverdue.length),
          repo: this.github?.slug ?? 'the access repo',
          items: newlyOverdue.map((o) => ({
            grant: o.grant.id,
            user: o.grant.user,
            target: o.grant.target,
            expiresAt: formatTimestamp(o.grant.expiresAt),
            reason: o.reason,
          })),
        });
        await this.webhook(text);
        result.webhookSent = true;
      } catch (err) {
        result.errors.push(`webhook: ${errorMessage(err)}`);
      }
    }
    return result;
  }
}

function unreadView(now: Date, u: ReviewUnread) {
  return {
    grant: u.grant.id,
    file: u.grant.file,
    user: u.grant.user,
    target: u.grant.target,
    role: u.grant.role,
    due: formatTimestamp(u.due),
    late: formatDuration(now.getTime() - u.due.getTime()),
    reason: u.reason,
  };
}
