import type { Grant } from '../model/grant.js';
import { endedGrants } from './ended.js';
import type { Access } from '../ports/target.js';
import type { ActionReason, PlannedAction, Settled, Drift, Guard, Held, Plan, PlanInput } from './types.js';

export type {
  ActionReason,
  PlannedAction,
  Settled,
  Drift,
  Guard,
  Held,
  Plan,
  TargetState,
  PlanInput,
} from './types.js';

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
 * the access the approved, active grants describe. Revocation is state-based: an expired grant gets an
 * explicit revoke whatever the target lists; access that an earlier grant (or version) explains is
 * revoked once that grant is no longer on main; anything else is drift. Deterministic: sorted output,
 * no I/O, no clock.
 */
export function planChanges(input: PlanInput): Plan {
  const t = input.now.getTime();
  const actions: PlannedAction[] = [];
  const drift: Drift[] = [];
  const guards: Guard[] = [];
  const held: Held[] = [];
  const settled: Settled[] = [];
  const unobserved: Plan['unobserved'] = [];
  const ended = endedGrants(input);
  // Grouped once: a filter over every grant per target is targets x grants.
  const grantsOf = new Map<string, Grant[]>();
  for (const g of input.grants) {
    const list = grantsOf.get(g.target);
    if (list) list.push(g);
    else grantsOf.set(g.target, [g]);
  }

  for (const [name, state] of [...input.targets].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const exempt = new Set(state.policy.target.exempt.map((u) => u.toLowerCase()));
    const grants = (grantsOf.get(name) ?? []).filter((g) => !exempt.has(g.user.toLowerCase()));
    // An exempt login is never touched: its expired grants get no revoke, and so keep their files.
    const endedHere = (ended.get(name) ?? []).filter((e) => !exempt.has(e.user.toLowerCase()));
    const model = state.model;
    if (!model) {
      // Without the adapter, the entitlements an ended grant conferred are unknown: nothing is
      // revoked, and the grants whose revocation this blocks say so.
      const ids = [...new Set(endedHere.filter((e) => e.explicit).map((e) => e.id))].sort();
      if (ids.length > 0)
        held.push({
          target: name,
          user: '',
          entitlement: '',
          grantIds: ids,
          reason: `target ${name} could not be set up: ${state.observed.ok ? 'no adapter' : state.observed.error}`,
        });
      if (!state.observed.ok) unobserved.push({ target: name, error: state.observed.error });
      continue;
    }
    const isActive = (g: Grant) => t < g.expiresAt.getTime() && (!g.startsAt || t >= g.startsAt.getTime());

    // Desired access: approved, active grants, merged per (user, entitlement).
    const wanted = new Map<string, Want>();
    for (const g of grants) {
      if (!isActive(g) || !input.approved.has(g.id) || !state.policy.roles.has(g.role)) continue;
      for (const entitlement of model.entitlements(g.role)) {
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
    const ranking = model.ranking;
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
    // On a single-valued target a user is wanted at one entitlement at most.
    const wantedByUser = new Map([...wanted.values()].map((w) => [w.user.toLowerCase(), w]));

    // Access a live grant whose approval is undecided may justify: neither granted nor taken away.
    const pending = new Map<string, string[]>();
    for (const g of grants) {
      if (!isActive(g) || !input.undecided?.has(g.id) || !state.policy.roles.has(g.role)) continue;
      for (const e of model.entitlements(g.role)) {
        const k = key(g.user, e);
        pending.set(k, [...(pending.get(k) ?? []), g.id]);
      }
    }

    // What ended grants explain, per (user, entitlement): the first reason found stays.
    const explained = new Map<
      string,
      { reason: ActionReason; ids: string[]; explicit: boolean; user: string; entitlement: string }
    >();
    for (const e of endedHere) {
      // What the role confers now and what it conferred when the grant landed: a policy change
      // (a renamed role, other dbRoles) must not hide what the grant gave.
      const now = state.policy.roles.has(e.role) ? model.entitlements(e.role) : [];
      for (const entitlement of new Set([...now, ...(e.entitlements ?? [])])) {
        const k = key(e.user, entitlement);
        const cur = explained.get(k);
        if (!cur)
          explained.set(k, {
            reason: e.reason,
            ids: [e.id],
            explicit: e.explicit,
            user: e.user,
            entitlement,
          });
        else {
          if (!cur.ids.includes(e.id)) cur.ids.push(e.id);
          cur.explicit ||= e.explicit;
        }
      }
    }

    if (state.nativeExpiry) {
      // Native expiry (VALID UNTIL) is per account: it must last as long as the user's longest grant.
      const latest = new Map<string, Date>();
      for (const w of wanted.values())
        latest.set(w.user, maxDate(latest.get(w.user) ?? w.expiresAt, w.expiresAt));
      for (const w of wanted.values()) w.expiresAt = latest.get(w.user) ?? w.expiresAt;
    }

    const heldHere = new Map<string, Held>();
    const hold = (k: string, user: string, entitlement: string, ids: string[]) => {
      if (heldHere.has(k)) return;
      heldHere.set(k, {
        target: name,
        user,
        entitlement,
        grantIds: [...ids].sort(),
        reason: `a live grant on main for the same access (${(pending.get(k) ?? []).join(', ')}) awaits its approval check`,
      });
    };
    const observedOk = state.observed.ok;
    const observed = state.observed.ok
      ? state.observed.access.filter((a) => !exempt.has(a.user.toLowerCase()))
      : [];
    const have = new Map(observed.map((a) => [key(a.user, a.entitlement), a]));
    const haveByUser = new Map<string, Access[]>();
    for (const a of observed)
      haveByUser.set(a.user.toLowerCase(), [...(haveByUser.get(a.user.toLowerCase()) ?? []), a]);
    const settle = (user: string, entitlement: string, ids: string[], why: string) =>
      settled.push({ target: name, user, entitlement, grantIds: [...ids].sort(), why });
    /** Expired grants a downgrade grant ends, by user (single-valued targets). */
    const downgrades = new Map<string, string[]>();

    // An expired grant on main is revoked with an explicit call whatever the target lists (a list can
    // be wrong once), unless other grants justify that access or grantops does not manage the holder.
    const revokedHere = new Set<string>();
    for (const [k, e] of [...explained].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      if (!e.explicit) continue;
      if (wanted.has(k)) {
        settle(e.user, e.entitlement, e.ids, 'a live approved grant gives the same access');
        continue;
      }
      if (ranking && wantedByUser.has(e.user.toLowerCase())) {
        // One entitlement per user: the live grant's role replaces this one with a single grant call.
        const holds = haveByUser.get(e.user.toLowerCase()) ?? [];
        const target = wantedByUser.get(e.user.toLowerCase());
        const lower = target && ranking.indexOf(target.entitlement) < ranking.indexOf(e.entitlement);
        if (holds.some((a) => a.entitlement === e.entitlement)) {
          // Only a step down carries the expired grant's end: a step up is a grant, apply's to make.
          if (lower) {
            const u = e.user.toLowerCase();
            downgrades.set(u, [...(downgrades.get(u) ?? []), ...e.ids]);
          }
        } else if (observedOk)
          settle(e.user, e.entitlement, e.ids, 'the user holds only the role a live approved grant gives');
        continue;
      }
      if (have.get(k)?.unmanaged) {
        settle(
          e.user,
          e.entitlement,
          e.ids,
          `held by an account grantops does not manage (${have.get(k)?.unmanaged})`,
        );
        continue;
      }
      if (pending.has(k)) {
        hold(k, e.user, e.entitlement, e.ids);
        continue;
      }
      revokedHere.add(k);
      actions.push({
        kind: 'revoke',
        target: name,
        user: have.get(k)?.user ?? e.user,
        entitlement: e.entitlement,
        reason: e.reason,
        grantIds: [...e.ids].sort(),
        present: have.has(k),
      });
    }
    if (!observedOk) {
      unobserved.push({ target: name, error: state.observed.error });
      held.push(...heldHere.values());
      continue;
    }

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
        const ends = downgrades.get(w.user.toLowerCase());
        actions.push({
          ...base,
          reason: other ? 'change-role' : 'new',
          ...(other && ends ? { ends: [...new Set(ends)].sort() } : {}),
        });
      } else if (
        state.nativeExpiry &&
        !a.noNativeExpiry &&
        a.expiresAt?.getTime() !== w.expiresAt.getTime()
      ) {
        actions.push({ ...base, reason: 'update-expiry' });
      }
    }

    // What exists but is not wanted: ended grants explain it; otherwise it is drift.
    const enforceRevokes: PlannedAction[] = [];
    const driftHere: Drift[] = [];
    for (const a of [...observed].sort(byUserEntitlement)) {
      const k = key(a.user, a.entitlement);
      if (wanted.has(k) || revokedHere.has(k)) continue;
      // A single-valued target changes role with one grant call: no revoke of the old entitlement.
      if (ranking && wantedByUser.has(a.user.toLowerCase())) continue;
      // grantops never gave an unmanaged account its access, so no ended grant explains it.
      const why = a.unmanaged ? undefined : explained.get(k);
      if (why && pending.has(k)) {
        hold(k, a.user, a.entitlement, why.ids);
        continue;
      }
      const revoke: PlannedAction = {
        kind: 'revoke',
        target: name,
        user: a.user,
        entitlement: a.entitlement,
        reason: why?.reason ?? 'enforce',
        grantIds: (why?.ids ?? []).sort(),
        present: true,
      };
      if (why) actions.push(revoke);
      else if (pending.has(k))
        continue; // an undecided grant may be what justifies it: not drift yet
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
    held.push(...heldHere.values());
  }
  return { at: input.now, actions, drift, guards, held, settled, unobserved };
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
