import { errorMessage } from '../model/errors.js';
import type { Grant } from '../model/grant.js';
import type { Role } from '../model/policy.js';
import { formatDuration } from '../model/duration.js';
import { formatTimestamp } from '../model/time.js';
import { reviewEvidence, type EvidenceSigner } from '../policy/evidence-signature.js';
import type {
  ApprovalEvidence,
  ApprovalVerdict,
  BreakGlassUse,
  PullRequestFacts,
} from '../policy/approval.js';
import {
  findRetroReview,
  judgeBreakGlassUse,
  pickRetroIssue,
  retroReviewKey,
  reviewDeadline,
  RETRO_REVIEW_COMMAND,
} from '../policy/break-glass.js';
import type { AccessRepoGitHub, IssueSummary } from '../ports/access-repo.js';
import { ISSUE_LABEL } from './github-threads.js';

/** A break-glass grant as the approval finder knows it. */
export interface BreakGlassItem {
  grant: Grant;
  /** The role at the PR's base. */
  role: Role;
  commit: string;
  /** When the commit landed on main (git's committer time); undefined: unknown, so already due. */
  landedAt: number | undefined;
  /** The commit added the grant's file: the only way a break-glass use begins. */
  added: boolean;
}

/**
 * Whether a grant may be judged as a break-glass use: flagged, allowed by the role at the base, and
 * its file ADDED by its commit. An edit or extension is judged by ordinary approval whatever its
 * flag: were each edit a new use, chained edits would bring a fresh review deadline every time.
 */
export function mayBeUse(item: BreakGlassItem): boolean {
  return item.grant.breakGlass === true && item.added && item.role.breakGlass !== undefined;
}

/** Said of a refused break-glass grant whose commit only changed its file. */
export function editNotUse(item: BreakGlassItem): string {
  return item.grant.breakGlass && !item.added
    ? '; break-glass applies only to a grant file its commit adds, an edit needs ordinary approval'
    : '';
}

export const RETRO_REVIEW_KIND = 'break-glass';

/** The hidden marker of a use's retro-review issue (the form syncIssues uses for its kinds). */
export function retroReviewMarker(grantId: string, commit: string): string {
  return `<!-- grantops:${RETRO_REVIEW_KIND}:${retroReviewKey(grantId, commit)} -->`;
}

/** grantops' own retro-review issue of a use (see pickRetroIssue: the marker alone is not enough). */
export function findRetroIssue(
  issues: readonly IssueSummary[],
  use: { grantId: string; commit: string; landedAt: number },
  self: string,
): IssueSummary | undefined {
  return pickRetroIssue(issues, {
    marker: retroReviewMarker(use.grantId, use.commit),
    markerPrefix: `<!-- grantops:${RETRO_REVIEW_KIND}:`,
    self,
    landedAt: use.landedAt,
  });
}

/** Evidence with its retro review signed by `signer` (the key apply signs with), when there is one. */
export function signReview(
  grantId: string,
  e: ApprovalEvidence,
  signer: EvidenceSigner | undefined,
): ApprovalEvidence {
  const review = e.breakGlass?.review;
  if (!signer || !review || !e.breakGlass) return e;
  const { signature: _old, ...plain } = review;
  const signature = signer.sign(grantId, reviewEvidence(e, plain));
  return { ...e, breakGlass: { ...e.breakGlass, review: { ...plain, signature } } };
}

/** The recorded retro review of evidence, to carry over when the evidence is written again. */
export function pickReview(recorded: ApprovalEvidence | undefined): { review?: { by: string; at: string } } {
  const review = recorded?.breakGlass?.review;
  return review ? { review } : {};
}

/**
 * Whether a grant not approved before merge may be applied as break-glass: the role at the PR's base
 * allows it, and GitHub says the PR's author is allowed (teams asked through `isMember`).
 */
export async function judgeUse(
  item: BreakGlassItem,
  pr: PullRequestFacts,
  headMatchesMerged: boolean,
  now: Date,
  isMember: (team: string, user: string) => Promise<boolean>,
): Promise<{ ok: true; use: BreakGlassUse } | { ok: false; reason: string }> {
  const rule = item.role.breakGlass;
  if (!rule) return { ok: false, reason: 'break-glass: the role at the base does not allow it' };
  const member = new Map<string, boolean>();
  for (const team of rule.allowed.filter((a) => a.startsWith('@')))
    member.set(team, await isMember(team, pr.author));
  const verdict = judgeBreakGlassUse({
    grant: item.grant,
    rule,
    pr,
    headMatchesMerged,
    isMember: (team) => member.get(team) === true,
  });
  if (!verdict.ok) return verdict;
  const landedAt = item.landedAt ?? now.getTime();
  const reviewBy = formatTimestamp(reviewDeadline(landedAt, rule));
  return { ok: true, use: { author: pr.author, landedAt, reviewBy } };
}

/**
 * For each break-glass grant approved as such whose review deadline (reviewWithin after it landed)
 * has passed: the retro review is read from GitHub on every run, never from a note. Found: the grant
 * stays, and the review is recorded. Not found, or no token to ask with: the verdict is cut short at
 * the deadline, so the grant is revoked early. GitHub failing (an API error): undecided, neither kept
 * nor revoked, the run fails, and a later run decides from GitHub's own timestamps.
 */
export async function checkRetroReviews(
  items: readonly BreakGlassItem[],
  verdicts: Map<string, ApprovalVerdict>,
  deps: {
    now: Date;
    github?: AccessRepoGitHub;
    isMember(team: string, user: string): Promise<boolean>;
    record(item: BreakGlassItem, evidence: ApprovalEvidence): void;
    /** Signs the reviews recorded (the evidence key), so that audit can tell them from a writer's. */
    signer?: EvidenceSigner;
  },
): Promise<void> {
  let issues: Promise<IssueSummary[]> | undefined;
  let self: Promise<string> | undefined;
  for (const item of items) {
    const v = verdicts.get(item.grant.id);
    const rule = item.role.breakGlass;
    if (!v?.approved || !v.evidence.breakGlass || !rule || !item.grant.breakGlass) continue;
    const deadline = reviewDeadline(item.landedAt ?? 0, rule);
    // A use that reached its own end before the deadline is asked after once, as the reaper removes it.
    const ended = deps.now.getTime() >= item.grant.expiresAt.getTime();
    if (deps.now.getTime() < deadline.getTime() && !ended) continue;
    const cut = (reason: string) =>
      verdicts.set(
        item.grant.id,
        ended && deadline.getTime() > item.grant.expiresAt.getTime()
          ? { ...v, neverReviewed: { due: deadline } }
          : { ...v, cutShort: { at: deadline, reason } },
      );
    const gh = deps.github;
    if (!gh) {
      // Nobody could ask: an ended use is not called unreviewed on no evidence either way.
      if (ended && deadline.getTime() > item.grant.expiresAt.getTime()) continue;
      cut(`no retro review could be shown by ${formatTimestamp(deadline)}: GitHub was not asked (no token)`);
      continue;
    }
    try {
      // Closed ones too: closing the issue (grantops does once reviewed) does not withdraw a review.
      issues ??= gh.openIssues(ISSUE_LABEL, 'all');
      self ??= gh.selfLogin();
      const landedAt = item.landedAt ?? 0;
      const use = { grantId: item.grant.id, commit: item.commit, landedAt };
      const issue = findRetroIssue(await issues, use, await self);
      if (!issue) {
        cut(
          `grantops' retro-review issue for it (opened by ${await self} after it landed) is not found, so no review could be shown`,
        );
        continue;
      }
      const comments = await gh.comments(issue.number);
      const membership = new Map<string, boolean>();
      for (const c of comments) {
        if (!c.author || c.byBot) continue;
        for (const team of item.role.approvers.filter((a) => a.startsWith('@')))
          membership.set(`${team}\u0000${c.author.toLowerCase()}`, await deps.isMember(team, c.author));
      }
      const review = findRetroReview({
        comments,
        grant: item.grant,
        role: item.role,
        prAuthor: v.evidence.breakGlass.author,
        notBefore: Math.max(landedAt, Date.parse(issue.createdAt ?? '')),
        deadline,
        isMember: (team, user) => membership.get(`${team}\u0000${user.toLowerCase()}`) === true,
      });
      if (!review) {
        cut(
          `no eligible approval ("${RETRO_REVIEW_COMMAND}" by an approver of role ${item.grant.role}, not ${item.grant.user} nor the PR's author) on issue #${issue.number} by ${formatTimestamp(deadline)}`,
        );
        continue;
      }
      const known = v.evidence.breakGlass.review;
      if (known?.by !== review.by || known.at !== review.at) {
        const evidence = { ...v.evidence, breakGlass: { ...v.evidence.breakGlass, review } };
        deps.record(item, signReview(item.grant.id, evidence, deps.signer));
        verdicts.set(item.grant.id, { ...v, evidence, reviewSeen: review });
      } else verdicts.set(item.grant.id, { ...v, reviewSeen: review });
    } catch (err) {
      // GitHub failing is not the approvers failing: the review's time comes from GitHub, so a
      // later run decides correctly. Until then neither kept nor revoked, and the run fails.
      const late = formatDuration(deps.now.getTime() - deadline.getTime());
      verdicts.set(item.grant.id, {
        approved: false,
        reason: `break-glass: its retro review (due ${formatTimestamp(deadline)}, ${late} ago) could not be read from GitHub: ${errorMessage(err)}; decided on a later run`,
        approvers: [],
        undecided: true,
        reviewUnread: true,
        reviewDue: deadline,
      });
    }
  }
}
