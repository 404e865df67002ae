import type { Grant } from '../model/grant.js';
import type { BreakGlassRule, Role } from '../model/policy.js';
import type { IssueComment, IssueSummary } from '../ports/access-repo.js';

/** The comment an eligible approver writes on the retro-review issue to review a break-glass use. */
export const RETRO_REVIEW_COMMAND = '/grantops approve';

const lower = (s: string) => s.toLowerCase();

/** Whether `user` is named in `list` (logins, or `@org/team` resolved by `isMember`). */
export function isListed(
  list: readonly string[],
  user: string,
  isMember: (team: string, user: string) => boolean,
): boolean {
  return list.some((a) => (a.startsWith('@') ? isMember(a, user) : lower(a) === lower(user)));
}

/**
 * Whether a break-glass use is allowed, judged from what GitHub says (never from the file): the PR's
 * author must be listed in `allowed` and be the grant's user. Break-glass is self-service: the person
 * taking emergency access is the one vetted and accountable; an allowed user handing unreviewed
 * access to someone else is exactly what approval is for.
 */
export function judgeBreakGlassUse(f: {
  grant: Grant;
  rule: BreakGlassRule;
  pr: { number: number; author: string };
  headMatchesMerged: boolean;
  isMember: (team: string, user: string) => boolean;
}): { ok: true } | { ok: false; reason: string } {
  if (!f.headMatchesMerged)
    return {
      ok: false,
      reason: `break-glass: the grant file as merged differs from the file at the head of PR #${f.pr.number}`,
    };
  if (lower(f.pr.author) !== lower(f.grant.user))
    return {
      ok: false,
      reason: `break-glass: PR #${f.pr.number} was opened by ${f.pr.author}, not by the grant's user ${f.grant.user} (break-glass is for one's own access)`,
    };
  if (!isListed(f.rule.allowed, f.pr.author, f.isMember))
    return {
      ok: false,
      reason: `break-glass: ${f.pr.author} (author of PR #${f.pr.number}) is not allowed to use it (allowed: ${f.rule.allowed.join(', ')})`,
    };
  return { ok: true };
}

/** When a break-glass use must have been reviewed by: reviewWithin after it landed on main. */
export function reviewDeadline(landedAt: number, rule: BreakGlassRule): Date {
  return new Date(landedAt + rule.reviewWithinMs);
}

/**
 * The eligible retro review among an issue's comments, if any: `/grantops approve` as the comment's
 * first line, written by an approver of the role (as at the PR's base) who is neither the grant's user
 * nor the PR's author, created at or after `notBefore` (the use landed and its issue was opened: an
 * older approval reviewed something else) and by the deadline, and never edited (a repo writer may
 * edit anyone's comment, the author staying the approver; an approver posts a new comment instead).
 * Author and times come from GitHub's API; the body is only matched, never shown.
 */
export function findRetroReview(f: {
  comments: readonly IssueComment[];
  grant: Grant;
  role: Role;
  prAuthor: string;
  notBefore: number;
  deadline: Date;
  isMember: (team: string, user: string) => boolean;
}): { by: string; at: string } | undefined {
  const excluded = new Set([lower(f.grant.user), lower(f.prAuthor)]);
  const due = f.deadline.getTime();
  const eligible = f.comments
    .filter((c) => {
      if (c.byBot || !c.author || !c.createdAt || excluded.has(lower(c.author))) return false;
      const created = Date.parse(c.createdAt);
      if (c.updatedAt !== undefined && Date.parse(c.updatedAt) !== created) return false;
      if (!(created >= f.notBefore) || !(created <= due)) return false;
      const first = c.body.trim().split('\n')[0]?.trim().toLowerCase();
      return first === RETRO_REVIEW_COMMAND && isListed(f.role.approvers, c.author, f.isMember);
    })
    .sort((a, b) => Date.parse(a.createdAt!) - Date.parse(b.createdAt!));
  const first = eligible[0];
  return first ? { by: first.author, at: first.createdAt! } : undefined;
}

/**
 * The retro-review issue of a use among `issues`: opened by grantops' own login (`self`) at or after
 * the use landed, its body carrying the use's marker and no other use's. The marker alone proves
 * nothing (a writer can edit any issue body): author and creation time are GitHub's and cannot be
 * edited, so an older issue, already reviewed for another use, never stands in for this one.
 */
export function pickRetroIssue<I extends IssueSummary>(
  issues: readonly I[],
  f: { marker: string; markerPrefix: string; self: string; landedAt: number },
): I | undefined {
  return issues.find((i) => {
    if (!i.author || lower(i.author) !== lower(f.self) || !i.createdAt) return false;
    if (!(Date.parse(i.createdAt) >= f.landedAt)) return false;
    // grantops writes one marker per issue: a second one was put there by hand.
    return i.body.includes(f.marker) && i.body.split(f.markerPrefix).length === 2;
  });
}

/** The hidden marker of a use's retro-review issue: one per grant and the commit that brought it. */
export function retroReviewKey(grantId: string, commit: string): string {
  return `${grantId}@${commit.slice(0, 12)}`;
}
