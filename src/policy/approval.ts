import type { Grant } from '../model/grant.js';
import type { Role } from '../model/policy.js';
import type { PullRequestCommit, PullRequestFacts, Review } from '../ports/access-repo.js';

export type { PullRequestCommit, PullRequestFacts, Review } from '../ports/access-repo.js';

/** GitHub lists at most this many commits of a pull request: past it, some authors go unseen. */
export const MAX_LISTED_PR_COMMITS = 250;

/** Evidence recorded in refs/notes/grantops and shown to auditors. */
export interface ApprovalEvidence {
  pr: number;
  headSha: string;
  approvers: string[];
  /** The commit on main that brought the grant. */
  commit: string;
  /** Blob id of the grant file as merged (and as reviewed). */
  blob: string;
  /** GitHub's numeric id of the grant's user when approved: the account, not the login. */
  userId?: number;
  verifiedAt: string;
  /**
   * Applied without prior approval as break-glass (policy/break-glass.ts): who opened the PR, when it
   * landed (ms) and, once an eligible approver reviewed it afterwards, who and when.
   */
  breakGlass?: BreakGlassUse;
  /** Ed25519 signature by the apply workflow's evidence key (policy/evidence-signature.ts). */
  signature?: string;
}

/** What the evidence of a break-glass grant records. */
export interface BreakGlassUse {
  author: string;
  landedAt: number;
  /** The review deadline (RFC 3339), from the role at the PR's base; for messages. */
  reviewBy?: string;
  /** The retro review (recorded by the reaper: a record, re-read from GitHub on every run). */
  review?: { by: string; at: string; signature?: string };
}

export type ApprovalVerdict =
  | {
      approved: true;
      evidence: ApprovalEvidence;
      source: 'github' | 'notes';
      /**
       * A break-glass grant whose review deadline passed without an eligible approval shown: it ends
       * at that deadline (revoked early), whatever its expiresAt says.
       */
      cutShort?: { at: Date; reason: string };
      /** A break-glass grant's retro review, as GitHub showed it in this run (never from a note). */
      reviewSeen?: { by: string; at: string };
      /**
       * A break-glass grant that reached its own expiresAt (before its review deadline) and that
       * GitHub shows no eligible review of: used and never reviewed, said once as it is reaped.
       */
      neverReviewed?: { due: Date };
    }
  | {
      approved: false;
      reason: string;
      approvers: string[];
      pr?: number;
      /**
       * Not a refusal but a question left open: GitHub could not be asked (no token, an error), so
       * the grant is neither applied nor is the access it may justify taken away in this run.
       */
      undecided?: true;
      /** Undecided because a break-glass use's retro review, due already, could not be read. */
      reviewUnread?: true;
      /** With `reviewUnread`: when that review was due (it has passed). */
      reviewDue?: Date;
      /** A genuine record says this very file was approved and applied before: approval withdrawn. */
      wasApproved?: true;
    };

export interface ApprovalFacts {
  grant: Grant;
  role: Role;
  /** The merged PR that brought the grant's file to main, if any. */
  pr?: PullRequestFacts;
  reviews: readonly Review[];
  /** The PR's commits: whoever authored or committed one may not approve it. */
  commits: readonly PullRequestCommit[];
  /** Whether the file at the PR's head is byte-for-byte the file that was merged. */
  headMatchesMerged: boolean;
  /** `@org/team` membership, resolved beforehand for the users who approved. */
  isMember(team: string, user: string): boolean;
}

const lower = (s: string) => s.toLowerCase();

/**
 * "Reviewer approval is the grant": counts approving reviews on the PR's final head commit from
 * the role's approvers (users or team members), never the grant's user, the PR's author, nor
 * anyone who authored or committed a commit of the PR (a writer who pushes a grant onto someone
 * else's branch, a bot's included, cannot approve it). A commit GitHub maps to no account, or a PR
 * with more commits than GitHub lists, leaves someone unexcluded: nobody's approval counts then.
 * Each reviewer's latest review decides (a later "changes requested" or a dismissal cancels).
 */
export function evaluateApproval(f: ApprovalFacts): { ok: boolean; approvers: string[]; reason?: string } {
  if (!f.pr)
    return {
      ok: false,
      approvers: [],
      reason: 'no merged pull request brought this grant (pushed directly to main?)',
    };
  if (!f.headMatchesMerged) {
    return {
      ok: false,
      approvers: [],
      reason: `the grant file as merged differs from the file at the reviewed head of PR #${f.pr.number}`,
    };
  }
  const refuse = (reason: string) => ({ ok: false, approvers: [], reason });
  if (f.commits.length >= MAX_LISTED_PR_COMMITS)
    return refuse(
      `PR #${f.pr.number} has ${MAX_LISTED_PR_COMMITS} or more commits, more than GitHub lists: who wrote them all cannot be known, so no approval can be checked against them`,
    );
  const anonymous = f.commits.find((c) => !c.author || !c.committer);
  if (anonymous)
    return refuse(
      `commit ${anonymous.sha.slice(0, 7)} of PR #${f.pr.number} has an ${anonymous.author ? 'committer' : 'author'} whose email is no GitHub account's: whoever wrote it could approve it unseen, so no approval counts (write the commits with an email of your account)`,
    );
  const latest = new Map<string, Review>();
  for (const r of f.reviews) {
    if (r.state === 'COMMENTED' || r.state === 'PENDING') continue; // comments do not change a verdict
    latest.set(lower(r.user), r);
  }
  const excluded = new Set([lower(f.grant.user), lower(f.pr.author)]);
  for (const c of f.commits) for (const who of [c.author, c.committer]) if (who) excluded.add(lower(who));
  const approvers: string[] = [];
  for (const [user, r] of latest) {
    if (r.state !== 'APPROVED' || r.commitId !== f.pr.headSha || excluded.has(user)) continue;
    const eligible = f.role.approvers.some((a) =>
      a.startsWith('@') ? f.isMember(a, r.user) : lower(a) === user,
    );
    if (eligible) approvers.push(r.user);
  }
  approvers.sort();
  if (approvers.length >= f.role.approvals) return { ok: true, approvers };
  return {
    ok: false,
    approvers,
    reason: `PR #${f.pr.number} has ${approvers.length} of the ${f.role.approvals} approval(s) required from ${f.role.approvers.join(', ')} on its final commit ${f.pr.headSha.slice(0, 7)} (the grant's user, the PR's author and the authors and committers of its commits do not count)`,
  };
}

/** The teams an approval could come from, for resolving membership beforehand. */
export function approverTeams(role: Role): string[] {
  return role.approvers.filter((a) => a.startsWith('@'));
}

/**
 * Port: decides, for each grant, whether reviewer approval is in place, by the policy at the base of
 * the pull request that brought it (not the policy of today).
 */
export interface ApprovalVerifier {
  verify(grants: readonly Grant[]): Promise<Map<string, ApprovalVerdict>>;
}

/** The note grantops keeps on a commit of main: evidence for each grant it brought. */
export interface ApprovalNote {
  grantops: 1;
  grants: Record<string, ApprovalEvidence>;
}

export function parseApprovalNote(text: string | undefined): ApprovalNote | undefined {
  if (!text) return undefined;
  try {
    const v = JSON.parse(text) as ApprovalNote;
    return v && v.grantops === 1 && typeof v.grants === 'object' ? v : undefined;
  } catch {
    return undefined;
  }
}
