import { applyPlan, targetConcurrency, type ActionResult } from '../apply/apply-plan.js';
import { mapLimited } from '../apply/run-limited.js';
import { ConfigError, errorMessage, type Finding } from '../model/errors.js';
import type { FileTree } from '../model/file-tree.js';
import type { Grant } from '../model/grant.js';
import type { Policy } from '../model/policy.js';
import type { ApprovalVerdict, ApprovalVerifier } from '../policy/approval.js';
import { loadGrants, loadPolicies } from '../policy/load.js';
import { unknownName } from '../model/suggest.js';
import type { SchemaRegistry } from '../policy/schema-registry.js';
import { invalidFileExpired } from '../plan/ended.js';
import { planChanges, type Plan, type TargetState } from '../plan/plan.js';
import type { GrantFileHistory, GrantHistory } from '../ports/git.js';
import type { Target } from '../ports/target.js';

export interface ApplyOptions {
  now: Date;
  dryRun: boolean;
  /** Calls in flight at once on a target whose policy says nothing (see targetConcurrency). */
  concurrency: number;
  budget?: number;
  overrideGuard?: boolean;
  /** Only these targets (default: all). */
  only?: readonly string[];
  /** Told after each call to a target: how many of the plan's actions are done. */
  onProgress?: (done: number, total: number) => void;
  /**
   * `reap`: only revoke the access of expired grants (the reaper's half of the work); nothing is
   * granted or enforced, and refusals are not this run's failure.
   */
  mode?: 'apply' | 'reap';
}

export interface ApplyDeps {
  work: FileTree;
  registry: SchemaRegistry;
  approvals: ApprovalVerifier;
  /** Builds a target's adapter; may throw (missing credentials): the target is then unobserved. */
  createTarget(policy: Policy): Target;
  /**
   * Every grant file main's history has held: access grantops granted whose grant is no longer on main
   * (or no longer valid) is revoked whatever runs were skipped. Without it only expired grants on main
   * are revoked, and the run says so.
   */
  history?: GrantHistory;
}

export interface Refusal {
  grant: Grant;
  reason: string;
  /** Approval could not be checked (GitHub unreachable, no token): not a verdict on the grant. */
  undecided?: true;
  /** Undecided because a break-glass use's due retro review could not be read: the run fails. */
  reviewUnread?: true;
  /** With `reviewUnread`: when that review was due. */
  reviewDue?: Date;
  /** Approvers found so far. */
  approvers: string[];
  pr?: number;
  /** Approvals the role requires, and from whom. */
  required: number;
  eligible: string[];
}

/** A break-glass grant whose review deadline passed unreviewed: it ended at `at`, not at expiresAt. */
export interface CutShort {
  /** As its file says. */
  grant: Grant;
  at: Date;
  reason: string;
}

export interface ApplyReport {
  plan: Plan;
  results: ActionResult[];
  refused: Refusal[];
  approved: Map<string, ApprovalVerdict>;
  /** Grant files that are not valid now (they are not applied). */
  invalid: Finding[];
  /** Every valid grant in scope, as loaded (a cut-short break-glass grant ending at its deadline). */
  grants: Grant[];
  cutShort: CutShort[];
  /**
   * Grant files on main that are not valid now but whose expiresAt (or, unreadable, every earlier
   * version's) has passed: their access is revoked from what history says they granted.
   */
  expiredInvalid: Grant[];
  /** Why main's history could not be read (state-based revocation of removed grants did not run). */
  historyError?: string;
  policies: ReadonlyMap<string, Policy>;
  /** Calls in flight at once on each target in scope, as this run uses (or, dry, would use) them. */
  concurrency: Record<string, number>;
  /** True when anything failed, a target could not be read, a grant was refused, or the guard held. */
  failed: boolean;
}

/**
 * Brings every target to the state the repo describes at `now`: each approved, active grant exists;
 * access of expired or removed grants is revoked; other access is reported as drift (revoked where the
 * policy enforces, within the guard). With `dryRun`, only the plan is made.
 */
export async function applyGrants(opts: ApplyOptions, deps: ApplyDeps): Promise<ApplyReport> {
  const policies = await loadPolicies(deps.work, deps.registry);
  if (policies.findings.length > 0) throw new ConfigError('invalid policy files', policies.findings);
  const ctx = {
    registry: deps.registry,
    policies: policies.byTarget,
    now: opts.now,
    expiredSeverity: 'warning' as const,
    policySource: deps.work.label,
  };
  for (const name of opts.only ?? []) {
    if (!policies.byTarget.has(name))
      throw new ConfigError(`--target: ${unknownName('target', name, [...policies.byTarget.keys()])}`);
  }
  const loaded = await loadGrants(deps.work, ctx);
  const inScope = (target: string) => !opts.only || opts.only.includes(target);
  let grants = loaded.grants.filter((g) => inScope(g.target));

  // Main's history is read while approval is checked: both only read, and each waits on git.
  const reading = deps.history?.grantFiles().then(
    (files) => ({ files }),
    (err: unknown) => ({ error: errorMessage(err) }),
  );
  // Approval matters for grants that are, or will be, in force; expired ones only explain revocations.
  const live = grants.filter((g) => g.expiresAt.getTime() > opts.now.getTime());
  // The reaper also asks after ended break-glass uses: whether one was reviewed is said once, as it goes.
  const endedUses =
    opts.mode === 'reap' ? grants.filter((g) => g.breakGlass === true && !live.includes(g)) : [];
  const approved = await deps.approvals.verify([...live, ...endedUses]);
  // A break-glass grant not reviewed by its deadline ends there: revoked (and reaped) as expired.
  const cutShort: CutShort[] = [];
  grants = grants.map((g) => {
    const v = approved.get(g.id);
    if (!v?.approved || !v.cutShort || v.cutShort.at.getTime() >= g.expiresAt.getTime()) return g;
    cutShort.push({ grant: g, at: v.cutShort.at, reason: v.cutShort.reason });
    return { ...g, expiresAt: v.cutShort.at };
  });
  const refused: Refusal[] = [];
  const approvedIds = new Set<string>();
  const undecided = new Set<string>();
  const withdrawn = new Set<string>();
  for (const g of live) {
    const v = approved.get(g.id);
    if (v?.approved) approvedIds.add(g.id);
    else if (v) {
      if (v.undecided) undecided.add(g.id);
      if (v.wasApproved) withdrawn.add(g.id);
      const role = policies.byTarget.get(g.target)?.policy.roles.get(g.role);
      refused.push({
        grant: g,
        reason: v.reason,
        ...(v.undecided ? { undecided: true as const } : {}),
        ...(v.reviewUnread ? { reviewUnread: true as const } : {}),
        ...(v.reviewDue ? { reviewDue: v.reviewDue } : {}),
        approvers: v.approvers,
        ...(v.pr ? { pr: v.pr } : {}),
        required: role?.approvals ?? 0,
        eligible: role?.approvers ?? [],
      });
    }
  }

  let history: GrantFileHistory[] | undefined;
  let historyError: string | undefined;
  const read = await reading;
  if (read && 'files' in read) history = read.files;
  else if (read) historyError = read.error;
  const validIds = new Set(loaded.grants.map((g) => g.id));
  const expiredInvalid: Grant[] = [];
  for (const h of history ?? []) {
    if (!h.onMain || validIds.has(h.id) || !invalidFileExpired(h, opts.now.getTime())) continue;
    // Shown as what history last said it granted; revoked (by the planner) from every version.
    const known = h.versions.filter((v) => v.user && v.target && v.role);
    const last = known[known.length - 1];
    if (!last || !known.some((v) => inScope(v.target))) continue;
    const ends = h.versions.map((v) => v.expiresAt).filter((x): x is number => x !== undefined);
    expiredInvalid.push({
      id: h.id,
      file: h.file,
      user: last.user,
      target: last.target,
      role: last.role,
      reason: '(grant file no longer valid)',
      expiresAt: new Date(h.versions[h.versions.length - 1]?.expiresAt ?? Math.max(...ends)),
    });
  }

  const targets = new Map<string, Target>();
  const states = new Map<string, TargetState>();
  const selected = [...policies.byTarget.values()].filter((p) => inScope(p.policy.target.name));
  // Every target is read at once (one list each, bounded inside its adapter): a target whose list
  // hangs until its timeout must not hold a slot another target's read is waiting for.
  const observed = await mapLimited(selected, selected.length, async ({ policy }) => {
    const target = deps.createTarget(policy);
    targets.set(policy.target.name, target);
    return { target, access: await target.observe() };
  });
  selected.forEach(({ policy }, i) => {
    const r = observed[i]!;
    const target = r.ok ? r.value.target : targets.get(policy.target.name);
    states.set(policy.target.name, {
      policy,
      model: target?.model,
      nativeExpiry: target?.nativeExpiry ?? false,
      observed: r.ok ? { ok: true, access: r.value.access } : { ok: false, error: errorMessage(r.error) },
    });
  });

  try {
    const full = planChanges({
      now: opts.now,
      grants,
      approved: approvedIds,
      undecided,
      withdrawn,
      ...(history ? { history: history.filter((h) => h.versions.some((v) => inScope(v.target))) } : {}),
      targets: states,
      ...(opts.overrideGuard ? { overrideGuard: true } : {}),
    });
    const reaping = opts.mode === 'reap';
    // The reaper takes away what ended grants explain; granting and enforcement are apply's.
    const plan = reaping
      ? {
          ...full,
          actions: full.actions.filter(
            (a) => (a.kind === 'revoke' && a.reason !== 'enforce') || (a.kind === 'grant' && a.ends),
          ),
          drift: [],
          guards: [],
        }
      : full;
    const results = opts.dryRun
      ? []
      : await applyPlan(plan, targets, {
          concurrency: opts.concurrency,
          ...(opts.budget !== undefined ? { budget: opts.budget } : {}),
          ...(opts.onProgress ? progressOf(plan.actions.length, opts.onProgress) : {}),
        });
    // Enforcement held back by the guard is unfinished work a person must look at: fail the run.
    const failed =
      plan.guards.length > 0 ||
      results.some((r) => !r.ok) ||
      (!reaping && refused.length > 0) ||
      plan.unobserved.length > 0 ||
      plan.held.length > 0 ||
      historyError !== undefined ||
      loaded.findings.some((f) => f.severity === 'error');
    return {
      plan,
      results,
      refused,
      approved,
      invalid: loaded.findings.filter((f) => f.severity === 'error'),
      grants,
      cutShort,
      expiredInvalid,
      ...(historyError !== undefined ? { historyError } : {}),
      policies: new Map([...policies.byTarget].map(([k, v]) => [k, v.policy])),
      concurrency: Object.fromEntries(
        selected
          .map(
            ({ policy }) => [policy.target.name, targetConcurrency(policy.target, opts.concurrency)] as const,
          )
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
      ),
      failed,
    };
  } finally {
    for (const t of targets.values()) await t.close?.().catch(() => undefined);
  }
}

function progressOf(total: number, report: (done: number, total: number) => void) {
  let done = 0;
  return { onResult: () => report(++done, total) };
}
