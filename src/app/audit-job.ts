import type { AuditOutput } from '../audit/format.js';
import { auditEvents } from '../audit/lifecycle-events.js';
import { auditBreakGlass } from '../audit/break-glass.js';
import { auditExtensionHistory, extendedFiles } from '../audit/extension-history.js';
import { readFileChange } from '../policy/max-total-chain.js';
import type { RawGrantFields } from '../policy/extension.js';
import { GRANTS_DIR } from '../model/grant.js';
import { activeAt, filterEvents, verifyHistory, type AuditFilter } from '../audit/query.js';
import { type HistoryCacheReport, loadAuditHistory } from '../adapters/git/audit-log.js';
import type { HistoryReadOptions } from '../adapters/git/history.js';
import { ConfigError, errorMessage } from '../model/errors.js';
import { unknownName } from '../model/suggest.js';
import { loadPolicies } from '../policy/load.js';
import { evidenceVerifier, loadEvidenceVerifier } from '../policy/evidence-signature.js';
import type { Wiring } from './wiring.js';

export interface AuditJobOptions {
  /** History to read (default HEAD). */
  ref?: string;
  filter?: AuditFilter;
  /** Who had access at this instant. */
  at?: Date;
  /** The compliance check; `evidenceKey`: a public key (PEM) given out of band. */
  verify?: { toleranceMs: number; evidenceKey?: string };
  /** Fetch approval evidence from origin first (the Action; the CLI reads what the clone has). */
  fetchNotes?: boolean;
  /** A shallow clone: fetch the rest of main's history (the Action), or only say so (the CLI). */
  unshallow?: boolean;
  read?: HistoryReadOptions;
  /** Reuse the history cache in the git directory (default: unless GRANTOPS_NO_CACHE). */
  cache?: boolean;
  /** Told every 1,024 commits read. */
  onProgress?: (commits: number) => void;
}

export interface AuditJobResult {
  output: AuditOutput;
  /** How the history cache was used. */
  cache: HistoryCacheReport;
  /** The clone is (still) shallow: what happened before its oldest commit is missing. */
  shallow?: { unshallowed: boolean; error?: string };
}

/** `audit`: the lifecycle of every grant from git history, and the compliance check. */
export async function auditJob(w: Wiring, opts: AuditJobOptions): Promise<AuditJobResult> {
  const git = w.requireGit();
  const ref = opts.ref ?? 'HEAD';
  await git.resolveCommit(ref);
  const remote = opts.fetchNotes ? await w.notesRemote() : undefined;
  if (remote) await git.fetchNotes(remote).catch(() => undefined);
  let shallow: AuditJobResult['shallow'];
  if (await git.isShallow()) {
    // Every live grant would look requested by the oldest commit: the audit needs main's whole line.
    shallow = { unshallowed: false };
    if (opts.unshallow) {
      try {
        await git.unshallow('origin');
        shallow = { unshallowed: true };
      } catch (err) {
        shallow = { unshallowed: false, error: errorMessage(err) };
      }
    }
  }
  const filter = opts.filter ?? {};
  // Only the lifecycles the filter can print from are made (from the cache, only they are read
  // back); not by target: a target nobody of the filter had must still be told from a typo below.
  const select = {
    ...(filter.user !== undefined ? { user: filter.user } : {}),
    ...(filter.role !== undefined ? { role: filter.role } : {}),
  };
  const history = await loadAuditHistory(git.root, w.registry, ref, {
    ...opts.read,
    cache: opts.cache ?? w.config.historyCache !== false,
    ...(w.config.historyCacheKey ? { cacheKey: w.config.historyCacheKey } : {}),
    ...(Object.keys(select).length ? { select } : {}),
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
  });
  if (filter.target !== undefined) {
    // A typo must not read as "nobody ever had access to it".
    const known = new Set<string>();
    for (const life of history.lifecycles) for (const v of life.versions) known.add(v.target);
    for (const name of (await loadPolicies(w.work, w.registry)).byTarget.keys()) known.add(name);
    if (!known.has(filter.target))
      throw new ConfigError(`--target: ${unknownName('target', filter.target, [...known])}`);
  }
  let violations;
  let breakGlass;
  if (opts.verify) {
    const key = opts.verify.evidenceKey ?? w.config.evidence.publicKey;
    const verifyEvidence = key ? evidenceVerifier(key) : await loadEvidenceVerifier(git.treeAt(ref));
    violations = verifyHistory(
      history,
      {
        now: w.config.now,
        toleranceMs: opts.verify.toleranceMs,
        maxDurationAt: (n, t, r) => history.maxDurationAt(n, t, r),
        maxTotalAt: (n, t, r) => history.maxTotalAt(n, t, r),
        ...(verifyEvidence ? { verifyEvidence } : {}),
      },
      filter,
    );
    const uses = auditBreakGlass(
      history,
      {
        now: w.config.now,
        toleranceMs: opts.verify.toleranceMs,
        reviewWithinAt: (n, t, r) => history.reviewWithinAt(n, t, r),
        ...(verifyEvidence ? { verifyEvidence } : {}),
      },
      filter,
    );
    breakGlass = uses.rows;
    // The extension rules need each extended file's versions as written: one more `git log`, for them only.
    const files = extendedFiles(history);
    const changes = files.length
      ? await git.fileChanges(new Map(files.map((file) => [file, new Date(0)])), {
          rev: ref,
          under: [GRANTS_DIR],
        })
      : undefined;
    const parsed = new Map<Uint8Array, RawGrantFields | undefined>();
    const extensionBreaks = changes
      ? auditExtensionHistory(
          history,
          new Map(
            [...changes].map(([file, list]) => [file, list.map((c) => readFileChange(file, c, parsed))]),
          ),
          filter,
        )
      : [];
    violations = [...violations, ...uses.violations, ...extensionBreaks].sort((a, b) =>
      a.grant < b.grant ? -1 : a.grant > b.grant ? 1 : 0,
    );
  }
  return {
    output: {
      events: filterEvents(auditEvents(history), filter),
      ...(opts.at ? { activeAt: { at: opts.at, rows: activeAt(history, opts.at, filter) } } : {}),
      ...(violations ? { violations } : {}),
      ...(breakGlass ? { breakGlass } : {}),
    },
    cache: history.cache,
    ...(shallow ? { shallow } : {}),
  };
}
