import { readFile, rename, writeFile } from 'node:fs/promises';
import { ConfigError, errorMessage } from '../model/errors.js';
import { GRANTS_DIR, grantIdFromPath, type Grant } from '../model/grant.js';
import { formatTimestamp } from '../model/time.js';
import { loadGrants, loadPolicies } from '../policy/load.js';
import { recordShardCleanups, type ReapReport, type ShardMergeReport } from '../reaper/reap-expired.js';
import { cleanupCommit } from './cleanup-commit.js';
import type { Wiring } from './wiring.js';

/**
 * What one shard of a sharded reap hands the merging job: the grants it revoked, each with the blob
 * of the file it judged, so the merge removes a file only if main still holds exactly that content.
 */
interface ShardFile {
  grantops: 'reap-shard';
  version: 1;
  now: string;
  targets: string[];
  revoked: ShardRevoked[];
  failed: { id: string; reason: string }[];
  /**
   * Every grant id a revoke (or downgrade) of this shard failed or held for, whatever target the
   * grant names now: a grant moved from another target leaves access here that must go first.
   */
  blocked: string[];
}

interface ShardRevoked {
  id: string;
  file: string;
  blob: string;
  lagMs: number;
  /**
   * What the shard revoked: for a file that is no longer a valid grant (its role or target left the
   * policy), the merge cannot read it back from the file, only from here (optional: older shards).
   */
  user?: string;
  target?: string;
  role?: string;
  expiresAt?: string;
  /** A break-glass use revoked at its review deadline (the cleanup commit says so). */
  breakGlassUnreviewed?: true;
  /** A break-glass use that ended at its expiresAt, never reviewed (the cleanup commit says so). */
  breakGlassNeverReviewed?: true;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;

/** Writes a shard's result, atomically: a merge never reads half a file. */
export async function writeShard(
  w: Wiring,
  path: string,
  only: readonly string[] | undefined,
  report: ReapReport,
): Promise<void> {
  const blobs = await w.requireGit().blobsAt('HEAD', GRANTS_DIR);
  const doc: ShardFile = {
    grantops: 'reap-shard',
    version: 1,
    now: formatTimestamp(w.config.now),
    targets: [...(only ?? [...report.apply.policies.keys()])].sort(),
    revoked: report.revoked.flatMap((r) => {
      const blob = blobs.get(r.grant.file);
      if (!blob) return [];
      const { id, file, user, target, role, expiresAt } = r.grant;
      const early = r.breakGlassUnreviewed ? { breakGlassUnreviewed: true as const } : {};
      const never = r.breakGlassNeverReviewed ? { breakGlassNeverReviewed: true as const } : {};
      return [
        {
          id,
          file,
          blob,
          lagMs: r.lagMs,
          user,
          target,
          role,
          expiresAt: formatTimestamp(expiresAt),
          ...early,
          ...never,
        },
      ];
    }),
    failed: report.failed.map((f) => ({ id: f.grant.id, reason: f.reason })),
    blocked: [
      ...new Set([
        ...report.apply.results
          .filter((r) => !r.ok)
          .flatMap((r) => (r.action.kind === 'revoke' ? r.action.grantIds : (r.action.ends ?? []))),
        ...report.apply.plan.held.flatMap((h) => h.grantIds),
      ]),
    ].sort(),
  };
  await writeFile(`${path}.tmp`, `${JSON.stringify(doc, null, 2)}\n`, { mode: 0o600 });
  await rename(`${path}.tmp`, path);
}

/** Reads a shard file, refusing anything that is not one (exit 2, the file named). */
async function readShard(path: string): Promise<ShardFile> {
  let doc: unknown;
  try {
    doc = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new ConfigError(`--merge-shards: ${path}: ${errorMessage(err)}`);
  }
  const bad = (why: string) => new ConfigError(`--merge-shards: ${path} is not a reap shard (${why})`);
  const d = doc as Partial<ShardFile>;
  if (d.grantops !== 'reap-shard' || d.version !== 1) throw bad('grantops: reap-shard, version 1 expected');
  if (!Array.isArray(d.revoked) || !Array.isArray(d.targets) || !Array.isArray(d.blocked))
    throw bad('revoked, targets and blocked expected');
  if (d.blocked.some((id) => typeof id !== 'string')) throw bad('blocked must list grant ids');
  for (const r of d.revoked) {
    const id = typeof r?.file === 'string' ? grantIdFromPath(r.file) : undefined;
    const named = (['user', 'target', 'role'] as const).every(
      (k) => r[k] === undefined || NAME.test(String(r[k])),
    );
    const ends = r.expiresAt === undefined || !Number.isNaN(Date.parse(String(r.expiresAt)));
    if (
      !id?.ok ||
      id.id !== r.id ||
      !/^[0-9a-f]{40,64}$/.test(String(r.blob)) ||
      !(r.lagMs >= 0) ||
      !named ||
      !ends ||
      (r.breakGlassUnreviewed !== undefined && r.breakGlassUnreviewed !== true) ||
      (r.breakGlassNeverReviewed !== undefined && r.breakGlassNeverReviewed !== true)
    )
      throw bad(`entry ${JSON.stringify(r).slice(0, 200)}`);
  }
  return d as ShardFile;
}

/**
 * The last job of a sharded reap: one cleanup commit removing the files of every grant the shards
 * revoked (their targets disjoint, each grant revoked once by its own shard), pushed like any reap.
 */
export async function mergeShardsJob(
  w: Wiring,
  opts: { files: readonly string[]; push: boolean; branch?: string },
): Promise<ShardMergeReport> {
  const shards = await Promise.all(opts.files.map(readShard));
  const seen = new Map<string, string>();
  for (const [i, s] of shards.entries())
    for (const t of s.targets) {
      const other = seen.get(t);
      if (other !== undefined)
        throw new ConfigError(`--merge-shards: target ${t} is in two shards (${other}, ${opts.files[i]})`);
      seen.set(t, opts.files[i]!);
    }
  // The grant each file holds now: the view of the cleanup commit; its blob decides if it may go.
  const policies = await loadPolicies(w.work, w.registry);
  const { grants } = await loadGrants(w.work, {
    registry: w.registry,
    policies: policies.byTarget,
    now: w.config.now,
    expiredSeverity: 'warning',
    policySource: w.work.label,
  });
  const byId = new Map(grants.map((g) => [g.id, g]));
  // Files still on main that are no longer valid grants: their shard judged them expired from history.
  const present = await w.requireGit().blobsAt('HEAD', GRANTS_DIR);
  // A file goes only if no shard failed or held a revoke for its grant (another target may still
  // hold access an earlier version gave), its target is its shard's, and it has expired.
  const blocked = new Map<string, string>();
  for (const [i, s] of shards.entries()) for (const id of s.blocked) blocked.set(id, opts.files[i]!);
  const kept: ShardMergeReport['failed'] = [];
  const items = shards.flatMap((s, i) =>
    s.revoked.flatMap((r) => {
      const grant = byId.get(r.id) ?? invalidGrant(r, present);
      if (!grant) return [];
      const why = blocked.has(r.id)
        ? `a revoke for it failed or was held in the shard ${blocked.get(r.id)}`
        : !s.targets.includes(grant.target)
          ? `its target ${grant.target} is not one of the shard ${opts.files[i]}'s`
          : // A break-glass grant revoked early by its shard ends before its expiresAt.
            grant.expiresAt.getTime() > w.config.now.getTime() &&
              !(r.breakGlassUnreviewed && grant.breakGlass)
            ? 'it has not expired'
            : undefined;
      if (why) {
        kept.push({ grant, reason: `${why}: the file stays for the next run` });
        return [];
      }
      const early = r.breakGlassUnreviewed ? { breakGlassUnreviewed: true as const } : {};
      const never = r.breakGlassNeverReviewed ? { breakGlassNeverReviewed: true as const } : {};
      return [{ revoked: { grant, lagMs: r.lagMs, ...early, ...never }, blob: r.blob }];
    }),
  );
  const { remote, options, deps } = await cleanupCommit(w, opts.branch);
  if (opts.push && !remote) throw new ConfigError('--push needs a remote named origin');
  const report = await recordShardCleanups({ now: w.config.now, push: opts.push, ...options }, deps, items);
  report.failed.push(...kept);
  // A revoked grant whose file is gone (or no longer a valid grant) is not for this commit.
  const taken = new Set([...items.map((i) => i.revoked.grant.id), ...kept.map((k) => k.grant.id)]);
  for (const s of shards)
    for (const r of s.revoked) {
      if (taken.has(r.id)) continue;
      if (!present.has(r.file)) report.removedElsewhere.push(r.id);
      else
        report.problems.push(
          `${r.id}: its shard did not say what it revoked; the file stays for the next run`,
        );
    }
  return report;
}

/**
 * A revoked file that is on main but no longer a valid grant, as its shard saw it. It goes like any
 * other: only with the very content the shard judged (its blob), and only if the shard said what it
 * revoked and on which of its targets.
 */
function invalidGrant(r: ShardRevoked, present: ReadonlyMap<string, string>): Grant | undefined {
  if (!present.has(r.file) || !r.user || !r.target || !r.role || !r.expiresAt) return undefined;
  return {
    id: r.id,
    file: r.file,
    user: r.user,
    target: r.target,
    role: r.role,
    reason: '(grant file no longer valid)',
    expiresAt: new Date(r.expiresAt),
  };
}
