import { ConfigError, PolicyViolationError, type Finding } from '../model/errors.js';
import { ACCESS_REQUEST_LABEL, parseIssueForm } from '../model/issue-form.js';
import { formatTimestamp } from '../model/time.js';
import { escapeMarkdown } from '../render/markdown.js';
import { upsertStickyComment } from '../usecases/github-threads.js';
import { requestPullRequestJob, requireOpener, type RequestPullRequestResult } from './request-job.js';
import type { Wiring } from './wiring.js';

/** The facts of an `issues` event grantops uses, read from the event payload by the Action. */
export interface IssueEvent {
  /** `opened`, `edited`, … */
  action: string;
  number: number;
  body: string;
  /** The issue's author, as GitHub records it: the one person the grant can be for. */
  author: { login: string; type: string };
  /** GitHub's `author_association`: OWNER, MEMBER, COLLABORATOR, CONTRIBUTOR, NONE, … */
  authorAssociation: string;
  labels: string[];
  state: string;
  /** Who caused the event (on `edited`, whoever edited the body). */
  sender?: string;
  /** The repository's default branch, from the event. */
  defaultBranch?: string;
  /** An event about a pull request's conversation, not an issue. */
  isPullRequest: boolean;
  /** On `edited`: whether the body changed (a title edit asks for nothing new). */
  bodyEdited?: boolean;
}

export const ISSUE_REQUEST_MARKER = '<!-- grantops:request-from-issue -->';
/** Who may ask through an issue: people the repository knows, not anyone who can open one. */
export const REQUESTER_ASSOCIATIONS = ['OWNER', 'MEMBER', 'COLLABORATOR'];

export type IssueRequestOutcome =
  | { kind: 'ignored'; reason: string }
  | { kind: 'opened'; result: RequestPullRequestResult; commentId: number }
  | { kind: 'refused'; problems: string[]; commentId: number };

/**
 * `request-from-issue`: turns a submitted access-request issue into the pull request `request
 * --open-pr` would open, for the issue's author, and answers on the issue with its link (or with
 * what is wrong, in one comment edited in place on each later edit). Issues that are not the form,
 * bots' issues and edits by anyone but the author are left alone, with nothing created.
 */
export async function requestFromIssueJob(
  w: Wiring,
  issue: IssueEvent | undefined,
): Promise<IssueRequestOutcome> {
  if (!issue) throw new ConfigError('request-from-issue runs on issues events (types: opened, edited)');
  const ignored = skipReason(issue);
  if (ignored) return { kind: 'ignored', reason: ignored };
  const form = parseIssueForm(issue.body);
  if (!form.ok && form.notAForm)
    return { kind: 'ignored', reason: 'the issue body is not the access request form' };

  const opener = await requireOpener(w, 'request-from-issue');
  const me = await opener.identity();
  const comments = await w.accessRepo();
  if (!comments) throw new ConfigError('request-from-issue needs GITHUB_TOKEN and GITHUB_REPOSITORY');
  const refuse = async (problems: string[]): Promise<IssueRequestOutcome> => {
    const body = [
      '❌ grantops cannot turn this issue into a pull request:',
      '',
      ...problems.map((p) => `- ${escapeMarkdown(p)}`),
      '',
      'Edit the issue to fix it: grantops reads it again on every edit. Nothing was created.',
    ].join('\n');
    const { id } = await upsertStickyComment(comments, issue.number, ISSUE_REQUEST_MARKER, body, me);
    return { kind: 'refused', problems, commentId: id };
  };
  if (!form.ok) return refuse(form.problems);
  if (!REQUESTER_ASSOCIATIONS.includes(issue.authorAssociation)) {
    return refuse([
      `only owners, members and collaborators of ${opener.slug} may request access through an issue (the author is ${issue.authorAssociation || 'unknown'} here)`,
    ]);
  }

  const req = form.request;
  let result: RequestPullRequestResult;
  try {
    result = await requestPullRequestJob(
      w,
      {
        user: issue.author.login,
        target: req.target,
        role: req.role,
        for: req.for,
        reason: req.reason,
        ...(req.ticket !== undefined ? { ticket: req.ticket } : {}),
      },
      {
        ...(issue.defaultBranch ? { baseBranch: issue.defaultBranch } : {}),
        // Named by the issue; a name holding anything but exactly this grant on the base (an
        // earlier grant of this issue, or a branch someone pushed ahead) is left alone for the next.
        branch: (_id, attempt) => `grantops/request/issue-${issue.number}${attempt > 1 ? `-${attempt}` : ''}`,
        from: { issue: issue.number, author: issue.author.login },
      },
    );
  } catch (err) {
    if (err instanceof PolicyViolationError) return refuse(reasons(err.message, err.findings));
    // The request's own values (a duration out of range): the form's problem, not grantops'.
    if (err instanceof ConfigError && /^--(for|starts-at): /.test(err.message))
      return refuse([err.message.replace(/^--for/, 'Duration')]);
    throw err;
  }
  const { grant, proposal } = result;
  const pr = proposal.pullRequest;
  // The URL is GitHub's answer; #N is linked by GitHub itself whatever the URL holds.
  const link = /^https:\/\/[A-Za-z0-9.-]+(?::\d+)?\/[A-Za-z0-9._~/-]+$/.test(pr.url) ? ` (${pr.url})` : '';
  // Whatever the outcome, the branch holds exactly this grant on the base (proposeChange checks it).
  const what = `**${escapeMarkdown(grant.user)}** → **${escapeMarkdown(`${grant.target}/${grant.role}`)}** until ${formatTimestamp(grant.expiresAt)}`;
  const first = `grantops/request/issue-${issue.number}`;
  const body = [
    proposal.outcome === 'found' || proposal.outcome === 'moved'
      ? `✅ Pull request #${pr.number}${link} carries this request: ${what}.${proposal.textReplaced ? " Its title and body were replaced by grantops' own." : ''}`
      : `✅ Opened pull request #${pr.number}${link} for this request: ${what}.`,
    '',
    "Reviewer approval is the grant: it is applied once the pull request is approved as the target's policy requires, and merged.",
    ...(proposal.branch !== first
      ? [
          '',
          `Branch \`${first}\` already holds something else (an earlier version of this request, or a branch pushed by someone): grantops left it and any pull request from it as they are; close those that no longer apply.`,
        ]
      : []),
  ].join('\n');
  const { id } = await upsertStickyComment(comments, issue.number, ISSUE_REQUEST_MARKER, body, me);
  return { kind: 'opened', result, commentId: id };
}

function skipReason(issue: IssueEvent): string | undefined {
  if (issue.isPullRequest) return 'the event is about a pull request';
  if (!issue.labels.includes(ACCESS_REQUEST_LABEL)) return `the issue has no "${ACCESS_REQUEST_LABEL}" label`;
  if (issue.author.type !== 'User' || /\[bot\]$/i.test(issue.author.login))
    return 'the issue was opened by a bot';
  if (issue.state !== 'open') return 'the issue is closed';
  if (!['opened', 'edited', 'reopened', 'labeled'].includes(issue.action))
    return `nothing to do on "${issue.action}"`;
  // The grant is for the author: only the author's own words may ask for it.
  if (issue.sender !== undefined && issue.sender !== issue.author.login)
    return 'the issue was edited by someone else than its author';
  if (issue.action === 'edited' && issue.bodyEdited === false) return 'the edit left the form as it was';
  if (!/^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/.test(issue.author.login))
    return 'the author is not a GitHub login';
  return undefined;
}

function reasons(message: string, findings: readonly Finding[]): string[] {
  if (findings.length > 0) return findings.map((f) => f.message);
  return message.replace(/^request refused: /, '').split('; ');
}
