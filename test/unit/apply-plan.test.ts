import { describe, expect, it, vi } from 'vitest';
import { applyPlan, targetConcurrency, type ActionResult } from '../../src/apply/apply-plan.js';
import { MAX_CONCURRENCY, type GithubTeamTarget, type TargetConfig } from '../../src/model/policy.js';
import type { Plan, PlannedAction } from '../../src/plan/plan.js';
import type { AccessChange, Target } from '../../src/ports/target.js';
import { MemoryTarget } from '../support/fakes/memory-target.js';
import { execTarget } from '../support/fakes/scenario.js';

/** applyPlan's scheduling: per-target slots, per-user order, the budget, plan-ordered results. */
const team = (name: string): GithubTeamTarget => ({
  name,
  type: 'github-team',
  org: 'acme',
  team: name,
  enforce: false,
  enforceMaxFraction: 0.25,
  exempt: [],
});

/** A target whose calls wait until the test opens the gate: a system that hangs. */
class GatedTarget extends MemoryTarget {
  private opened = false;
  private readonly waiting: (() => void)[] = [];

  constructor(config: TargetConfig) {
    super(config);
  }

  open(): void {
    this.opened = true;
    for (const go of this.waiting.splice(0)) go();
  }

  override async grant(change: AccessChange): Promise<void> {
    await this.gate(`grant ${change.user}`);
    return super.grant(change);
  }

  override async revoke(change: AccessChange): Promise<void> {
    await this.gate(`revoke ${change.user}`);
    return super.revoke(change);
  }

  private async gate(what: string): Promise<void> {
    this.inFlight++;
    this.peakInFlight = Math.max(this.peakInFlight, this.inFlight);
    this.calls.push(`start ${what}`);
    try {
      if (!this.opened) await new Promise<void>((resolve) => this.waiting.push(resolve));
    } finally {
      this.inFlight--;
    }
  }
}

const action = (target: string, user: string, kind: 'grant' | 'revoke' = 'grant'): PlannedAction => ({
  kind,
  target,
  user,
  entitlement: 'member',
  reason: kind === 'grant' ? 'new' : 'expired',
  grantIds: [`${target}-${user}`],
});
const planOf = (actions: PlannedAction[]): Plan => ({
  at: new Date('2026-11-28T12:00:00Z'),
  actions,
  drift: [],
  guards: [],
  held: [],
  settled: [],
  unobserved: [],
});
const summary = (results: ActionResult[]) =>
  results.map((r) => `${r.action.target}/${r.action.user} ${r.ok ? 'ok' : (r.error ?? 'failed')}`);

describe('applyPlan', () => {
  it('gives each target its own slots: five hung calls on one target do not stop another', async () => {
    const slow = new GatedTarget(team('slow'));
    const fast = new MemoryTarget(team('fast'));
    const targets = new Map<string, Target>([
      ['slow', slow],
      ['fast', fast],
    ]);
    // The hung target comes first in the plan: with one pool of two slots it took both, for good.
    const actions = [
      ...['a1', 'a2', 'a3', 'a4', 'a5'].map((u) => action('slow', u)),
      ...['b1', 'b2', 'b3'].map((u) => action('fast', u)),
    ];
    const done: ActionResult[] = [];
    const run = applyPlan(planOf(actions), targets, { concurrency: 2, onResult: (r) => done.push(r) });

    await vi.waitFor(() => expect(summary(done)).toEqual(['fast/b1 ok', 'fast/b2 ok', 'fast/b3 ok']), {
      timeout: 2_000,
      interval: 5,
    });
    expect(slow.inFlight).toBe(2);
    expect(['b1', 'b2', 'b3'].every((u) => fast.holds(u, 'member'))).toBe(true);

    slow.open();
    const results = await run;
    expect(summary(results)).toEqual([
      'slow/a1 ok',
      'slow/a2 ok',
      'slow/a3 ok',
      'slow/a4 ok',
      'slow/a5 ok',
      'fast/b1 ok',
      'fast/b2 ok',
      'fast/b3 ok',
    ]);
    expect(slow.peakInFlight).toBe(2);
  });

  it("holds an exec target to its policy's concurrency while others use the run's", async () => {
    const vpn = new GatedTarget(execTarget('vpn'));
    const teamTarget = new GatedTarget(team('oncall'));
    const targets = new Map<string, Target>([
      ['vpn', vpn],
      ['oncall', teamTarget],
    ]);
    const users = ['u1', 'u2', 'u3', 'u4', 'u5'];
    const actions = [...users.map((u) => action('vpn', u)), ...users.map((u) => action('oncall', u))];
    const run = applyPlan(planOf(actions), targets, { concurrency: 4 });

    await vi.waitFor(() => expect(teamTarget.inFlight).toBe(4), { timeout: 2_000, interval: 5 });
    expect(vpn.inFlight).toBe(1);
    vpn.open();
    teamTarget.open();
    expect((await run).every((r) => r.ok)).toBe(true);
    expect([vpn.peakInFlight, teamTarget.peakInFlight]).toEqual([1, 4]);
  });

  it("gives an exec target its policy's concurrency even above the run's (issue 15: 32 ran at 16)", async () => {
    const vpn = new GatedTarget({ ...execTarget('vpn'), concurrency: 32 });
    const users = Array.from({ length: 40 }, (_, i) => `u${i}`);
    const run = applyPlan(
      planOf(users.map((u) => action('vpn', u))),
      new Map<string, Target>([['vpn', vpn]]),
      { concurrency: 16 },
    );
    await vi.waitFor(() => expect(vpn.inFlight).toBe(32), { timeout: 2_000, interval: 5 });
    vpn.open();
    expect((await run).every((r) => r.ok)).toBe(true);
    expect(vpn.peakInFlight).toBe(32);
  });

  it(`holds every target to the global cap of ${MAX_CONCURRENCY} in flight`, async () => {
    const vpn = new GatedTarget({ ...execTarget('vpn'), concurrency: 100 });
    const users = Array.from({ length: 80 }, (_, i) => `u${i}`);
    const run = applyPlan(
      planOf(users.map((u) => action('vpn', u))),
      new Map<string, Target>([['vpn', vpn]]),
      { concurrency: 16 },
    );
    await vi.waitFor(() => expect(vpn.inFlight).toBe(MAX_CONCURRENCY), { timeout: 2_000, interval: 5 });
    vpn.open();
    expect((await run).every((r) => r.ok)).toBe(true);
    expect(vpn.peakInFlight).toBe(MAX_CONCURRENCY);
    expect(targetConcurrency(team('oncall'), 500)).toBe(MAX_CONCURRENCY);
    expect(targetConcurrency(team('oncall'), 16)).toBe(16);
    expect(targetConcurrency(execTarget('vpn'), 16)).toBe(1);
    expect(targetConcurrency({ ...execTarget('vpn'), concurrency: 32 }, 4)).toBe(32);
  });

  it("runs one user's actions on a target in plan order, the next only after the last ended", async () => {
    const t = new GatedTarget(team('oncall'));
    const plan = planOf([action('oncall', 'alice', 'revoke'), action('oncall', 'alice', 'grant')]);
    const run = applyPlan(plan, new Map([['oncall', t]]), { concurrency: 4 });

    await vi.waitFor(() => expect(t.calls).toEqual(['start revoke alice']), { timeout: 2_000, interval: 5 });
    await new Promise((resolve) => setImmediate(resolve));
    expect(t.calls).toEqual(['start revoke alice']);
    t.open();
    await run;
    expect(t.calls).toEqual([
      'start revoke alice',
      'revoke alice member',
      'start grant alice',
      'grant alice member',
    ]);
  });

  it('spends one operations budget across all targets and skips the rest', async () => {
    const a = new MemoryTarget(team('a'));
    const b = new MemoryTarget(team('b'));
    const actions = ['u1', 'u2', 'u3'].flatMap((u) => [action('a', u), action('b', u)]);
    const results = await applyPlan(
      planOf(actions),
      new Map([
        ['a', a],
        ['b', b],
      ]),
      { concurrency: 2, budget: 4 },
    );
    expect(results.map((r) => r.action)).toEqual(actions);
    expect(results.filter((r) => r.ok)).toHaveLength(4);
    expect(results.filter((r) => r.skipped)).toHaveLength(2);
    expect(a.calls.length + b.calls.length).toBe(4);
  });
});
