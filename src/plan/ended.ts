import type { GrantFileHistory } from '../ports/git.js';
import type { Grant } from '../model/grant.js';

/** What finding the ended grants needs of the planner's input. */
export interface EndedInput {
  now: Date;
  grants: readonly Grant[];
  history?: readonly GrantFileHistory[] | undefined;
  withdrawn?: ReadonlySet<string> | undefined;
}

/** What an ended grant (or version) says was granted: who, which role, on which target. */
export interface Ended {
  id: string;
  user: string;
  target: string;
  role: string;
  reason: 'expired' | 'removed' | 'invalid' | 'withdrawn';
  /** Revoke whether or not the target shows the access (an expired grant on main). */
  explicit: boolean;
  /** What the role conferred when the grant landed (history), beside what it confers now. */
  entitlements?: readonly string[];
}

/**
 * How long after its expiresAt a grant that left main (or a replaced version) still explains access:
 * long enough to outlast skipped runs and outages, short enough that access someone restores by hand
 * months later is drift, not "the old grant's".
 */
export const ENDED_GRANT_MEMORY_MS = 7 * 86_400_000;

/**
 * How long after its expiresAt a grant that left main still gets an explicit revoke each run, whatever
 * the target lists: a day of runs, however it left (a `Revoked-Grant:` trailer is text a writer can
 * push, so it is no proof that a revoke happened). After that, only access the target shows.
 */
export const ENDED_GRANT_EXPLICIT_MS = 86_400_000;

/**
 * Every ended grant by target: expired grants on main (explicit revoke), and from history the files
 * on main that are no longer valid (explicit once expired) and the versions no longer on main.
 */
export function endedGrants(input: EndedInput): Map<string, Ended[]> {
  const t = input.now.getTime();
  const out = new Map<string, Ended[]>();
  // Appended in place: copying the list per entry was quadratic in the grants of one target.
  const add = (e: Ended) => {
    const list = out.get(e.target);
    if (list) list.push(e);
    else out.set(e.target, [e]);
  };
  const valid = new Set(input.grants.map((g) => g.id));
  const landed = new Map<string, readonly string[] | undefined>();
  for (const h of input.history ?? [])
    if (h.onMain && valid.has(h.id)) landed.set(h.id, h.versions[h.versions.length - 1]?.entitlements);
  for (const g of input.grants) {
    if (t < g.expiresAt.getTime()) continue;
    const entitlements = landed.get(g.id);
    add({
      id: g.id,
      user: g.user,
      target: g.target,
      role: g.role,
      reason: 'expired',
      explicit: true,
      ...(entitlements ? { entitlements } : {}),
    });
  }
  for (const g of input.grants) {
    if (t >= g.expiresAt.getTime() || !input.withdrawn?.has(g.id)) continue;
    add({ id: g.id, user: g.user, target: g.target, role: g.role, reason: 'withdrawn', explicit: false });
  }
  for (const h of input.history ?? []) {
    const current = h.onMain && valid.has(h.id);
    // The versions before the current one of a valid grant; every version of anything else.
    const versions = current ? h.versions.slice(0, -1) : h.versions;
    const invalidOnMain = h.onMain && !current;
    const invalidExpired = invalidOnMain && invalidFileExpired(h, t);
    for (const v of versions) {
      if (!v.user || !v.target || !v.role) continue;
      // A version that left main is remembered for a while after its expiresAt (a version that
      // never had one was never valid, so never granted); a file on main that is invalid, always.
      if (!invalidOnMain && (v.expiresAt === undefined || t >= v.expiresAt + ENDED_GRANT_MEMORY_MS)) continue;
      add({
        id: h.id,
        user: v.user,
        target: v.target,
        role: v.role,
        reason: invalidOnMain ? (invalidExpired ? 'expired' : 'invalid') : 'removed',
        // Explicit: an expired invalid file, and a version that left main, for a day past its expiry.
        explicit: invalidExpired || (!invalidOnMain && t < v.expiresAt! + ENDED_GRANT_EXPLICIT_MS),
        ...(v.entitlements ? { entitlements: v.entitlements } : {}),
      });
    }
  }
  return out;
}

/**
 * Whether a grant file on main that is no longer valid has expired: by its own expiresAt when that can
 * be read, otherwise once every earlier version's has passed.
 */
export function invalidFileExpired(h: GrantFileHistory, t: number): boolean {
  const last = h.versions[h.versions.length - 1]?.expiresAt;
  if (last !== undefined) return last <= t;
  const known = h.versions.map((v) => v.expiresAt).filter((x): x is number => x !== undefined);
  return known.length > 0 && known.every((x) => x <= t);
}
