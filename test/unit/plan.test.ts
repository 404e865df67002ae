import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Grant } from '../../src/model/grant.js';
import type { Policy, Role, TargetConfig } from '../../src/model/policy.js';
import { planChanges, type Plan, type TargetState } from '../../src/plan/plan.js';
import type { Access, EntitlementModel } from '../../src/ports/target.js';
import { identityModel } from '../../src/targets/identity-model.js';

const NOW = new Date('2026-11-28T12:00:00Z');
const at = (iso: string) => new Date(iso);

function role(name: string, dbRoles: string[] = []): Role {
  return { name, maxDuration: '8h', maxDurationMs: 8 * 3_600_000, approvals: 1, approvers: ['bob'], dbRoles };
}
function policy(
  config: Partial<TargetConfig> & { name: string; type: TargetConfig['type'] },
  roles: Role[],
): Policy {
  return {
    file: `policies/${config.name}.yaml`,
    target: { enforce: false, enforceMaxFraction: 0.25, exempt: [], ...config } as TargetConfig,
    roles: new Map(roles.map((r) => [r.name, r])),
    alertsBeforeMs: [86_400_000],
  };
}
let n = 0;
function grant(user: string, target: string, r: string, expiresAt: string, startsAt?: string): Grant {
  n++;
  return {
    id: `g${n}`,
    file: `grants/g${n}.yaml`,
    user,
    target,
    role: r,
    reason: 'x',
    expiresAt: at(expiresAt),
    ...(startsAt ? { startsAt: at(startsAt) } : {}),
  };
}

const teamPolicy = policy({ name: 'team', type: 'github-team' }, [role('member'), role('maintainer')]);
const teamModel = identityModel(['member', 'maintainer']);
const dbPolicy = policy({ name: 'db', type: 'postgres' }, [
  role('ro', ['read']),
  role('rw', ['read', 'write']),
]);
const dbModel: EntitlementModel = { entitlements: (r) => dbPolicy.roles.get(r)?.dbRoles ?? [] };

function state(p: Policy, model: EntitlementModel, access: Access[], nativeExpiry = false): TargetState {
  return { policy: p, model, nativeExpiry, observed: { ok: true, access } };
}
const brief = (plan: Plan) =>
  plan.actions.map((a) => `${a.kind} ${a.target} ${a.user} ${a.entitlement} ${a.reason}`);

describe('planChanges', () => {
  it('grants what an approved active grant needs and nothing for pending or unapproved ones', () => {
    const g1 = grant('alice', 'team', 'member', '2026-11-28T18:00:00Z');
    const g2 = grant('bob', 'team', 'member', '2026-11-28T18:00:00Z', '2026-11-28T13:00:00Z');
    const g3 = grant('carol', 'team', 'member', '2026-11-28T18:00:00Z');
    const plan = planChanges({
      now: NOW,
      grants: [g1, g2, g3],
      approved: new Set([g1.id, g2.id]),
      targets: new Map([['team', state(teamPolicy, teamModel, [])]]),
    });
    expect(brief(plan)).toEqual(['grant team alice member new']);
  });

  it('revokes access whose grants expired or were removed, and reports the rest as drift', () => {
    const expired = grant('alice', 'team', 'member', '2026-11-28T11:00:00Z');
    const removed = grant('bob', 'team', 'member', '2026-11-28T18:00:00Z');
    const plan = planChanges({
      now: NOW,
      grants: [expired],
      approved: new Set([expired.id]),
      history: [
        {
          id: removed.id,
          file: removed.file,
          versions: [{ user: 'bob', target: 'team', role: 'member', expiresAt: removed.expiresAt.getTime() }],
          onMain: false,
        },
      ],
      targets: new Map([
        [
          'team',
          state(teamPolicy, teamModel, [
            { user: 'alice', entitlement: 'member' },
            { user: 'bob', entitlement: 'member' },
            { user: 'dan', entitlement: 'maintainer' },
          ]),
        ],
      ]),
    });
    expect(brief(plan)).toEqual(['revoke team alice member expired', 'revoke team bob member removed']);
    expect(plan.drift).toEqual([
      { target: 'team', user: 'dan', entitlement: 'maintainer', enforced: false, heldByGuard: false },
    ]);
  });

  describe('state-based revocation (issue 11)', () => {
    const past = (id: string, onMain: boolean, ...versions: [string, string, string, string?][]) => ({
      id,
      file: `grants/${id}.yaml`,
      onMain,
      versions: versions.map(([user, target, r, exp]) => ({
        user,
        target,
        role: r,
        expiresAt: exp ? at(exp).getTime() : undefined,
      })),
    });

    it('gives an expired grant an explicit revoke even when the target lists nothing', () => {
      const expired = grant('alice', 'team', 'member', '2026-11-28T11:00:00Z');
      const plan = planChanges({
        now: NOW,
        grants: [expired],
        approved: new Set([expired.id]),
        targets: new Map([['team', state(teamPolicy, teamModel, [])]]),
      });
      expect(brief(plan)).toEqual(['revoke team alice member expired']);
      expect(plan.actions[0]!.grantIds).toEqual([expired.id]);
    });

    it('revokes an expired grant on a target whose list failed, and still reports it unobserved', () => {
      const expired = grant('alice', 'db', 'rw', '2026-11-28T11:00:00Z');
      const plan = planChanges({
        now: NOW,
        grants: [expired],
        approved: new Set(),
        targets: new Map([
          [
            'db',
            { policy: dbPolicy, model: dbModel, nativeExpiry: true, observed: { ok: false, error: 'down' } },
          ],
        ]),
      });
      expect(brief(plan)).toEqual(['revoke db alice read expired', 'revoke db alice write expired']);
      expect(plan.unobserved).toEqual([{ target: 'db', error: 'down' }]);
    });

    it('holds the expired grants of a target it could not set up, instead of planning nothing', () => {
      const expired = grant('alice', 'team', 'member', '2026-11-28T11:00:00Z');
      const plan = planChanges({
        now: NOW,
        grants: [expired],
        approved: new Set(),
        targets: new Map([
          [
            'team',
            {
              policy: teamPolicy,
              model: undefined,
              nativeExpiry: false,
              observed: { ok: false, error: 'no token' },
            },
          ],
        ]),
      });
      expect(plan.actions).toEqual([]);
      expect(plan.held.map((h) => [h.target, h.grantIds])).toEqual([['team', [expired.id]]]);
      expect(plan.held[0]!.reason).toContain('no token');
    });

    it('neither revokes nor reports as drift access an undecided live grant may justify', () => {
      const expired = grant('alice', 'team', 'member', '2026-11-28T11:00:00Z');
      const live = grant('alice', 'team', 'member', '2026-11-28T18:00:00Z');
      const other = grant('bob', 'team', 'member', '2026-11-28T18:00:00Z');
      const plan = planChanges({
        now: NOW,
        grants: [expired, live, other],
        approved: new Set(),
        undecided: new Set([live.id, other.id]),
        targets: new Map([
          [
            'team',
            state(teamPolicy, teamModel, [
              { user: 'alice', entitlement: 'member' },
              { user: 'bob', entitlement: 'member' },
            ]),
          ],
        ]),
      });
      expect(plan.actions).toEqual([]);
      expect(plan.drift).toEqual([]);
      expect(plan.held).toEqual([
        expect.objectContaining({ user: 'alice', entitlement: 'member', grantIds: [expired.id] }),
      ]);
    });

    it('revokes an ended grant explicitly for a day past its expiry however it left, then as shown, then not', () => {
      const plan = (now: string) =>
        planChanges({
          now: at(now),
          grants: [],
          approved: new Set(),
          history: [
            // Removed by hand, or by a commit whose `Revoked-Grant:` trailer anyone could have written.
            {
              ...past('gone', false, ['bob', 'team', 'member', '2026-11-28T18:00:00Z']),
              endedBy: 'removal' as const,
            },
            {
              ...past('reaped', false, ['carol', 'team', 'member', '2026-11-28T11:00:00Z']),
              endedBy: 'cleanup' as const,
            },
            {
              ...past('reaped-2', false, ['dan', 'team', 'member', '2026-11-28T11:00:00Z']),
              endedBy: 'cleanup' as const,
            },
          ],
          targets: new Map([
            ['team', state(teamPolicy, teamModel, [{ user: 'dan', entitlement: 'member' }])],
          ]),
        });
      expect(brief(plan('2026-11-28T12:00:00Z'))).toEqual([
        'revoke team bob member removed',
        'revoke team carol member removed',
        'revoke team dan member removed',
      ]);
      // Past the explicit day: only what the target shows.
      expect(brief(plan('2026-11-30T12:00:00Z'))).toEqual(['revoke team dan member removed']);
      // A week after its expiresAt, an ended grant explains nothing: access restored by hand is drift.
      const later = plan('2026-12-06T12:00:00Z');
      expect(later.actions).toEqual([]);
      expect(later.drift.map((d) => d.user)).toEqual(['dan']);
    });

    it('never lets an expired lower role carry a step up: the upgrade is a grant for apply to make', () => {
      const expiredMember = grant('mallory', 'team', 'member', '2026-11-28T11:00:00Z');
      const liveMaint = grant('mallory', 'team', 'maintainer', '2026-11-28T18:00:00Z');
      const plan = planChanges({
        now: NOW,
        grants: [expiredMember, liveMaint],
        approved: new Set([liveMaint.id]),
        targets: new Map([
          ['team', state(teamPolicy, teamModel, [{ user: 'mallory', entitlement: 'member' }])],
        ]),
      });
      expect(plan.actions.map((a) => [a.kind, a.entitlement, a.ends])).toEqual([
        ['grant', 'maintainer', undefined],
      ]);
      expect(plan.settled).toEqual([]);
    });

    it('takes back what a grant gave once its approval is withdrawn', () => {
      const g = grant('alice', 'team', 'member', '2026-11-28T18:00:00Z');
      const plan = planChanges({
        now: NOW,
        grants: [g],
        approved: new Set(),
        withdrawn: new Set([g.id]),
        targets: new Map([
          ['team', state(teamPolicy, teamModel, [{ user: 'alice', entitlement: 'member' }])],
        ]),
      });
      expect(brief(plan)).toEqual(['revoke team alice member withdrawn']);
    });

    it('revokes what a role conferred when the grant landed, though the policy has changed since', () => {
      const expired = grant('alice', 'db', 'ro', '2026-11-28T11:00:00Z');
      const plan = planChanges({
        now: NOW,
        grants: [expired],
        approved: new Set(),
        history: [
          {
            id: expired.id,
            file: expired.file,
            onMain: true,
            versions: [
              {
                user: 'alice',
                target: 'db',
                role: 'ro',
                expiresAt: expired.expiresAt.getTime(),
                entitlements: ['old_read'],
              },
            ],
          },
        ],
        targets: new Map([['db', state(dbPolicy, dbModel, [])]]),
      });
      expect(brief(plan)).toEqual(['revoke db alice old_read expired', 'revoke db alice read expired']);
    });

    it('gives an exempt user no revoke, and says nothing is settled, so the file stays', () => {
      const expired = grant('alice', 'team', 'member', '2026-11-28T11:00:00Z');
      const exemptTeam = policy({ name: 'team', type: 'github-team', exempt: ['alice'] }, [role('member')]);
      const plan = planChanges({
        now: NOW,
        grants: [expired],
        approved: new Set(),
        targets: new Map([
          ['team', state(exemptTeam, teamModel, [{ user: 'alice', entitlement: 'member' }])],
        ]),
      });
      expect(plan.actions).toEqual([]);
      expect(plan.settled).toEqual([]);
    });

    it('takes a higher role away on a single-valued target with the downgrade grant, which ends the expired grant', () => {
      const expiredMaint = grant('alice', 'team', 'maintainer', '2026-11-28T11:00:00Z');
      const liveMember = grant('alice', 'team', 'member', '2026-11-28T18:00:00Z');
      const plan = planChanges({
        now: NOW,
        grants: [expiredMaint, liveMember],
        approved: new Set([liveMember.id]),
        targets: new Map([
          ['team', state(teamPolicy, teamModel, [{ user: 'alice', entitlement: 'maintainer' }])],
        ]),
      });
      expect(plan.actions.map((a) => [brief({ ...plan, actions: [a] })[0], a.ends])).toEqual([
        ['grant team alice member change-role', [expiredMaint.id]],
      ]);
    });

    it('revokes what an earlier version granted when the version on main is refused (an unreviewed edit)', () => {
      const edited = grant('alice', 'team', 'maintainer', '2026-11-29T12:00:00Z');
      const plan = planChanges({
        now: NOW,
        grants: [edited],
        approved: new Set(),
        history: [
          past(
            edited.id,
            true,
            ['alice', 'team', 'maintainer', '2026-11-28T18:00:00Z'],
            ['alice', 'team', 'maintainer', '2026-11-29T12:00:00Z'],
          ),
        ],
        targets: new Map([
          ['team', state(teamPolicy, teamModel, [{ user: 'alice', entitlement: 'maintainer' }])],
        ]),
      });
      expect(brief(plan)).toEqual(['revoke team alice maintainer removed']);
    });

    it('revokes an invalid expired file from every version history knows, explicitly', () => {
      const plan = planChanges({
        now: NOW,
        grants: [],
        approved: new Set(),
        history: [
          // Last version unreadable (a typo): the earlier ones say what was granted, and when it ended.
          past(
            'broken',
            true,
            ['alice', 'db', 'ro', '2026-11-28T10:00:00Z'],
            ['alice', 'db', 'rw', '2026-11-28T11:00:00Z'],
            ['', '', '', undefined],
          ),
        ],
        targets: new Map([['db', state(dbPolicy, dbModel, [])]]),
      });
      expect(brief(plan)).toEqual(['revoke db alice read expired', 'revoke db alice write expired']);
      expect(plan.actions.every((a) => a.grantIds.join() === 'broken')).toBe(true);
    });

    it('revokes observed access of an invalid file that has not expired, without an explicit call', () => {
      const plan = planChanges({
        now: NOW,
        grants: [],
        approved: new Set(),
        history: [past('typo', true, ['alice', 'db', 'rw', '2026-11-29T11:00:00Z'])],
        targets: new Map([['db', state(dbPolicy, dbModel, [{ user: 'alice', entitlement: 'write' }])]]),
      });
      expect(brief(plan)).toEqual(['revoke db alice write invalid']);
    });

    it('leaves unmanaged holders and users kept by another grant alone', () => {
      const expiredMaint = grant('alice', 'team', 'maintainer', '2026-11-28T11:00:00Z');
      const liveMember = grant('alice', 'team', 'member', '2026-11-28T18:00:00Z');
      const expiredDb = grant('dba', 'db', 'ro', '2026-11-28T11:00:00Z');
      const plan = planChanges({
        now: NOW,
        grants: [expiredMaint, liveMember, expiredDb],
        approved: new Set([liveMember.id]),
        targets: new Map([
          ['team', state(teamPolicy, teamModel, [{ user: 'alice', entitlement: 'maintainer' }])],
          [
            'db',
            state(dbPolicy, dbModel, [
              { user: 'dba', entitlement: 'read', unmanaged: 'not created by grantops' },
            ]),
          ],
        ]),
      });
      // alice changes role with one grant call; dba's access is not grantops' to take.
      expect(brief(plan)).toEqual(['grant team alice member change-role']);
      expect(plan.settled.map((x) => [x.user, x.grantIds])).toEqual([['dba', [expiredDb.id]]]);
    });
  });

  it('changes a role on a single-valued target with one grant, never grant-then-revoke', () => {
    const g = grant('alice', 'team', 'maintainer', '2026-11-28T18:00:00Z');
    const g2 = grant('alice', 'team', 'member', '2026-11-28T20:00:00Z');
    const plan = planChanges({
      now: NOW,
      grants: [g, g2],
      approved: new Set([g.id, g2.id]),
      targets: new Map([['team', state(teamPolicy, teamModel, [{ user: 'alice', entitlement: 'member' }])]]),
    });
    expect(brief(plan)).toEqual(['grant team alice maintainer change-role']);
  });

  it('matches logins case-insensitively, as GitHub does', () => {
    const g = grant('Alice', 'team', 'member', '2026-11-28T18:00:00Z');
    const plan = planChanges({
      now: NOW,
      grants: [g],
      approved: new Set([g.id]),
      targets: new Map([['team', state(teamPolicy, teamModel, [{ user: 'alice', entitlement: 'member' }])]]),
    });
    expect(plan.actions).toEqual([]);
    expect(plan.drift).toEqual([]);
  });

  it('keeps overlapping database roles and sets native expiry to the latest grant of the user', () => {
    const ro = grant('alice', 'db', 'ro', '2026-11-28T18:00:00Z');
    const rw = grant('alice', 'db', 'rw', '2026-11-28T14:00:00Z');
    const plan = planChanges({
      now: NOW,
      grants: [ro, rw],
      approved: new Set([ro.id, rw.id]),
      targets: new Map([
        [
          'db',
          state(
            dbPolicy,
            dbModel,
            [{ user: 'alice', entitlement: 'read', expiresAt: at('2026-11-28T18:00:00Z') }],
            true,
          ),
        ],
      ]),
    });
    expect(plan.actions.map((a) => [a.entitlement, a.reason, a.expiresAt?.toISOString()])).toEqual([
      ['write', 'new', '2026-11-28T18:00:00.000Z'],
    ]);
  });

  it('updates native expiry when a grant is extended', () => {
    const g = grant('alice', 'db', 'ro', '2026-11-28T20:00:00Z');
    const plan = planChanges({
      now: NOW,
      grants: [g],
      approved: new Set([g.id]),
      targets: new Map([
        [
          'db',
          state(
            dbPolicy,
            dbModel,
            [{ user: 'alice', entitlement: 'read', expiresAt: at('2026-11-28T18:00:00Z') }],
            true,
          ),
        ],
      ]),
    });
    expect(brief(plan)).toEqual(['grant db alice read update-expiry']);
  });

  it('enforces within the guard, and holds a mass revocation back', () => {
    const enforcing = policy({ name: 'team', type: 'github-team', enforce: true }, [role('member')]);
    const users = (k: number) =>
      Array.from({ length: k }, (_, i) => ({ user: `u${i}`, entitlement: 'member' }));
    const g = Array.from({ length: 8 }, (_, i) => grant(`u${i}`, 'team', 'member', '2026-11-28T18:00:00Z'));
    const approved = new Set(g.map((x) => x.id));
    // 10 members, 8 granted: revoking 2 of 10 (20%) is within 25%.
    const small = planChanges({
      now: NOW,
      grants: g,
      approved,
      targets: new Map([['team', state(enforcing, teamModel, users(10))]]),
    });
    expect(brief(small)).toEqual(['revoke team u8 member enforce', 'revoke team u9 member enforce']);
    // 10 members, 2 granted: revoking 8 of 10 is held back, reported, and can be overridden.
    const few = g.slice(0, 2);
    const held = planChanges({
      now: NOW,
      grants: few,
      approved,
      targets: new Map([['team', state(enforcing, teamModel, users(10))]]),
    });
    expect(held.actions).toEqual([]);
    expect(held.guards).toEqual([{ target: 'team', wouldRevoke: 8, scope: 10, maxFraction: 0.25 }]);
    expect(held.drift.every((d) => d.heldByGuard)).toBe(true);
    const forced = planChanges({
      now: NOW,
      grants: few,
      approved,
      overrideGuard: true,
      targets: new Map([['team', state(enforcing, teamModel, users(10))]]),
    });
    expect(forced.actions).toHaveLength(8);
  });

  it('never touches exempt users, and plans nothing for a target it could not observe', () => {
    const p = policy({ name: 'team', type: 'github-team', enforce: true, exempt: ['breakglass'] }, [
      role('member'),
    ]);
    const plan = planChanges({
      now: NOW,
      grants: [],
      approved: new Set(),
      targets: new Map<string, TargetState>([
        ['team', state(p, teamModel, [{ user: 'breakglass', entitlement: 'member' }])],
        [
          'db',
          {
            policy: dbPolicy,
            model: dbModel,
            nativeExpiry: true,
            observed: { ok: false, error: 'connection refused' },
          },
        ],
      ]),
    });
    expect(plan.actions).toEqual([]);
    expect(plan.drift).toEqual([]);
    expect(plan.unobserved).toEqual([{ target: 'db', error: 'connection refused' }]);
  });
});

describe('planChanges properties', () => {
  const users = ['alice', 'bob', 'carol', 'dan'];
  const time = fc.integer({ min: -10, max: 10 }).map((h) => new Date(NOW.getTime() + h * 3_600_000));
  const arbGrant = fc.record({
    user: fc.constantFrom(...users),
    target: fc.constantFrom('team', 'db'),
    r: fc.constantFrom('a', 'b'),
    expires: time,
    starts: fc.option(time, { nil: undefined }),
    approved: fc.boolean(),
  });
  const arbAccess = fc.record({
    user: fc.constantFrom(...users, 'zed'),
    target: fc.constantFrom('team', 'db'),
    e: fc.constantFrom('member', 'maintainer', 'read', 'write'),
  });

  /** Applies a plan to an in-memory copy of the observed state, as idempotent targets would. */
  function simulate(plan: Plan, observed: Map<string, Access[]>, states: Map<string, TargetState>) {
    const out = new Map([...observed].map(([k, v]) => [k, v.map((a) => ({ ...a }))]));
    for (const a of plan.actions) {
      const list = out.get(a.target)!;
      const single = !!states.get(a.target)!.model!.ranking;
      const keep = list.filter((x) => !(x.user === a.user && (single || x.entitlement === a.entitlement)));
      if (a.kind === 'grant')
        keep.push({
          user: a.user,
          entitlement: a.entitlement,
          ...(a.expiresAt && states.get(a.target)!.nativeExpiry ? { expiresAt: a.expiresAt } : {}),
        });
      out.set(a.target, keep);
    }
    return out;
  }

  it('is idempotent: planning again after applying yields no action', () => {
    fc.assert(
      fc.property(
        fc.array(arbGrant, { maxLength: 12 }),
        fc.array(arbAccess, { maxLength: 10 }),
        fc.boolean(),
        (gs, access, enforce) => {
          const team = policy({ name: 'team', type: 'github-team', enforce }, [role('a'), role('b')]);
          const db = policy({ name: 'db', type: 'postgres', enforce }, [
            role('a', ['read']),
            role('b', ['read', 'write']),
          ]);
          const models: Record<string, EntitlementModel> = {
            team: {
              entitlements: (r) => [r === 'a' ? 'member' : 'maintainer'],
              ranking: ['member', 'maintainer'],
            },
            db: { entitlements: (r) => db.roles.get(r)?.dbRoles ?? [] },
          };
          const grants = gs
            .filter((g) => !g.starts || g.starts < g.expires)
            .map((g, i) => ({
              id: `g${i}`,
              file: `grants/g${i}.yaml`,
              user: g.user,
              target: g.target,
              role: g.r,
              reason: 'x',
              expiresAt: g.expires,
              ...(g.starts ? { startsAt: g.starts } : {}),
            }));
          const approved = new Set(grants.filter((_, i) => gs[i]?.approved).map((g) => g.id));
          const observed = new Map<string, Access[]>([
            ['team', []],
            ['db', []],
          ]);
          for (const a of access) {
            const list = observed.get(a.target)!;
            const valid =
              a.target === 'team' ? ['member', 'maintainer'].includes(a.e) : ['read', 'write'].includes(a.e);
            if (
              valid &&
              !list.some((x) => x.user === a.user && (a.target === 'team' || x.entitlement === a.e))
            )
              list.push({ user: a.user, entitlement: a.e });
          }
          const states = (obs: Map<string, Access[]>) =>
            new Map<string, TargetState>([
              ['team', state(team, models.team!, obs.get('team')!)],
              ['db', state(db, models.db!, obs.get('db')!, true)],
            ]);
          const s1 = states(observed);
          const first = planChanges({ now: NOW, grants, approved, targets: s1, overrideGuard: true });
          const after = simulate(first, observed, s1);
          const second = planChanges({
            now: NOW,
            grants,
            approved,
            targets: states(after),
            overrideGuard: true,
          });
          // Nothing changes on the second run: an expired grant still gets its explicit revoke (the
          // target's list is never trusted to say it is gone), but of access that no longer exists.
          for (const a of second.actions) {
            expect(a.kind).toBe('revoke');
            expect(a.reason).toBe('expired');
            expect(
              after.get(a.target)!.some((x) => x.user === a.user && x.entitlement === a.entitlement),
            ).toBe(false);
          }
          // And what remains is exactly what approved, active grants (plus unenforced drift) explain.
          for (const g of grants) {
            const active = approved.has(g.id) && g.expiresAt > NOW && (!g.startsAt || g.startsAt <= NOW);
            if (!active) continue;
            const has = after
              .get(g.target)!
              .filter((a) => a.user === g.user)
              .map((a) => a.entitlement);
            expect(has.length).toBeGreaterThan(0);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
