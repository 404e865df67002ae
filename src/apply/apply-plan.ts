import { errorMessage } from '../model/errors.js';
import type { Plan, PlannedAction } from '../plan/plan.js';
import type { Target } from '../targets/target.js';
import { mapLimited } from './run-limited.js';

export interface ActionResult {
  action: PlannedAction;
  ok: boolean;
  error?: string;
  /** Not attempted: the operations budget ran out first. */
  skipped?: boolean;
}

export interface ApplyOptions {
  /** Calls in flight at once across all targets. */
  concurrency: number;
  /** Most mutations one run may make; the rest wait for the next run. */
  budget?: number;
  onResult?: (r: ActionResult) => void;
}

/**
 * Executes a plan. Actions on the same (target, user) run in order, one at a time; different users
 * and targets run concurrently up to `concurrency`. A failure is recorded for its action and never
 * stops the others.
 */
export async function applyPlan(
  plan: Plan,
  targets: ReadonlyMap<string, Target>,
  options: ApplyOptions,
): Promise<ActionResult[]> {
  const groups = new Map<string, PlannedAction[]>();
  for (const a of plan.actions) {
    const k = `${a.target}\u0000${a.user}`;
    groups.set(k, [...(groups.get(k) ?? []), a]);
  }
  let budget = options.budget ?? Number.POSITIVE_INFINITY;
  const results: ActionResult[] = [];
  const record = (r: ActionResult) => {
    results.push(r);
    options.onResult?.(r);
  };
  await mapLimited([...groups.values()], options.concurrency, async (group) => {
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
  });
  const order = new Map(plan.actions.map((a, i) => [a, i]));
  return results.sort((a, b) => (order.get(a.action) ?? 0) - (order.get(b.action) ?? 0));
}
