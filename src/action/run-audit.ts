import * as core from '@actions/core';
import { closeSync, mkdtempSync, openSync, readFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { auditChunks, boundedMarkdown } from '../audit/format.js';
import { auditEvents } from '../audit/lifecycle-events.js';
import { activeAt, verifyHistory } from '../audit/query.js';
import { loadEvidenceVerifier } from '../policy/evidence-signature.js';
import { GitRepo } from '../adapters/git/repo.js';
import { ConfigError } from '../model/errors.js';
import { parseTimestamp } from '../model/time.js';
import { SchemaRegistry } from '../policy/schema-registry.js';
import { loadAuditHistory } from '../usecases/audit.js';
import type { ActionInputs } from './inputs.js';
import { runnerLog } from './log.js';

/** `command: audit`: the audit log as Markdown in the job summary, JSON in the `audit` output. */
export async function runAudit(inputs: ActionInputs, now: Date): Promise<void> {
  const git = await GitRepo.open(resolve(inputs.repoPath));
  await git.fetchNotes('origin').catch(() => undefined);
  // A shallow checkout (actions/checkout's default) would show every live grant as requested by its
  // oldest commit: the audit needs the whole of main's line.
  if (await git.isShallow()) {
    try {
      await git.unshallow('origin');
      runnerLog.info('fetched the full history: the checkout was shallow');
    } catch (err) {
      runnerLog.warning(
        `the checkout is shallow and its history could not be fetched (${String(err)}): the audit only covers the commits present; use actions/checkout with fetch-depth: 0`,
      );
    }
  }
  const history = await loadAuditHistory(git.root, new SchemaRegistry());
  let at: Date | undefined;
  if (inputs.auditAt) {
    const p = parseTimestamp(inputs.auditAt);
    if (!p.ok) throw new ConfigError(`input "at": ${p.reason}`);
    at = p.date;
  }
  const verifyEvidence = inputs.verify ? await loadEvidenceVerifier(git.treeAt('HEAD')) : undefined;
  const violations = inputs.verify
    ? verifyHistory(history, {
        now,
        toleranceMs: 3_600_000,
        maxDurationAt: (n, t, r) => history.maxDurationAt(n, t, r),
        ...(verifyEvidence ? { verifyEvidence } : {}),
      })
    : undefined;
  const out = {
    events: auditEvents(history),
    ...(at ? { activeAt: { at, rows: activeAt(history, at) } } : {}),
    ...(violations ? { violations } : {}),
  };
  // The whole log as JSON in a file (written piece by piece); the step output and the job summary
  // only as much as GitHub accepts (1 MB for an output, 1 MiB for a summary).
  const file = join(
    process.env.RUNNER_TEMP || mkdtempSync(join(tmpdir(), 'grantops-')),
    'grantops-audit.json',
  );
  const fd = openSync(file, 'w', 0o600);
  let bytes = 0;
  try {
    for (const chunk of auditChunks(out, 'json')) bytes += writeSync(fd, chunk);
  } finally {
    closeSync(fd);
  }
  core.setOutput('audit-file', file);
  if (bytes <= OUTPUT_LIMIT) core.setOutput('audit', readFileSync(file, 'utf8'));
  else {
    core.setOutput('audit', '');
    runnerLog.warning(
      `the audit log is ${(bytes / 1e6).toFixed(1)} MB, more than a step output holds: it is in the file named by the audit-file output (${file}); upload it as an artifact`,
    );
  }
  await core.summary.addRaw(boundedMarkdown(out, SUMMARY_LIMIT, file), true).write();
  if (violations && violations.length > 0) throw new Error(`${violations.length} compliance finding(s)`);
}

const OUTPUT_LIMIT = 1_000_000;
const SUMMARY_LIMIT = 1_000_000;
