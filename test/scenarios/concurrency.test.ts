import { describe, expect, it, vi } from 'vitest';
import { MAX_CONCURRENCY } from '../../src/model/policy.js';
import { loadPolicies } from '../../src/policy/load.js';
import { SchemaRegistry } from '../../src/policy/schema-registry.js';
import { applyJson } from '../../src/render/apply-view.js';
import { aGrant } from '../support/builders.js';
import { Scenario } from '../support/fakes/scenario.js';
import { memoryTree } from '../support/memory-tree.js';

/**
 * Issue 15, point 5: a policy's `concurrency` is what the run uses, above or below the run's
 * `--concurrency` (the default for targets whose policy says nothing), up to a documented cap, and
 * `--json` says what each target got. Before, an exec policy's 32 was held to the run's 16 silently.
 */
const vpn = (concurrency?: number) => `target: { name: vpn, type: exec, command: [./scripts/vpn.sh]${
  concurrency === undefined ? '' : `, concurrency: ${concurrency}`
} }
roles:
  ops: { maxDuration: 12h, approvals: 1, approvers: [bob] }
`;
const TEAM = `target: { name: oncall, type: github-team, org: acme, team: oncall }
roles:
  member: { maxDuration: 12h, approvals: 1, approvers: [bob] }
`;

describe('concurrency per target', () => {
  it("runs an exec policy's 32 at 32 though the run says 16, and reports each target's in --json", async () => {
    const s = new Scenario({ 'policies/vpn.yaml': vpn(32), 'policies/oncall.yaml': TEAM });
    const files: Record<string, string> = {};
    for (let i = 0; i < 40; i++)
      files[`grants/u${i}.yaml`] = aGrant()
        .for(`u${i}`)
        .on('vpn', 'ops')
        .expiresAt('2026-11-28T18:00:00Z')
        .without('ticket')
        .yaml();
    s.mergePullRequest({ number: 1, author: 'alice', files, approvedBy: ['bob'] });
    // The target as the policy parser configures it (what the exec adapter is built from).
    const parsed = await loadPolicies(s.git.work, new SchemaRegistry());
    s.holding(parsed.byTarget.get('vpn')!.policy.target, 'nobody', 'ops');
    const t = s.target('vpn');
    const open = t.holdCalls();
    const run = s.apply('2026-11-28T12:00:00Z', { concurrency: 16 });
    await vi.waitFor(() => expect(t.inFlight).toBe(32), { timeout: 2_000, interval: 5 });
    open();
    const report = await run;
    expect(report.results.filter((r) => r.ok)).toHaveLength(40);
    expect(t.peakInFlight).toBe(32);
    expect(report.concurrency).toEqual({ oncall: 16, vpn: 32 });
    expect(applyJson(report, false).concurrency).toEqual({ oncall: 16, vpn: 32 });
  });

  it('gives a target whose policy says nothing the run’s figure, an exec script 1, whatever the run', async () => {
    const s = new Scenario({ 'policies/vpn.yaml': vpn(), 'policies/oncall.yaml': TEAM });
    const dry = await s.apply('2026-11-28T12:00:00Z', { dryRun: true, concurrency: 48 });
    expect(dry.concurrency).toEqual({ oncall: 48, vpn: 1 });
    const only = await s.apply('2026-11-28T12:00:00Z', { dryRun: true, concurrency: 3, only: ['vpn'] });
    expect(only.concurrency).toEqual({ vpn: 1 });
  });

  it(`refuses a policy asking more than the cap of ${MAX_CONCURRENCY}`, async () => {
    const registry = new SchemaRegistry();
    const at = (n: number) => loadPolicies(memoryTree({ 'policies/vpn.yaml': vpn(n) }), registry);
    expect((await at(MAX_CONCURRENCY)).findings).toEqual([]);
    const over = await at(MAX_CONCURRENCY + 1);
    expect(over.findings.map((f) => f.message).join()).toMatch(/concurrency|64/);
  });
});
