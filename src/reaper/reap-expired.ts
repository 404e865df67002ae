import { errorMessage } from '../model/errors.js';
import { GRANTS_DIR, type Grant } from '../model/grant.js';
import type { Clock } from '../ports/clock.js';
import type { ReaperRepo } from '../ports/git.js';
import { escapeMarkdown } from '../render/markdown.js';
import { revokedView, type RevokedView } from '../render/reap-view.js';
import type { PlannedAction } from '../plan/plan.js';
import type { ApplyReport } from '../usecases/apply-grants.js';

/** Opens (or updates) the pull request that carries the cleanup when main refuses direct pushes. */
export interface CleanupPullRequests {
  upsert(
    head: string,
    base: string,
    title: string,
    body: string,
  ): Promise<{ number: number; created: boolean }>;
}

export interface ReapOptions {
  now: Date;
  dryRun: boolean;
  /** Push the cleanup commit to `remote`/`branch`; otherwise it stays a local commit. */
  push: boolean;
  /** The remote to fetch notes and main from (undefined: a repo without one). */
  remote: string | undefined;
  /** The branch the cleanup belongs on (the remote's default, or --branch), or why it is not known. */
  branch: string | { error: string };
  /** Where the cleanup goes when `branch` is protected. */
  cleanupBranch: string;
  maxPushAttempts: number;
  /**
   * Commit the removal of revoked grants' files (default). A shard of a sharded reap (one matrix job
   * per target) revokes only and leaves the files to the one job that merges every shard's cleanup.
   */
  record?: boolean;
}

export interface ReapDeps {
  git: ReaperRepo;
  /** Waits before a redo after a rejected push. */
  clock: Pick<Clock, 'sleep'>;
  /** Jitter in [0, 1): two racing reapers must not collide again (default Math.random). */
  random?: () => number;
  /** Revokes the access of ended grants on their targets (applyGrants in `reap` mode). */
  revokeExpired(): Promise<ApplyReport>;
  /** Renders the body of the cleanup commit (template `cleanup-commit.txt`). */
  renderBody(view: { grants: RevokedView[] }): Promise<string>;
  pulls?: CleanupPullRequests;
}

export interface Revoked {
  grant: Grant;
  /** How long access outlived the grant: revocation time minus expiresAt. */
  lagMs: number;
  /** A break-glass grant revoked early: no retro review was shown by its deadline (its expiresAt here). */
  breakGlassUnreviewed?: true;
  /** A break-glass use that reached its own expiresAt with no review on GitHub (its deadline was later). */
  breakGlassNeverReviewed?: true;
}

export interface ReapReport {
  apply: ApplyReport;
  /** Expired grants on main, valid or not. */
  expired: Grant[];
  /** Expired grants whose access is gone (revoked, or kept only by other live grants): files removed. */
  revoked: Revoked[];
  /** Expired grants whose revocation failed or waits: their files stay. */
  failed: { grant: Grant; reason: string }[];
  /**
   * What kept this run from finishing, one line each, reported together with the revocations already
   * done: git failures (unreachable origin, lock file, detached HEAD, dirty work tree, shallow clone),
   * unreadable targets, failed revocations of removed grants' access. Any makes the run exit 1.
   */
  problems: string[];
  commit?: string;
  pushed: boolean;
  pullRequest?: { number: number; created: boolean };
  /** Grant ids removed by a concurrent reaper before this one could push. */
  removedElsewhere: string[];
  /** Grant files changed on main meanwhile (an extension): revoked here, but their files stay. */
  changedElsewhere: string[];
}

const SUBJECT = /^grantops: revoke \d+ expired grant\(s\)$/;

/**
 * Revoke first, then record. Every expired grant gets an explicit revoke on its target before git is
 * asked for anything that can fail; the files of those whose revocation succeeded are then removed in
 * one cleanup commit of their own, which is pushed. Crash-safe by order: a file is never removed
 * before its revocation, and revocation is idempotent and state-based, so any interrupted run
 * converges on the next. Race-safe: a rejected push is redone from the new tip, never merged, and
 * only files whose content is still what was judged are removed, so each grant leaves in one commit.
 */
export async function reapExpired(opts: ReapOptions, deps: ReapDeps): Promise<ReapReport> {
  const problems: string[] = [];
  const problem = (what: string, err?: unknown) =>
    problems.push(err === undefined ? what : `${what}: ${errorMessage(err)}`);
  const recording = opts.record !== false;
  const branch = typeof opts.branch === 'string' ? opts.branch : undefined;
  // 1. Catch up with the remote where that is safe; nothing here is a condition for revoking.
  const canRecord = await prepareCheckout(
    // A shard records nothing: where a cleanup commit would go is not its concern.
    recording ? opts : { ...opts, dryRun: true, branch: 'none' },
    deps.git,
    problem,
  );

  // 2. Revoke.
  const report = await deps.revokeExpired();
  const t = opts.now.getTime();
  const expired = [...report.grants.filter((g) => g.expiresAt.getTime() <= t), ...report.expiredInvalid];
  // A file goes only after an explicit revoke (or a downgrade) for its grant succeeded, or when
  // another live grant justifies the access; never because nothing was planned.
  const endedBy = (a: PlannedAction) => (a.kind === 'revoke' ? a.grantIds : (a.ends ?? []));
  const acted = new Set<string>();
  const failures = new Map<string, string>();
  if (opts.dryRun) for (const a of report.plan.actions) for (const id of endedBy(a)) acted.add(id);
  for (const r of report.results) {
    if (r.ok) {
      for (const id of endedBy(r.action)) acted.add(id);
      continue;
    }
    const error = r.error ?? 'unknown error';
    for (const id of endedBy(r.action)) if (!failures.has(id)) failures.set(id, error);
    if (r.action.kind === 'revoke' && r.action.reason !== 'expired')
      problem(
        `revoke of ${r.action.entitlement} for ${r.action.user} on ${r.action.target} (${r.action.reason}: ${r.action.grantIds.join(', ')}) failed`,
        error,
      );
  }
  const expiredIds = new Set(expired.map((g) => g.id));
  for (const h of report.plan.held) {
    for (const id of h.grantIds) if (!failures.has(id)) failures.set(id, h.reason);
    // Held access of grants that are not expired (a replaced version behind an undecided edit).
    if (!h.grantIds.some((id) => expiredIds.has(id)))
      problem(
        `not revoked: ${[h.user, h.entitlement].filter(Boolean).join(' ')} on ${h.target} (${h.grantIds.join(', ')})`,
        h.reason,
      );
  }
  const settled = new Set(report.plan.settled.flatMap((x) => x.grantIds));
  for (const u of report.plan.unobserved)
    problem(
      `target ${u.target} could not be read (expired grants were still revoked explicitly; access of removed grants there is unchecked)`,
      u.error,
    );
  if (report.historyError) problem('access of grants removed from main was not checked', report.historyError);
  for (const f of report.invalid) problem(`${f.file}:${f.line}:${f.column}: ${f.message}`);
  // Neither kept nor revoked on a GitHub failure: the run must fail until a later one decides.
  for (const r of report.refused) if (r.reviewUnread) problem(`${r.grant.id}: ${r.reason}`);

  const revoked: Revoked[] = [];
  const failed: ReapReport['failed'] = [];
  const cut = new Set(report.cutShort.map((c) => c.grant.id));
  for (const g of expired) {
    const v = report.approved.get(g.id);
    // An ended use whose review could not be read: reaped all the same, the run says it is unknown.
    if (v && !v.approved && v.reviewUnread) problem(`${g.id} (ended): ${v.reason}`);
    const never = v?.approved && v.neverReviewed ? { breakGlassNeverReviewed: true as const } : {};
    const why =
      failures.get(g.id) ??
      (acted.has(g.id) || settled.has(g.id)
        ? undefined
        : 'no revoke call could be made for it (its user is exempt, its role or target is gone from the policy, or its target could not be read): the file stays until one succeeds');
    if (why) failed.push({ grant: g, reason: why });
    else
      revoked.push({
        grant: g,
        lagMs: Math.max(0, t - g.expiresAt.getTime()),
        ...(cut.has(g.id) ? { breakGlassUnreviewed: true as const } : {}),
        ...never,
      });
  }
  const result: ReapReport = {
    apply: report,
    expired,
    revoked,
    failed,
    problems,
    pushed: false,
    removedElsewhere: [],
    changedElsewhere: [],
  };
  if (opts.dryRun || revoked.length === 0 || !recording) return result;
  if (!canRecord || !branch) {
    problem(`${revoked.length} revoked grant file(s) stay until a run can commit their removal`);
    return result;
  }

  // 3. Record: one commit of grantops' own deletions, pushed; each step can fail and is reported.
  try {
    await record(result, opts, deps, branch);
  } catch (err) {
    problem('the cleanup commit was not recorded (the next run redoes it)', err);
  }
  return result;
}

/** What the merge of a sharded reap reports: a reap without its own apply. */
export type ShardMergeReport = Omit<ReapReport, 'apply'>;

/**
 * The last job of a sharded reap (one matrix job per target revokes, this one records): one cleanup
 * commit for the grants every shard revoked. Nothing is revoked here; a file goes only if main still
 * holds exactly the content its shard judged, so an edit made meanwhile keeps its file.
 */
export async function recordShardCleanups(
  opts: Omit<ReapOptions, 'dryRun' | 'record'>,
  deps: Pick<ReapDeps, 'git' | 'clock' | 'random' | 'renderBody' | 'pulls'>,
  shards: readonly { revoked: Revoked; blob: string }[],
): Promise<ShardMergeReport> {
  const problems: string[] = [];
  const problem = (what: string, err?: unknown) =>
    problems.push(err === undefined ? what : `${what}: ${errorMessage(err)}`);
  const canRecord = await prepareCheckout({ ...opts, dryRun: false }, deps.git, problem);
  const revoked = shards.map((s) => s.revoked);
  const result: ShardMergeReport = {
    expired: revoked.map((r) => r.grant),
    revoked,
    failed: [],
    problems,
    pushed: false,
    removedElsewhere: [],
    changedElsewhere: [],
  };
  const branch = typeof opts.branch === 'string' ? opts.branch : undefined;
  if (revoked.length === 0) return result;
  if (!canRecord || !branch) {
    problem(`${revoked.length} revoked grant file(s) stay until a run can commit their removal`);
    return result;
  }
  try {
    await record(result, opts, deps, branch, new Map(shards.map((s) => [s.revoked.grant.id, s.blob])));
  } catch (err) {
    problem('the cleanup commit was not recorded (the next run redoes it)', err);
  }
  return result;
}

/**
 * Checks the checkout can carry a cleanup commit (on the branch, clean) and brings it to the remote's
 * tip; fetches the approval notes. Problems are reported, never thrown: revocation never waits on git.
 */
async function prepareCheckout(
  opts: Pick<ReapOptions, 'dryRun' | 'push' | 'remote' | 'branch'>,
  git: ReaperRepo,
  problem: (what: string, err?: unknown) => void,
): Promise<boolean> {
  const branch = typeof opts.branch === 'string' ? opts.branch : undefined;
  if (typeof opts.branch !== 'string')
    problem('the branch to commit the cleanup on is not known', opts.branch.error);

  let canRecord = !opts.dryRun && branch !== undefined;
  if (!opts.dryRun) {
    try {
      const st = await git.workTreeState();
      if (st.branch === undefined) {
        problem(`HEAD is detached: check out ${branch ?? 'the default branch'} for the cleanup commit`);
        canRecord = false;
      } else if (branch !== undefined && st.branch !== branch) {
        problem(`the checkout is on ${st.branch}, but the cleanup belongs on ${branch}`);
        canRecord = false;
      }
      if (st.dirty.length > 0) {
        problem(
          `the work tree has uncommitted changes (${st.dirty.slice(0, 5).join(', ')}${st.dirty.length > 5 ? ', …' : ''}): grantops neither commits nor discards them; commit or stash them and run again`,
        );
        canRecord = false;
      }
    } catch (err) {
      problem('could not read the work tree state', err);
      canRecord = false;
    }
  }
  if (opts.remote) {
    // Evidence of live grants' approval lives in notes, which a checkout does not fetch.
    try {
      await git.fetchNotes(opts.remote);
    } catch (err) {
      problem(
        `could not fetch approval notes from ${opts.remote} (live grants without a local note stay undecided)`,
        err,
      );
    }
  }
  if (canRecord && opts.push && opts.remote && branch) {
    try {
      await syncTo(git, opts.remote, branch);
    } catch (err) {
      problem(`could not bring the checkout to ${opts.remote}/${branch}`, err);
      canRecord = false;
    }
  }
  return canRecord;
}

/** Brings a clean checkout to the remote's tip, dropping only unpushed cleanup commits of grantops. */
async function syncTo(git: ReaperRepo, remote: string, branch: string): Promise<void> {
  const upstream = `${remote}/${branch}`;
  await git.fetchBranch(remote, branch);
  for (const c of await git.commitsBetween(upstream, 'HEAD')) {
    // A crashed run's unpushed cleanup is redone from the tip (its revocations are repeated first).
    if (!SUBJECT.test(c.message.split('\n')[0] ?? ''))
      throw new Error(
        `HEAD has commits that are not on ${upstream} (${c.sha.slice(0, 7)}): push or drop them; grantops will not`,
      );
  }
  await git.resetHard(upstream);
}

async function record(
  result: Omit<ReapReport, 'apply'>,
  opts: Pick<ReapOptions, 'now' | 'push' | 'remote' | 'cleanupBranch' | 'maxPushAttempts'>,
  deps: Pick<ReapDeps, 'git' | 'clock' | 'random' | 'renderBody' | 'pulls'>,
  branch: string,
  /** What each shard judged (blob by grant id); default: main's content now. */
  judgedByShards?: ReadonlyMap<string, string>,
): Promise<void> {
  const commitFor = async (items: Revoked[]) => {
    const views = items.map((r) => revokedView(r, opts.now));
    // Subject and trailers are the contract; only the body comes from the (overridable) template.
    const body = (await deps.renderBody({ grants: views })).trim();
    const trailers = [
      ...items.map((r) => `Revoked-Grant: ${r.grant.id}`),
      ...items.filter((r) => r.breakGlassUnreviewed).map((r) => `Break-Glass-Unreviewed: ${r.grant.id}`),
      ...items.flatMap((r) =>
        r.breakGlassNeverReviewed ? [`Break-Glass-Never-Reviewed: ${r.grant.id}`] : [],
      ),
    ].join('\n');
    const message = `grantops: revoke ${items.length} expired grant(s)\n\n${body ? `${body}\n\n` : ''}${trailers}\n`;
    return deps.git.commitRemoval(
      items.map((r) => r.grant.file),
      message,
      opts.now,
    );
  };
  const blobsAt = async (rev: string, items: Revoked[]) => {
    // One listing of the grants folder, however many files: linear in the grants.
    const blobs = await deps.git.blobsAt(rev, GRANTS_DIR);
    return new Map(items.map((r) => [r.grant.id, blobs.get(r.grant.file)]));
  };
  // What was judged: a redo removes a file only if main still has exactly this content.
  const judged = judgedByShards ?? (await blobsAt('HEAD', result.revoked));
  let pending = result.revoked;
  if (judgedByShards) {
    // A shard judged some content; main must still hold exactly it, as after a redo.
    const now = await blobsAt('HEAD', pending);
    pending = pending.filter((r) => {
      const blob = now.get(r.grant.id);
      if (blob === undefined) result.removedElsewhere.push(r.grant.id);
      else if (blob !== judged.get(r.grant.id)) result.changedElsewhere.push(r.grant.id);
      return blob !== undefined && blob === judged.get(r.grant.id);
    });
  } else pending = pending.filter((r) => judged.get(r.grant.id) !== undefined);
  if (pending.length === 0) return;
  result.commit = await commitFor(pending);
  if (!opts.push || !opts.remote) return;

  for (let attempt = 1; ; attempt++) {
    const pushed = await deps.git.push(opts.remote, branch);
    if (pushed.ok) {
      result.pushed = true;
      return;
    }
    if (pushed.reason === 'protected' && deps.pulls) {
      const forced = await deps.git.push(opts.remote, opts.cleanupBranch, true);
      if (!forced.ok)
        throw new Error(`push to ${opts.remote}/${opts.cleanupBranch} failed: ${forced.message}`);
      result.pullRequest = await deps.pulls.upsert(
        opts.cleanupBranch,
        branch,
        `grantops: revoke ${pending.length} expired grant(s)`,
        `Access of these grants has been revoked on their targets; merging removes their files.\n\n${pending.map((r) => `- ${escapeMarkdown(r.grant.id)}`).join('\n')}`,
      );
      return;
    }
    if (pushed.reason !== 'behind' || attempt >= opts.maxPushAttempts) {
      throw new Error(`push of the cleanup commit to ${opts.remote}/${branch} failed: ${pushed.message}`);
    }
    // Main moved (perhaps another reaper): start again from its new tip with what is still there
    // unchanged, after a short random pause so two racing reapers do not collide again.
    await deps.clock.sleep(50 + Math.floor((deps.random ?? Math.random)() * 200 * attempt));
    await syncTo(deps.git, opts.remote, branch);
    const now = await blobsAt('HEAD', pending);
    const still: Revoked[] = [];
    for (const r of pending) {
      const blob = now.get(r.grant.id);
      if (blob === undefined) result.removedElsewhere.push(r.grant.id);
      else if (blob !== judged.get(r.grant.id)) result.changedElsewhere.push(r.grant.id);
      else still.push(r);
    }
    pending = still;
    if (pending.length === 0) {
      delete result.commit;
      return;
    }
    result.commit = await commitFor(pending);
  }
}
