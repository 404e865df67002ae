import { beforeAll, describe, expect, it } from 'vitest';
import type { Grant } from '../../src/model/grant.js';
import type { Policy } from '../../src/model/policy.js';
import { loadPolicies } from '../../src/policy/load.js';
import { SchemaRegistry } from '../../src/policy/schema-registry.js';
import { dueWarnings } from '../../src/reaper/alerts.js';
import { AlertSender } from '../../src/usecases/send-alerts.js';
import { MemoryGitHub } from '../support/fakes/memory-github.js';
import { memoryTree } from '../support/memory-tree.js';

/** Alerts, as rules: warnings once per window, overdue issues that follow the problem, the webhook once. */
const grant = (id: string, expiresAt: string): Grant => ({
  id,
  file: `grants/${id}.yaml`,
  user: id,
  target: 'vpn',
  role: 'ops',
  reason: 'r',
  expiresAt: new Date(expiresAt),
});
let policies: ReadonlyMap<string, Policy>;
beforeAll(async () => {
  const loaded = await loadPolicies(
    memoryTree({
      'policies/vpn.yaml': `target: { name: vpn, type: exec, command: [./x] }
roles:
  ops: { maxDuration: 1d, approvals: 0 }
alerts: { before: [1d, 1h] }
`,
    }),
    new SchemaRegistry(),
  );
  policies = new Map([...loaded.byTarget].map(([k, v]) => [k, v.policy]));
});
const render = (name: string, view: object) => Promise.resolve(`${name} ${JSON.stringify(view)}`);

function sender(gh: MemoryGitHub, posts: string[]) {
  return new AlertSender(gh, render, (text) => {
    posts.push(text);
    return Promise.resolve();
  });
}

describe('alerts', () => {
  it('picks the narrowest window a grant’s remaining time falls in', () => {
    const now = new Date('2026-11-28T12:00:00Z');
    const due = dueWarnings(
      now,
      [
        grant('a', '2026-11-28T12:30:00Z'),
        grant('b', '2026-11-28T16:00:00Z'),
        grant('c', '2026-12-05T00:00:00Z'),
      ],
      policies,
      () => 7,
    );
    // The 1d window of a 1d role is capped at its last quarter (6h), where `status` says `expiring`.
    expect(due.map((w) => [w.grant.id, w.window])).toEqual([
      ['a', '1h'],
      ['b', '6h'],
    ]);
  });

  it('does not warn a grant the moment it lands: a window is at most a quarter of the role', () => {
    const now = new Date('2026-11-28T12:00:00Z');
    // 8h left of a 1d role: inside `alerts.before: 1d`, but `status` calls it active, not expiring.
    const due = dueWarnings(now, [grant('fresh', '2026-11-28T20:00:00Z')], policies, () => 7);
    expect(due).toEqual([]);
  });

  it("warns once per window with a personal token too: its own comments are a person's, not a bot's", async () => {
    const gh = new MemoryGitHub();
    gh.login = 'ops-automation';
    const now = new Date('2026-11-28T12:00:00Z');
    const warnings = dueWarnings(now, [grant('carol', '2026-11-28T12:30:00Z')], policies, () => 5);
    const first = await sender(gh, []).send(now, warnings, [], policies);
    const second = await sender(gh, []).send(now, warnings, [], policies);
    expect([first.warningsPosted, second.warningsPosted, second.warningsAlreadySent]).toEqual([1, 0, 1]);
  });

  it('warns once per grant and window, and a person quoting the marker does not silence it', async () => {
    const gh = new MemoryGitHub();
    const now = new Date('2026-11-28T12:00:00Z');
    const warnings = dueWarnings(now, [grant('carol', '2026-11-28T12:30:00Z')], policies, () => 5);
    gh.addHumanComment(5, 'mallory', 'quoting <!-- grantops:expiry:carol:1h --> to silence the warning');
    const first = await sender(gh, []).send(now, warnings, [], policies);
    const second = await sender(gh, []).send(now, warnings, [], policies);
    expect([first.warningsPosted, second.warningsPosted, second.warningsAlreadySent]).toEqual([1, 0, 1]);
    expect(gh.commentsByIssue.get(5)?.filter((c) => c.byBot)).toHaveLength(1);
  });

  it('opens one issue per overdue grant, updates it while it stays, closes it when resolved; the webhook speaks once', async () => {
    const gh = new MemoryGitHub();
    const posts: string[] = [];
    const t1 = new Date('2026-11-28T12:00:00Z');
    const stuck = { grant: grant('stuck', '2026-11-28T11:00:00Z'), reason: 'revoke failed' };
    const a = await sender(gh, posts).send(t1, [], [stuck], policies);
    expect(a.overdueIssues).toEqual({ created: 1, updated: 0, closed: 0 });
    const b = await sender(gh, posts).send(new Date('2026-11-28T12:15:00Z'), [], [stuck], policies);
    expect(b.overdueIssues).toEqual({ created: 0, updated: 1, closed: 0 });
    const c = await sender(gh, posts).send(new Date('2026-11-28T12:30:00Z'), [], [], policies);
    expect(c.overdueIssues).toEqual({ created: 0, updated: 0, closed: 1 });
    expect(gh.issues.map((i) => i.state)).toEqual(['closed']);
    expect(posts).toHaveLength(1);
    expect(posts[0]).toContain('stuck');
  });

  it('reports a GitHub failure as an alert error and still calls the webhook', async () => {
    const gh = new MemoryGitHub();
    gh.failing.add('openIssues');
    const posts: string[] = [];
    const now = new Date('2026-11-28T12:00:00Z');
    const r = await sender(gh, posts).send(
      now,
      [],
      [{ grant: grant('x', '2026-11-28T11:00:00Z'), reason: 'r' }],
      policies,
    );
    expect(r.errors).toEqual([expect.stringContaining('overdue issues: GitHub answered 502')]);
    expect(posts).toHaveLength(1);
  });

  it('a break-glass review GitHub cannot serve: its own issue beside the overdue ones, and the webhook on every run', async () => {
    const gh = new MemoryGitHub();
    const posts: string[] = [];
    const unread = {
      grant: grant('bg', '2026-11-28T20:00:00Z'),
      due: new Date('2026-11-28T12:00:00Z'),
      reason: 'its retro review could not be read from GitHub: 502',
    };
    const stuck = { grant: grant('stuck', '2026-11-28T11:00:00Z'), reason: 'revoke failed' };
    const t1 = new Date('2026-11-28T12:30:00Z');
    const a = await sender(gh, posts).send(t1, [], [stuck], policies, [unread]);
    expect(a.overdueIssues).toEqual({ created: 2, updated: 0, closed: 0 });
    expect(gh.issues.map((i) => i.title)).toEqual([
      'grantops: access of expired grant stuck is not revoked',
      'grantops: retro review of break-glass grant bg could not be read',
    ]);
    expect(gh.issues[1]!.body).toContain('<!-- grantops:overdue:break-glass-review:bg -->');
    expect(gh.issues[1]!.body).toContain('"due":"2026-11-28T12:00:00Z","late":"30m"');
    // One webhook post for each: the overdue one once, the unread one on every run.
    expect(posts.filter((p) => p.startsWith('review-unread-webhook.txt'))).toHaveLength(1);
    const b = await sender(gh, posts).send(new Date('2026-11-28T12:45:00Z'), [], [stuck], policies, [unread]);
    expect(b.overdueIssues).toEqual({ created: 0, updated: 2, closed: 0 });
    expect(posts.filter((p) => p.startsWith('review-unread-webhook.txt'))).toHaveLength(2);
    expect(posts.filter((p) => p.startsWith('webhook.txt'))).toHaveLength(1);
    // Decided: its issue closes, the overdue one stays.
    await sender(gh, posts).send(new Date('2026-11-28T13:00:00Z'), [], [stuck], policies, []);
    expect(gh.issues.map((i) => i.state)).toEqual(['open', 'closed']);
    expect(posts.filter((p) => p.startsWith('review-unread-webhook.txt'))).toHaveLength(2);
  });
});
