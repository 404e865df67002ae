import { ConfigError } from '../model/errors.js';
import { formatDuration } from '../model/duration.js';
import type { Grant } from '../model/grant.js';
import { formatTimestamp } from '../model/time.js';
import type { Clock } from '../ports/clock.js';
import type { ReaperRepo } from '../ports/git.js';
import { escapeMarkdown } from '../render/markdown.js';
import type { ApplyReport } from '../usecases/apply.js';

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
  remote: string;
  branch: string;
  /** Where the cleanup goes when `branch` is protected. */
  cleanupBranch: string;
  maxPushAttempts: number;
}

export interface ReapDeps {
  git: ReaperRepo;
  /** Waits before a redo after a rejected push. */
  clock: Pick<Clock, 'sleep'>;
  /** Jitter in [0, 1): two racing reapers must not collide again (default Math.random). */
  random?: () => number;
  /** Revokes the access of expired grants on their targets (applyGrants in `reap` mode). */
  revokeExpired(): Promise<ApplyReport>;
  /** Renders the body of the cleanup commit (template `cleanup-commit.txt`). */
  renderBody(view: { grants: RevokedView[] }): Promise<string>;
  pulls?: CleanupPullRequests;
}

export interface RevokedView {
  id: string;
  user: string;
  target: string;
  role: string;
  expiresAt: string;
  revokedAt: string;
  lag: string;
}

/** How a revoked grant is shown: the cleanup commit's body and the reap summary. */
export function revokedView({ grant, lagMs }: Revoked, revokedAt: Date): RevokedView {
  return {
    id: grant.id,
    user: grant.user,
    target: grant.target,
    role: grant.role,
    expiresAt: formatTimestamp(grant.expiresAt),
    revokedAt: formatTimestamp(revokedAt),
    lag: formatDuration(lagMs),
  };
}

export interface Revoked {
  grant: Grant;
  /** How long access outlived the grant: revocation time minus expiresAt. */
  lagMs: number;
}

export interface ReapReport {
  apply: ApplyReport;
  expired: Grant[];
  revoked: Revoked[];
  /** Expired grants whose revocation failed or could not be confirmed: their files stay. */
  failed: { grant: Grant; reason: string }[];
  commit?: string;
  pushed: boolean;
  pullRequest?: { number: number; created: boolean };
  /** Grant ids removed by a concurrent reaper before this one could push. */
  removedElsewhere: string[];
}

const SUBJECT = /^grantops: revoke \d+ expired grant\(s\)$/;
const TRAILER = /^Revoked-Grant: (.+)$/gm;

/**
 * Revoke, then record: every expired grant is revoked on its target; the files of those whose
 * revocation succeeded are removed in one cleanup commit, which is pushed. Crash-safe by order:
 * a file is never removed before its revocation, and revocation is idempotent, so any interrupted run
 * converges on the next. Race-safe: a rejected push is redone from the new tip, never merged, so each
 * grant is removed by exactly one commit.
 */
export async function reapExpired(opts: ReapOptions, deps: ReapDeps): Promise<ReapReport> {
  const upstream = `${opts.remote}/${opts.branch}`;
  // Cleanup commits a crashed run made but never pushed: their revocations happened; redo them on top.
  const carried = new Set<string>();
  if (opts.push && !opts.dryRun) {
    await deps.git.fetchBranch(opts.remote, opts.branch);
    const local = await deps.git.commitsBetween(upstream, 'HEAD');
    for (const c of local) {
      if (!SUBJECT.test(c.message.split('\n')[0] ?? '')) {
        throw new ConfigError(
          `HEAD has commits that are not on ${upstream} (${c.sha.slice(0, 7)}): reap --push needs a clean checkout of ${opts.branch}`,
        );
      }
      for (const m of c.message.matchAll(TRAILER)) carried.add(m[1]!.trim());
    }
    await deps.git.resetHard(upstream);
  }

  const report = await deps.revokeExpired();
  const t = opts.now.getTime();
  const expired = report.grants.filter((g) => g.expiresAt.getTime() <= t);
  const unobserved = new Map(report.plan.unobserved.map((u) => [u.target, u.error]));
  const failures = new Map<string, string>();
  for (const r of report.results) {
    if (r.ok) continue;
    for (const id of r.action.grantIds) failures.set(id, r.error ?? 'revocation failed');
  }
  const revoked: Revoked[] = [];
  const failed: ReapReport['failed'] = [];
  for (const g of expired) {
    const why = unobserved.has(g.target)
      ? `target ${g.target} could not be read: ${unobserved.get(g.target)}`
      : failures.get(g.id);
    if (why && !carried.has(g.id)) failed.push({ grant: g, reason: why });
    else revoked.push({ grant: g, lagMs: Math.max(0, t - g.expiresAt.getTime()) });
  }
  const result: ReapReport = { apply: report, expired, revoked, failed, pushed: false, removedElsewhere: [] };
  if (opts.dryRun || revoked.length === 0) return result;

  const commitFor = async (items: Revoked[]) => {
    const views = items.map((r) => revokedView(r, opts.now));
    // Subject and trailers are the contract; only the body comes from the (overridable) template.
    const body = (await deps.renderBody({ grants: views })).trim();
    const trailers = items.map((r) => `Revoked-Grant: ${r.grant.id}`).join('\n');
    const message = `grantops: revoke ${items.length} expired grant(s)\n\n${body ? `${body}\n\n` : ''}${trailers}\n`;
    return deps.git.commitRemoval(
      items.map((r) => r.grant.file),
      message,
      opts.now,
    );
  };

  let pending = revoked;
  result.commit = await commitFor(pending);
  if (!opts.push) return result;

  for (let attempt = 1; ; attempt++) {
    const pushed = await deps.git.push(opts.remote, opts.branch);
    if (pushed.ok) {
      result.pushed = true;
      return result;
    }
    if (pushed.reason === 'protected' && deps.pulls) {
      await deps.git.push(opts.remote, opts.cleanupBranch, true);
      result.pullRequest = await deps.pulls.upsert(
        opts.cleanupBranch,
        opts.branch,
        `grantops: revoke ${pending.length} expired grant(s)`,
        `Access of these grants has been revoked on their targets; merging removes their files.\n\n${pending.map((r) => `- ${escapeMarkdown(r.grant.id)}`).join('\n')}`,
      );
      return result;
    }
    if (pushed.reason !== 'behind' || attempt >= opts.maxPushAttempts) {
      throw new Error(
        `push of the cleanup commit to ${opts.remote}/${opts.branch} failed: ${pushed.message}`,
      );
    }
    // Main moved (perhaps another reaper): start again from its new tip with what is still there,
    // after a short random pause so two racing reapers do not collide again.
    await deps.clock.sleep(50 + Math.floor((deps.random ?? Math.random)() * 200 * attempt));
    await deps.git.fetchBranch(opts.remote, opts.branch);
    await deps.git.resetHard(upstream);
    const still = pending.filter((r) => deps.git.exists(r.grant.file));
    result.removedElsewhere.push(...pending.filter((r) => !still.includes(r)).map((r) => r.grant.id));
    pending = still;
    if (pending.length === 0) {
      delete result.commit;
      return result;
    }
    result.commit = await commitFor(pending);
  }
}
