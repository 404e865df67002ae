import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Grant } from '../../src/model/grant.js';
import type { BreakGlassRule, Role } from '../../src/model/policy.js';
import {
  findRetroReview,
  judgeBreakGlassUse,
  pickRetroIssue,
  reviewDeadline,
} from '../../src/policy/break-glass.js';
import { evidenceSigner, evidenceVerifier } from '../../src/policy/evidence-signature.js';
import type { ApprovalEvidence } from '../../src/policy/approval.js';
import { planRowView } from '../../src/render/plan-view.js';
import { describeGrantChange } from '../../src/plan/grant-change.js';
import type { IssueComment, IssueSummary } from '../../src/ports/access-repo.js';

const grant: Grant = {
  id: 'alice-bg',
  file: 'grants/alice-bg.yaml',
  user: 'alice',
  target: 'vpn',
  role: 'ops',
  reason: 'INC-9',
  expiresAt: new Date('2026-11-28T13:00:00Z'),
  breakGlass: true,
};
const rule: BreakGlassRule = {
  maxDuration: '4h',
  maxDurationMs: 4 * 3_600_000,
  reviewWithin: '1h',
  reviewWithinMs: 3_600_000,
  allowed: ['alice', '@acme/oncall'],
};
const role: Role = {
  name: 'ops',
  maxDuration: '8h',
  maxDurationMs: 8 * 3_600_000,
  approvals: 1,
  approvers: ['bob', '@acme/sre'],
  dbRoles: [],
  breakGlass: rule,
};
const teams: Record<string, string[]> = { '@acme/sre': ['dora', 'alice'], '@acme/oncall': ['olga'] };
const isMember = (team: string, user: string) => (teams[team] ?? []).includes(user.toLowerCase());
const deadline = reviewDeadline(Date.parse('2026-11-28T09:00:00Z'), rule);
const say = (author: string, body: string, createdAt: string, updatedAt = createdAt): IssueComment => ({
  id: 1,
  body,
  byBot: false,
  author,
  createdAt,
  updatedAt,
});
const landed = Date.parse('2026-11-28T09:00:00Z');
const review = (comments: IssueComment[], prAuthor = 'alice', notBefore = landed) =>
  findRetroReview({ comments, grant, role, prAuthor, notBefore, deadline, isMember });

describe('judgeBreakGlassUse', () => {
  const judge = (author: string, user = 'alice', headMatchesMerged = true) =>
    judgeBreakGlassUse({
      grant: { ...grant, user },
      rule,
      pr: { number: 7, author },
      headMatchesMerged,
      isMember,
    });
  it('allows an allowed user (or team member) their own grant, logins without regard to case', () => {
    expect(judge('Alice')).toEqual({ ok: true });
    expect(judge('olga', 'olga')).toEqual({ ok: true });
  });
  it('refuses another author, someone not allowed, and a file changed after the PR head', () => {
    const why = (r: ReturnType<typeof judge>) => (r.ok ? 'ok' : r.reason);
    expect(why(judge('alice', 'mallory'))).toContain("not by the grant's user mallory");
    expect(why(judge('mallory', 'mallory'))).toContain('is not allowed to use it');
    expect(why(judge('alice', 'alice', false))).toContain('differs from the file at the head');
  });
});

describe('findRetroReview', () => {
  it('is reviewWithin after the landing', () => {
    expect(deadline.toISOString()).toBe('2026-11-28T10:00:00.000Z');
  });
  it('counts the first eligible "/grantops approve" by the deadline', () => {
    expect(
      review([
        say('bob', '  /GrantOps approve  \nthanks', '2026-11-28T09:50:00Z'),
        say('dora', '/grantops approve', '2026-11-28T09:40:00Z'),
      ]),
    ).toEqual({ by: 'dora', at: '2026-11-28T09:40:00Z' });
  });
  it('ignores the grant’s user, the PR’s author, non-approvers, bots, other words, late and late-edited comments', () => {
    const none = [
      say('alice', '/grantops approve', '2026-11-28T09:10:00Z'), // the grant's user (an sre member too)
      say('mallory', '/grantops approve', '2026-11-28T09:10:00Z'), // not an approver
      { ...say('bob', '/grantops approve', '2026-11-28T09:10:00Z'), byBot: true },
      say('bob', 'I will /grantops approve later', '2026-11-28T09:10:00Z'),
      say('bob', '/grantops approve', '2026-11-28T10:00:01Z'),
      say('dora', '/grantops approve', '2026-11-28T09:10:00Z', '2026-11-28T10:30:00Z'),
      say('dora', '/grantops approve', '2026-11-28T09:10:00Z', '2026-11-28T09:10:01Z'), // edited, even in time
      say('bob', '/grantops approve', '2026-11-28T08:59:59Z'), // before the use landed
      { ...say('bob', '/grantops approve', '2026-11-28T09:10:00Z'), author: '' },
    ];
    expect(review(none)).toBeUndefined();
    expect(review([say('bob', '/grantops approve', '2026-11-28T09:10:00Z')], 'bob')).toBeUndefined();
    expect(review([say('bob', '/grantops approve', '2026-11-28T10:00:00Z')])).toEqual({
      by: 'bob',
      at: '2026-11-28T10:00:00Z',
    });
  });
});

describe('findRetroReview: no older approval, no edited comment', () => {
  it('refuses a comment older than the issue (notBefore), and an edit of any kind', () => {
    const ok = say('bob', '/grantops approve', '2026-11-28T09:20:00Z');
    expect(review([ok], 'alice', Date.parse('2026-11-28T09:20:00Z'))).toEqual({
      by: 'bob',
      at: ok.createdAt,
    });
    expect(review([ok], 'alice', Date.parse('2026-11-28T09:20:01Z'))).toBeUndefined();
    expect(review([{ ...ok, updatedAt: '2026-11-28T09:21:00Z' }])).toBeUndefined();
  });
});

describe('pickRetroIssue', () => {
  const marker = '<!-- grantops:break-glass:g@c -->';
  const other = '<!-- grantops:break-glass:h@d -->';
  const issue = (over: Partial<IssueSummary>): IssueSummary => ({
    number: 1,
    title: 't',
    body: marker,
    author: 'github-actions[bot]',
    createdAt: '2026-11-28T09:01:00Z',
    ...over,
  });
  const pick = (issues: IssueSummary[]) =>
    pickRetroIssue(issues, {
      marker,
      markerPrefix: '<!-- grantops:break-glass:',
      self: 'GitHub-Actions[bot]',
      landedAt: landed,
    })?.number;
  it('takes grantops’ own issue opened at or after the landing, with this marker only', () => {
    expect(pick([issue({ createdAt: '2026-11-28T09:00:00Z' })])).toBe(1);
    expect(pick([issue({ createdAt: '2026-11-28T08:59:59Z' })])).toBeUndefined(); // older: another use's
    expect(pick([issue({ author: 'other[bot]' })])).toBeUndefined(); // another bot
    expect(pick([issue({ author: 'mallory' })])).toBeUndefined();
    expect(pick([issue({ author: undefined })])).toBeUndefined();
    expect(pick([issue({ body: `${other}\n${marker}` })])).toBeUndefined(); // a marker added by hand
    expect(pick([issue({ body: 'no marker' }), issue({ number: 2 })])).toBe(2);
  });
});

describe('break-glass evidence signature', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const sign = evidenceSigner(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
  const verify = evidenceVerifier(publicKey.export({ type: 'spki', format: 'pem' }).toString());
  const plain: ApprovalEvidence = {
    pr: 7,
    headSha: 'h',
    approvers: [],
    commit: 'c',
    blob: 'b',
    verifiedAt: '2026-11-28T09:30:00Z',
  };
  it('covers the use: plain evidence cannot be turned into a break-glass use, nor its author changed', () => {
    const use = { ...plain, breakGlass: { author: 'alice', landedAt: 1 } };
    const signed = { ...use, signature: sign.sign('g', use) };
    expect(verify('g', signed)).toBe(true);
    expect(verify('g', { ...signed, breakGlass: { author: 'mallory', landedAt: 1 } })).toBe(false);
    const plainSigned = { ...plain, signature: sign.sign('g', plain) };
    expect(verify('g', plainSigned)).toBe(true);
    expect(verify('g', { ...plainSigned, breakGlass: { author: 'alice', landedAt: 1 } })).toBe(false);
  });
});

describe('plan row', () => {
  it('says a grant is break-glass, who may use it and when it must be reviewed', () => {
    const policy = {
      file: 'policies/vpn.yaml',
      target: {
        name: 'vpn',
        type: 'exec' as const,
        command: ['x'],
        timeoutMs: 1,
        concurrency: 1,
        env: [],
        enforce: false,
        enforceMaxFraction: 0.25,
        exempt: [],
      },
      roles: new Map([['ops', role]]),
      alertsBeforeMs: [],
    };
    const row = describeGrantChange(grant, 'added', policy, new Date('2026-11-28T09:00:00Z'));
    expect(planRowView(row).approvalsText).toBe(
      'BREAK-GLASS: none before merge if opened by its user, one of alice, @acme/oncall; then 1 from bob, @acme/sre within 1h, else revoked early',
    );
  });
});
