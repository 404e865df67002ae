import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, sep } from 'node:path';
import { type HistoryCacheReport, loadAuditHistory } from '../adapters/git/audit-log.js';
import { writeFilesInBackground } from '../adapters/file-batch.js';
import { ConfigError } from '../model/errors.js';
import { expiringWindowMs } from '../model/policy.js';
import { loadPolicies } from '../policy/load.js';
import { evidenceVerifier, loadEvidenceVerifier } from '../policy/evidence-signature.js';
import { calendarFileName, calendarOf, renderEvent } from '../render/report-ics.js';
import { renderReportHtml } from '../render/report-html.js';
import { buildReport, type ObservedTargets, type ReportModel } from '../report/model.js';
import { statusJob } from './status-job.js';
import type { Wiring } from './wiring.js';

export interface ReportJobOptions {
  /** Directory the site is written to (absolute); made if missing. */
  out: string;
  /** Read every target (`list`) for drift: access no grant explains, grants whose access is missing. */
  observe?: boolean;
  /** Reuse the history cache (default: unless GRANTOPS_NO_CACHE). */
  cache?: boolean;
  /** Fetch approval evidence and the rest of a shallow clone's history first (the Action). */
  fetch?: boolean;
  onProgress?: (commits: number) => void;
}

export interface ReportJobResult {
  model: ReportModel;
  /** The repository's web URL the links point to, when configured. */
  repoUrl: string | undefined;
  /** Files written, relative to `out`. */
  files: string[];
  cache: HistoryCacheReport;
  /** The history read is that of a shallow clone: what came before its oldest commit is missing. */
  shallow: boolean;
  /** Where the time went (ms): reading history, policies and targets; the model; rendering and writing. */
  timings: { read: number; model: number; write: number };
}

/**
 * The repository's web URL from the configuration GitHub Actions sets (GITHUB_SERVER_URL and
 * GITHUB_REPOSITORY), checked to be exactly that: links on the dashboard never come from history.
 */
export function repositoryUrl(env: Readonly<Record<string, string | undefined>>): string | undefined {
  const repo = env.GITHUB_REPOSITORY ?? '';
  if (!/^[A-Za-z0-9-]+\/[A-Za-z0-9._-]+$/.test(repo)) return undefined;
  let server: URL;
  try {
    server = new URL(env.GITHUB_SERVER_URL || 'https://github.com');
  } catch {
    return undefined;
  }
  if (server.protocol !== 'https:' || server.username || server.password || server.search || server.hash)
    return undefined;
  return `${server.origin}${server.pathname.replace(/\/+$/, '')}/${repo}`;
}

/** `report`: the static dashboard and the expiry calendars, from the audit's history at now. */
export async function reportJob(w: Wiring, opts: ReportJobOptions): Promise<ReportJobResult> {
  const git = w.requireGit();
  if (opts.fetch) {
    const remote = await w.notesRemote();
    if (remote) await git.fetchNotes(remote).catch(() => undefined);
    if (await git.isShallow()) await git.unshallow('origin').catch(() => undefined);
  }
  const started = performance.now();
  const [history, policies, observed] = await Promise.all([
    loadAuditHistory(git.root, w.registry, 'HEAD', {
      cache: opts.cache ?? w.config.historyCache !== false,
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    }),
    loadPolicies(w.work, w.registry),
    opts.observe ? observeTargets(w) : undefined,
  ]);
  if (policies.findings.length > 0) throw new ConfigError('invalid policy files', policies.findings);
  const read = performance.now();
  const key = w.config.evidence.publicKey;
  const verifyEvidence = key ? evidenceVerifier(key) : await loadEvidenceVerifier(git.treeAt('HEAD'));
  const model = buildReport({
    now: w.config.now,
    lifecycles: history.lifecycles,
    expiringWindowMs: (target, role) => {
      const policy = policies.byTarget.get(target)?.policy;
      return policy ? expiringWindowMs(policy, role) : 24 * 3_600_000;
    },
    ...(verifyEvidence ? { verifyEvidence } : {}),
    ...(observed ? { observed } : {}),
  });
  const modelled = performance.now();
  const repoUrl = repositoryUrl(w.config.env);
  const files = await writeSite(opts.out, model, repoUrl);
  const timings = {
    read: Math.round(read - started),
    model: Math.round(modelled - read),
    write: Math.round(performance.now() - modelled),
  };
  return { model, repoUrl, files, cache: history.cache, shallow: await git.isShallow(), timings };
}

/** A dry-run apply, as `status --observe` reads the targets. */
async function observeTargets(w: Wiring): Promise<ObservedTargets> {
  const r = await statusJob(w, { observe: true });
  return {
    unexplained: r.drift.map((d) => ({
      target: d.target,
      user: d.user,
      entitlement: d.entitlement,
      enforced: d.enforced,
    })),
    missing: r.notApplied,
    outlives: r.outlives,
    unreadable: r.unreadable,
  };
}

/**
 * Writes the site. Thousands of users are thousands of small files: they are written one
 * writeFileSync after another (64 promises at once took three times as long: 20,000 calendars,
 * 10.7 s against 3.2 s), on a worker thread while this one renders and writes the page (a warm
 * report of 20,000 calendars: 1.32 s against 1.44 s, quiet, tmpfs).
 */
async function writeSite(out: string, model: ReportModel, repoUrl: string | undefined): Promise<string[]> {
  // Each expiry is rendered once: into the feed of everyone and into its user's.
  const base = { now: model.now, repoUrl };
  const events = model.expiries.map((e) => renderEvent(e, base));
  const byUser = new Map<string, { user: string; events: string[] }>();
  model.expiries.forEach((e, i) => {
    const file = calendarFileName(e.user);
    let entry = byUser.get(file);
    if (!entry) byUser.set(file, (entry = { user: e.user, events: [] }));
    entry.events.push(events[i]!);
  });
  const calendars = [...byUser.entries()]
    .map(([file, v]) => ({ user: v.user, file, events: v.events.length, texts: v.events }))
    .sort((a, b) => (a.file < b.file ? -1 : 1));
  mkdirSync(join(out, 'calendars'), { recursive: true });
  const keep = new Set(calendars.map((c) => c.file));
  // A user whose last expiry left the window keeps no stale calendar from an earlier run.
  for (const name of readdirSync(join(out, 'calendars')))
    if (name.endsWith('.ics') && !keep.has(name)) rmSync(join(out, 'calendars', name), { force: true });
  // calendarFileName makes plain names ([a-z0-9-] or a hash): joined without path.join's normalising.
  const dir = `${join(out, 'calendars')}${sep}`;
  const written = writeFilesInBackground(
    calendars.map((c) => ({
      path: `${dir}${c.file}`,
      text: calendarOf(c.texts, `grantops: access of ${c.user}`),
    })),
  );
  try {
    writeFileSync(join(out, 'index.html'), renderReportHtml(model, { repoUrl, calendars }));
    writeFileSync(join(out, 'calendar.ics'), calendarOf(events, 'grantops: access expiries'));
  } finally {
    // Awaited whatever the page did: the worker never outlives the job, and its error is reported.
    await written;
  }
  return ['index.html', 'calendar.ics', ...calendars.map((c) => `calendars/${c.file}`)];
}
