import type { Drift } from '../plan/types.js';
import { applyGrants } from '../usecases/apply-grants.js';
import { reportStatus, type StatusReport } from '../usecases/grant-status.js';
import type { Wiring } from './wiring.js';

export interface StatusJobOptions {
  /** Window for "expiring"; default: each policy's first alert. */
  expiringWithinMs?: number;
  /** Also read the targets (a dry-run reap plan): access that outlives its grant, grants not applied. */
  observe?: boolean;
}

export interface StatusJobResult {
  report: StatusReport;
  /** With `observe`: per grant id, how long (ms) its access has outlived it. */
  outlives: Map<string, number>;
  /** With `observe`: approved, started grants whose target lacks the access. */
  notApplied: Set<string>;
  /** With `observe`: targets that could not be read. */
  unreadable: { target: string; error: string }[];
  /** With `observe`: access found in a managed scope that no grant explains. */
  drift: Drift[];
}

/** `status`: every grant's state at now; with `observe`, what the targets hold against it. */
export async function statusJob(w: Wiring, opts: StatusJobOptions): Promise<StatusJobResult> {
  const report = await reportStatus(
    {
      now: w.config.now,
      ...(opts.expiringWithinMs !== undefined ? { expiringWithinMs: opts.expiringWithinMs } : {}),
    },
    { work: w.work, registry: w.registry },
  );
  const result: StatusJobResult = {
    report,
    outlives: new Map(),
    notApplied: new Set(),
    unreadable: [],
    drift: [],
  };
  if (!opts.observe) return result;
  w.requireGit();
  // A dry-run apply with recorded evidence: what the targets lack and hold against the grants.
  const planned = await applyGrants(
    { now: w.config.now, dryRun: true, concurrency: w.config.concurrency },
    {
      work: w.work,
      registry: w.registry,
      approvals: await w.approvals('keep'),
      createTarget: await w.targets(),
    },
  );
  result.unreadable = planned.plan.unobserved;
  result.drift = planned.plan.drift;
  const byId = new Map(report.rows.map((r) => [r.grant.id, r.grant]));
  for (const a of planned.plan.actions) {
    for (const id of a.grantIds) {
      const g = byId.get(id);
      if (!g) continue;
      if (a.kind === 'revoke' && a.present && a.reason !== 'enforce')
        result.outlives.set(id, w.config.now.getTime() - g.expiresAt.getTime());
      // Approved and started, yet the target lacks it: the apply that should have run did not.
      if (a.kind === 'grant' && a.reason !== 'update-expiry') result.notApplied.add(id);
    }
  }
  return result;
}
