import type { Grant } from '../model/grant.js';
import type { Policy } from '../model/policy.js';
import type { Access, EntitlementModel } from '../targets/target.js';

export type ActionReason =
  | 'new' // a grant is active and its access is missing
  | 'change-role' // single-valued target: the user holds another entitlement
  | 'update-expiry' // native expiry (VALID UNTIL) differs from the grant's expiresAt
  | 'expired' // every grant behind it has expired
  | 'removed' // its grant file was removed from main
  | 'enforce'; // no grant behind it, and the policy enforces

export interface PlannedAction {
  kind: 'grant' | 'revoke';
  target: string;
  user: string;
  entitlement: string;
  reason: ActionReason;
  /** Grants behind the action (for revokes: the ended ones, if known). */
  grantIds: string[];
  role?: string;
  expiresAt?: Date;
}

/** Access found in a managed scope that no grant explains. */
export interface Drift {
  target: string;
  user: string;
  entitlement: string;
  /** `enforce: true` planned its revocation. */
  enforced: boolean;
  /** Enforcement held back by the guard (too large a share of the scope in one run). */
  heldByGuard: boolean;
}

export interface Guard {
  target: string;
  wouldRevoke: number;
  scope: number;
  maxFraction: number;
}

export interface Plan {
  at: Date;
  actions: PlannedAction[];
  drift: Drift[];
  guards: Guard[];
  /** Targets whose state could not be observed: nothing is planned for them. */
  unobserved: { target: string; error: string }[];
}

export interface TargetState {
  policy: Policy;
  model: EntitlementModel;
  nativeExpiry: boolean;
  /** What exists, or why it could not be read. */
  observed: { ok: true; access: Access[] } | { ok: false; error: string };
}

export interface PlanInput {
  now: Date;
  /** Every valid grant in the repo. */
  grants: readonly Grant[];
  /** Grants allowed to take effect (approval verified). */
  approved: ReadonlySet<string>;
  /** Grants that were on main and have been removed since (early revocation). */
  retired?: readonly Grant[];
  targets: ReadonlyMap<string, TargetState>;
  /** Lift the enforcement guard for this run. */
  overrideGuard?: boolean;
}

interface Want {
  user: string;
  entitlement: string;
  expiresAt: Date;
  grantIds: string[];
  role: string;
}

// GitHub logins are case-insensitive: `Alice` observed is `alice` granted.
const key = (user: string, entitlement: string) => `${user.toLowerCase()}\u0000${entitlement}`;

/**
 * The pure heart of apply: what to grant and revoke on each target at `now` so that it holds exactly
 * the access the approved, active grants describe. Deterministic: sorted output, no I/O, no clock.
 */
export function planChanges(input: PlanInput): Plan {
  const t = input.now.getTime();
  const actions: PlannedAction[] = [];
  const drift: Drift[] = [];
  const guards: Guard[] = [];
  const unobserved: Plan['unobserved'] = [];

  for (const [name, state] of [...input.targets].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (!state.observed.ok) {
      unobserved.push({ target: name, error: state.observed.error });
      continue;
    }
    const exempt = new Set(state.policy.target.exempt.map((u) => u.toLowerCase()));
    const grants = input.grants.filter((g) => g.target === name && !exempt.has(g.user.toLowerCase()));
    const isActive = (g: Grant) => t < g.expiresAt.getTime() && (!g.startsAt || t >= g.startsAt.getTime());

    // Desired access: approved, active grants, merged per (user, entitlement).
    const wanted = new Map<string, Want>();
    for (const g of grants) {
      if (!isActive(g) || !input.approved.has(g.id) || !state.policy.roles.has(g.role)) continue;
      for (const entitlement of state.model.entitlements(g.role)) {
        const k = key(g.user, entitlement);
        const w = wanted.get(k);
        if (!w)
          wanted.set(k, {
            user: g.user,
            entitlement,
            expiresAt: g.expiresAt,
            grantIds: [g.id],
            role: g.role,
          });
        else {
          w.grantIds.push(g.id);
          if (g.expiresAt > w.expiresAt) w.expiresAt = g.expiresAt;
        }
      }
    }
    const ranking = state.model.ranking;
    if (ranking) {
      // One entitlement per user on a team or repo: the highest one wanted.
      const best = new Map<string, Want>();
      for (const w of wanted.values()) {
        const cur = best.get(w.user.toLowerCase());
        if (!cur || ranking.indexOf(w.entitlement) > ranking.indexOf(cur.entitlement)) {
          best.set(
            w.user.toLowerCase(),
            cur
              ? {
                  ...w,
                  expiresAt: maxDate(w.expiresAt, cur.expiresAt),
                  grantIds: [...w.grantIds, ...cur.grantIds],
                }
              : w,
          );
        } else {
          cur.expiresAt = maxDate(cur.expiresAt, w.expiresAt);
          cur.grantIds.push(...w.grantIds);
        }
      }
      wanted.clear();
      for (const w of best.values()) wanted.set(key(w.user, w.entitlement), w);
    }

    if (state.nativeExpiry) {
      // Native expiry (VALID UNTIL) is per account: it must last as long as the user's longest grant.
      const latest = new Map<string, Date>();
      for (const w of wanted.values())
        latest.set(w.user, maxDate(latest.get(w.user) ?? w.expiresAt, w.expiresAt));
      for (const w of wanted.values()) w.expiresAt = latest.get(w.user) ?? w.expiresAt;
    }

    const observed = state.observed.access.filter((a) => !exempt.has(a.user.toLowerCase()));
    const have = new Map(observed.map((a) => [key(a.user, a.entitlement), a]));
    const haveByUser = new Map<string, Access[]>();
    for (const a of observed)
      haveByUser.set(a.user.toLowerCase(), [...(haveByUser.get(a.user.toLowerCase()) ?? []), a]);

    for (const w of [...wanted.values()].sort(byUserEntitlement)) {
      const a = have.get(key(w.user, w.entitlement));
      const base = {
        kind: 'grant' as const,
        target: name,
        user: w.user,
        entitlement: w.entitlement,
        grantIds: w.grantIds.sort(),
        role: w.role,
        expiresAt: w.expiresAt,
      };
      // Access an unmanaged account holds is not the grant's: the grant call is made, and refused.
      if (!a || a.unmanaged) {
        const other = ranking ? haveByUser.get(w.user.toLowerCase())?.length : 0;
        actions.push({ ...base, reason: other ? 'change-role' : 'new' });
      } else if (
        state.nativeExpiry &&
        !a.noNativeExpiry &&
        a.expiresAt?.getTime() !== w.expiresAt.getTime()
      ) {
        actions.push({ ...base, reason: 'update-expiry' });
      }
    }

    // What exists but is not wanted: ended grants explain it; otherwise it is drift.
    const ended = new Map<string, { reason: ActionReason; ids: string[] }>();
    const explain = (g: Grant, reason: ActionReason) => {
      if (!state.policy.roles.has(g.role)) return;
      for (const e of state.model.entitlements(g.role)) {
        const k = key(g.user, e);
        const cur = ended.get(k);
        if (cur) cur.ids.push(g.id);
        else ended.set(k, { reason, ids: [g.id] });
      }
    };
    for (const g of grants) if (t >= g.expiresAt.getTime()) explain(g, 'expired');
    for (const g of input.retired ?? [])
      if (g.target === name && !exempt.has(g.user.toLowerCase())) explain(g, 'removed');

    const enforceRevokes: PlannedAction[] = [];
    const driftHere: Drift[] = [];
    for (const a of [...observed].sort(byUserEntitlement)) {
      const k = key(a.user, a.entitlement);
      if (wanted.has(k)) continue;
      // A single-valued target changes role with one grant call: no revoke of the old entitlement.
      if (ranking && [...wanted.values()].some((w) => w.user.toLowerCase() === a.user.toLowerCase()))
        continue;
      // grantops never gave an unmanaged account its access, so no ended grant explains it.
      const why = a.unmanaged ? undefined : ended.get(k);
      const revoke: PlannedAction = {
        kind: 'revoke',
        target: name,
        user: a.user,
        entitlement: a.entitlement,
        reason: why?.reason ?? 'enforce',
        grantIds: (why?.ids ?? []).sort(),
      };
      if (why) actions.push(revoke);
      else {
        const d: Drift = {
          target: name,
          user: a.user,
          entitlement: a.entitlement,
          enforced: state.policy.target.enforce,
          heldByGuard: false,
        };
        driftHere.push(d);
        if (d.enforced) enforceRevokes.push(revoke);
      }
    }
    if (enforceRevokes.length > 0) {
      const scopeUsers = new Set(observed.map((a) => a.user)).size;
      const users = new Set(enforceRevokes.map((r) => r.user)).size;
      const maxFraction = state.policy.target.enforceMaxFraction;
      // At least one removal per run is allowed, so enforcement works on small scopes too.
      if (!input.overrideGuard && users > Math.max(1, Math.floor(scopeUsers * maxFraction))) {
        guards.push({ target: name, wouldRevoke: users, scope: scopeUsers, maxFraction });
        for (const d of driftHere) if (d.enforced) d.heldByGuard = true;
      } else actions.push(...enforceRevokes);
    }
    drift.push(...driftHere);
  }
  return { at: input.now, actions, drift, guards, unobserved };
}

function maxDate(a: Date, b: Date): Date {
  return a > b ? a : b;
}

function byUserEntitlement(
  a: { user: string; entitlement: string },
  b: { user: string; entitlement: string },
): number {
  return a.user < b.user
    ? -1
    : a.user > b.user
      ? 1
      : a.entitlement < b.entitlement
        ? -1
        : a.entitlement > b.entitlement
          ? 1
          : 0;
}
