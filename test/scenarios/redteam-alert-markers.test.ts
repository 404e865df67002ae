import { describe, expect, it } from 'vitest';
import type { Grant } from '../../src/model/grant.js';
import { ISSUE_LABEL } from '../../src/usecases/github-threads.js';
import { AlertSender } from '../../src/usecases/send-alerts.js';
import { MemoryGitHub } from '../support/fakes/memory-github.js';

/**
 * Red team: the overdue issues are found again by a hidden marker, and the webhook speaks only when
 * grantops creates the issue. An issue a writer opened beforehand with that marker and the label
 * (a person, or a workflow's bot) must neither stand for grantops' own nor silence the webhook.
 */
const stuck: Grant = {
  id: 'stuck',
  file: 'grants/stuck.yaml',
  user: 'stuck',
  target: 'vpn',
  role: 'ops',
  reason: 'r',
  expiresAt: new Date('2026-11-28T11:00:00Z'),
};
const render = (name: string, view: object) => Promise.resolve(`${name} ${JSON.stringify(view)}`);

describe('overdue alerts with a planted marker (red team)', () => {
  for (const [who, bot] of [
    ['mallory', false],
    ['mallory-ci[bot]', true],
  ] as const) {
    it(`an issue ${who} opened with the overdue marker does not silence the webhook`, async () => {
      const gh = new MemoryGitHub();
      gh.plantIssue(who, bot, 'nothing to see', '<!-- grantops:overdue:stuck -->\nfine', [ISSUE_LABEL]);
      const posts: string[] = [];
      const send = new AlertSender(gh, render, (text) => {
        posts.push(text);
        return Promise.resolve();
      });
      const r = await send.send(
        new Date('2026-11-28T12:00:00Z'),
        [],
        [{ grant: stuck, reason: 'revoke failed' }],
        new Map(),
      );
      expect(r.errors).toEqual([]);
      expect(posts).toHaveLength(1);
      expect(posts[0]).toContain('stuck');
      // grantops opened its own issue; the planted one is not its to edit or close.
      const mine = gh.issues.filter((i) => i.author === 'grantops[bot]');
      expect(mine.map((i) => [i.state, i.body.includes('<!-- grantops:overdue:stuck -->')])).toEqual([
        ['open', true],
      ]);
      expect(gh.issues.find((i) => i.author === who)?.body).toBe('<!-- grantops:overdue:stuck -->\nfine');
    });
  }
});

describe('expiry warnings with a planted marker (red team)', () => {
  it("another bot's comment quoting the marker does not silence the warning", async () => {
    const gh = new MemoryGitHub();
    const carol: Grant = {
      ...stuck,
      id: 'carol',
      user: 'carol',
      expiresAt: new Date('2026-11-28T12:30:00Z'),
    };
    const list = gh.commentsByIssue.get(5) ?? [];
    list.push({ id: 1, body: '<!-- grantops:expiry:carol:1h -->', byBot: true, author: 'mallory-ci[bot]' });
    gh.commentsByIssue.set(5, list);
    const send = new AlertSender(gh, render, () => Promise.resolve());
    const warning = { grant: carol, window: '1h', remainingMs: 1_800_000, pr: 5 };
    const r = await send.send(new Date('2026-11-28T12:00:00Z'), [warning], [], new Map());
    expect([r.warningsPosted, r.warningsAlreadySent]).toEqual([1, 0]);
    expect(gh.commentsByIssue.get(5)?.filter((c) => c.author === 'grantops[bot]')).toHaveLength(1);
  });
});
