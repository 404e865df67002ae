import { errorMessage } from '../model/errors.js';
import { MAX_CONCURRENCY, type TargetConfig } from '../model/policy.js';
import type { Plan, PlannedAction } from '../plan/plan.js';
import type { Target } from '../ports/target.js';
import { mapLimited } from './run-limited.js';

export interface ActionResult {
  action: PlannedAction;
  ok: boolean;
  error?: string;
  /** Not attempted: the operations budget ran out first. */
  skipped?: boolean;
}

export interface ExecuteOptions {
  /**
   * Calls in flight at once on each target whose policy says nothing (an exec policy's own
   * `concurrency` is used instead); see targetConcurrency. Each target has its own slots, so one
   * whose calls hang cannot hold the slots of the others.
   */
  concurrency: number;
  /** Most mutations one run may make; the rest wait for the next run. */
  budget?: number;
  onResult?: (r: ActionResult) => void;
}

/**
 * Calls a target takes at once: what its policy says (an exec script says how many it can stand,
 * 1 unless set), else the run's `--concurrency`; never more than MAX_CONCURRENCY. The policy is not
 * held to the run's figure: that figure is the default, not a ceiling (issue 15: a policy's 32 was
 * silently run at 16).
 */
export function targetConcurrency(target: TargetConfig | undefined, runConcurrency: number): number {
  const asked = target?.type === 'exec' ? target.concurrency : runConcurrency;
  return Math.max(1, Math.min(asked, MAX_CONCURRENCY));
}

/**
 * Executes a plan. Actions on the same (target, user) run in order, one at a time; different users
 * run concurrently up to each target's own limit (see targetConcurrency), and targets independently
 * of each other. A failure is recorded for its action and never stops the others. Results come back
 * in plan order.
 */
export async function applyPlan(
  plan: Plan,
  targets: ReadonlyMap<string, Target>,
  options: ExecuteOptions,
): Promise<ActionResult[]> {
  const byTarget = new Map<string, Map<string, PlannedAction[]>>();
  for (const a of plan.actions) {
    let users = byTarget.get(a.target);
    if (!users) byTarget.set(a.target, (users = new Map<string, PlannedAction[]>()));
    const group = users.get(a.user);
    if (group) group.push(a);
    else users.set(a.user, [a]);
  }
  let budget = options.budget ?? Number.POSITIVE_INFINITY;
  const results: ActionResult[] = [];
  const record = (r: ActionResult) => {
    results.push(r);
    options.onResult?.(r);
  };
  const runGroup = async (group: PlannedAction[]) => {
    for (const action of group) {
      if (budget <= 0) {
        record({
          action,
          ok: false,
          skipped: true,
          error: 'operations budget exhausted; left for the next run',
        });
        continue;
      }
      budget--;
      const target = targets.get(action.target);
      try {
        if (!target) throw new Error(`no target "${action.target}"`);
        const change = {
          user: action.user,
          entitlement: action.entitlement,
          grantIds: action.grantIds,
          ...(action.expiresAt ? { expiresAt: action.expiresAt } : {}),
          ...(action.role ? { role: action.role } : {}),
        };
        if (action.kind === 'grant') await target.grant(change);
        else await target.revoke(change);
        record({ action, ok: true });
      } catch (err) {
        record({ action, ok: false, error: errorMessage(err) });
      }
    }
  };
  await Promise.all(
    [...byTarget].map(([name, users]) =>
      mapLimited(
        [...users.values()],
        targetConcurrency(targets.get(name)?.config, options.concurrency),
        runGroup,
      ),
    ),
  );
  const order = new Map(plan.actions.map((a, i) => [a, i]));
  return results.sort((a, b) => (order.get(a.action) ?? 0) - (order.get(b.action) ?? 0));
}
