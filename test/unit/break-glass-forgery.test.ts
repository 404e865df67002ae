import { describe, expect, it } from 'vitest';
import type { Grant } from '../../src/model/grant.js';
import type { BreakGlassRule, Role } from '../../src/model/policy.js';
import type { ApprovalVerdict } from '../../src/policy/approval.js';
import type { AccessRepoGitHub, IssueComment, IssueSummary } from '../../src/ports/access-repo.js';
import { checkRetroReviews, retroReviewMarker } from '../../src/usecases/break-glass.js';

// Regression tests from the red team's attacks (redteam/breakglass.md findings 1, 4 and 7): each
// attack passed before the fix; here each must fail.
const rule: BreakGlassRule = {
  maxDuration: '4h',
  maxDurationMs: 4 * 3_600_000,
  reviewWithin: '1h',
  reviewWithinMs: 3_600_000,
  allowed: ['mallory', 'alice'],
};
const role: Role = {
  name: 'ops',
  maxDuration: '8h',
  maxDurationMs: 8 * 3_600_000,
  approvals: 1,
  approvers: ['bob'],
  dbRoles: [],
  breakGlass: rule,
};
const grant: Grant = {
  id: 'mallory-bg',
  file: 'grants/mallory-bg.yaml',
  user: 'mallory',
  target: 'vpn',
  role: 'ops',
  reason: 'x',
  expiresAt: new Date('2026-12-01T13:00:00Z'),
  breakGlass: true,
};
const SELF = 'github-actions[bot]';
const NEW = 'b'.repeat(40);
const OLD = 'a'.repeat(40);
const landedAt = Date.parse('2026-12-01T09:00:00Z');
const now = new Date('2026-12-01T12:00:00Z'); // the deadline (10:00) has passed

function fake(issues: IssueSummary[], comments: Record<number, IssueComment[]>): AccessRepoGitHub {
  return {
    slug: 'o/r',
    selfLogin: () => Promise.resolve(SELF),
    openIssues: () => Promise.resolve(issues),
    comments: (n: number) => Promise.resolve(comments[n] ?? []),
    isTeamMember: () => Promise.resolve(false),
  } as Partial<AccessRepoGitHub> as AccessRepoGitHub;
}
const verdict = (): ApprovalVerdict => ({
  approved: true,
  source: 'github',
  evidence: {
    pr: 9,
    headSha: 'h',
    approvers: [],
    commit: NEW,
    blob: 'x',
    verifiedAt: '',
    breakGlass: { author: 'mallory', landedAt },
  },
});
const genuine = (body = retroReviewMarker('mallory-bg', NEW)): IssueSummary => ({
  number: 20,
  title: 't',
  body,
  byBot: true,
  author: SELF,
  createdAt: '2026-12-01T09:01:00Z',
  state: 'open',
});
const bob = (id: number, body: string, createdAt: string, updatedAt = createdAt): IssueComment => ({
  id,
  body,
  byBot: false,
  author: 'bob',
  createdAt,
  updatedAt,
});

async function run(gh: AccessRepoGitHub) {
  const out = new Map([[grant.id, verdict()]]);
  await checkRetroReviews([{ grant, role, commit: NEW, landedAt, added: true }], out, {
    now,
    github: gh,
    isMember: () => Promise.resolve(false),
    record: () => {},
  });
  return out.get(grant.id)!;
}
const cutShort = (v: ApprovalVerdict) => (v.approved ? v.cutShort : undefined);

describe('break-glass retro review: forgeries fail', () => {
  it('the genuine issue with a fresh approval keeps the grant (the control)', async () => {
    const v = await run(fake([genuine()], { 20: [bob(3, '/grantops approve', '2026-12-01T09:20:00Z')] }));
    expect(cutShort(v)).toBeUndefined();
    expect(v.approved && v.reviewSeen).toEqual({ by: 'bob', at: '2026-12-01T09:20:00Z' });
  });

  it('the marker moved onto an older, already-reviewed grantops issue does not count', async () => {
    const old: IssueSummary = {
      number: 5,
      title: 'old use',
      byBot: true,
      author: SELF,
      createdAt: '2026-10-01T09:00:00Z',
      state: 'closed',
      body: `${retroReviewMarker('alice-bg', OLD)}\n${retroReviewMarker('mallory-bg', NEW)}`,
    };
    const v = await run(
      fake([genuine('marker removed by mallory'), old], {
        5: [bob(1, '/grantops approve', '2026-10-01T10:00:00Z')],
      }),
    );
    expect(cutShort(v)?.reason).toContain('retro-review issue');
    expect(v.approved && v.reviewSeen).toBeFalsy();
  });

  it('the marker alone on an old issue (the other marker removed too) does not count either', async () => {
    const old = { ...genuine(), number: 5, createdAt: '2026-12-01T08:00:00Z' };
    const v = await run(fake([old], { 5: [bob(1, '/grantops approve', '2026-12-01T09:30:00Z')] }));
    expect(cutShort(v)).toBeDefined();
  });

  it('an issue another account opened with the marker does not count', async () => {
    const v = await run(
      fake([{ ...genuine(), author: 'mallory', byBot: false }], {
        20: [bob(1, '/grantops approve', '2026-12-01T09:30:00Z')],
      }),
    );
    expect(cutShort(v)).toBeDefined();
  });

  it('an approver’s comment edited into "/grantops approve" (by a writer) does not count', async () => {
    const edited = bob(
      2,
      '/grantops approve\n(was: "why do you need this?")',
      '2026-12-01T09:10:00Z',
      '2026-12-01T09:50:00Z',
    );
    const v = await run(fake([genuine()], { 20: [edited] }));
    expect(cutShort(v)?.reason).toContain('no eligible approval');
  });

  it('an approval older than the issue does not count', async () => {
    const v = await run(
      fake([{ ...genuine(), createdAt: '2026-12-01T09:30:00Z' }], {
        20: [bob(1, '/grantops approve', '2026-12-01T09:20:00Z')],
      }),
    );
    expect(cutShort(v)).toBeDefined();
  });
});

describe('break-glass retro review: a GitHub error after the deadline', () => {
  it('leaves a reviewed use undecided (neither kept nor cut short), never revoked for good', async () => {
    const ok = fake([genuine()], { 20: [bob(3, '/grantops approve', '2026-12-01T09:20:00Z')] });
    const flaky = {
      ...ok,
      comments: () => Promise.reject(new Error('502 Bad Gateway')),
    } as AccessRepoGitHub;
    const v = await run(flaky);
    expect(v.approved).toBe(false);
    expect(!v.approved && v.undecided).toBe(true);
    expect(!v.approved && v.reason).toContain('502 Bad Gateway');
    // The next run, with GitHub back, decides from GitHub's timestamps: reviewed in time.
    expect(cutShort(await run(ok))).toBeUndefined();
  });
});
