import { describe, expect, it } from 'vitest';
import type { Grant } from '../../src/model/grant.js';
import type { Role } from '../../src/model/policy.js';
import { evaluateApproval, type PullRequestCommit, type Review } from '../../src/policy/approval.js';

const grant: Grant = {
  id: 'g',
  file: 'grants/g.yaml',
  user: 'alice',
  target: 'db',
  role: 'ro',
  reason: 'x',
  expiresAt: new Date('2026-11-28T18:00:00Z'),
};
const role = (approvals: number, approvers: string[]): Role => ({
  name: 'ro',
  maxDuration: '8h',
  maxDurationMs: 1,
  approvals,
  approvers,
  dbRoles: [],
});
const pr = { number: 7, author: 'mallory', headSha: 'head' };
const approve = (user: string, commitId = 'head'): Review => ({ user, state: 'APPROVED', commitId });
const teams: Record<string, string[]> = { '@acme/dba': ['dora', 'alice', 'mallory'] };
const isMember = (team: string, user: string) => (teams[team] ?? []).includes(user);

const evaluate = (
  r: Role,
  reviews: Review[],
  opts: { headMatchesMerged?: boolean; noPr?: boolean; commits?: PullRequestCommit[] } = {},
) =>
  evaluateApproval({
    grant,
    role: r,
    ...(opts.noPr ? {} : { pr }),
    reviews,
    commits: opts.commits ?? [{ sha: 'head', author: 'mallory', committer: 'mallory' }],
    headMatchesMerged: opts.headMatchesMerged ?? true,
    isMember,
  });

describe('evaluateApproval', () => {
  it('counts approvals from listed users and team members on the final head', () => {
    expect(evaluate(role(2, ['bob', '@acme/dba']), [approve('bob'), approve('dora')])).toEqual({
      ok: true,
      approvers: ['bob', 'dora'],
    });
  });

  it("never counts the grant's user or the PR's author, even as team members", () => {
    const r = evaluate(role(1, ['@acme/dba']), [approve('alice'), approve('mallory')]);
    expect(r.ok).toBe(false);
    expect(r.reason).toBe(
      "PR #7 has 0 of the 1 approval(s) required from @acme/dba on its final commit head (the grant's user, the PR's author and the authors and committers of its commits do not count)",
    );
  });

  it('ignores approvals of an earlier commit, and non-approvers', () => {
    expect(evaluate(role(1, ['bob']), [approve('bob', 'old'), approve('eve')]).ok).toBe(false);
  });

  it("takes each reviewer's latest verdict: changes requested or dismissal cancels an approval", () => {
    expect(
      evaluate(role(1, ['bob']), [
        approve('bob'),
        { user: 'bob', state: 'CHANGES_REQUESTED', commitId: 'head' },
      ]).ok,
    ).toBe(false);
    expect(
      evaluate(role(1, ['bob']), [approve('bob'), { user: 'bob', state: 'DISMISSED', commitId: 'head' }]).ok,
    ).toBe(false);
    expect(
      evaluate(role(1, ['bob']), [approve('bob'), { user: 'bob', state: 'COMMENTED', commitId: 'head' }]).ok,
    ).toBe(true);
  });

  it('matches logins case-insensitively', () => {
    expect(evaluate(role(1, ['Bob']), [approve('bob')]).ok).toBe(true);
  });

  it('refuses without a merged PR, or when the merged file is not the reviewed one', () => {
    expect(evaluate(role(0, []), [], { noPr: true })).toMatchObject({
      ok: false,
      reason: expect.stringContaining('pushed directly') as string,
    });
    expect(evaluate(role(1, ['bob']), [approve('bob')], { headMatchesMerged: false })).toMatchObject({
      ok: false,
      reason: 'the grant file as merged differs from the file at the reviewed head of PR #7',
    });
  });

  it('lets merge alone grant when approvals is 0', () => {
    expect(evaluate(role(0, []), [])).toEqual({ ok: true, approvers: [] });
  });

  it("never counts who authored or committed a commit of the PR (a grant pushed onto a bot's branch)", () => {
    const commits = [
      { sha: 'c1', author: 'github-actions[bot]', committer: 'github-actions[bot]' },
      { sha: 'c2', author: 'dora', committer: 'erin' },
    ];
    const v = evaluate(role(1, ['dora', 'erin', 'bob']), [approve('dora'), approve('erin')], { commits });
    expect(v).toMatchObject({ ok: false, approvers: [] });
    expect(evaluate(role(1, ['dora', 'bob']), [approve('dora'), approve('bob')], { commits })).toEqual({
      ok: true,
      approvers: ['bob'],
    });
  });

  it('counts nobody when a commit maps to no account, or GitHub cannot list them all', () => {
    const unknown = [{ sha: 'abcdef123', author: null, committer: 'web-flow' }];
    expect(evaluate(role(1, ['bob']), [approve('bob')], { commits: unknown })).toEqual({
      ok: false,
      approvers: [],
      reason:
        "commit abcdef1 of PR #7 has an author whose email is no GitHub account's: whoever wrote it could approve it unseen, so no approval counts (write the commits with an email of your account)",
    });
    const many = Array.from({ length: 250 }, (_, i) => ({ sha: `c${i}`, author: 'x', committer: 'x' }));
    expect(evaluate(role(1, ['bob']), [approve('bob')], { commits: many })).toMatchObject({
      ok: false,
      reason: expect.stringContaining('250 or more commits') as unknown,
    });
  });
});
