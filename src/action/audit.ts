import * as core from '@actions/core';
import { resolve } from 'node:path';
import { formatAudit } from '../audit/format.js';
import { auditEvents } from '../audit/lifecycle.js';
import { activeAt, verifyHistory } from '../audit/query.js';
import { GitRepo } from '../adapters/git.js';
import { ConfigError } from '../model/errors.js';
import { parseTimestamp } from '../model/time.js';
import { SchemaRegistry } from '../policy/schema-registry.js';
import { loadAuditHistory } from '../usecases/audit.js';
import type { ActionInputs } from './inputs.js';

/** `command: audit`: the audit log as Markdown in the job summary, JSON in the `audit` output. */
export async function runAudit(inputs: ActionInputs, now: Date): Promise<void> {
  const git = await GitRepo.open(resolve(inputs.repoPath));
  await git.fetchNotes('origin').catch(() => undefined);
  const history = await loadAuditHistory(git.root, new SchemaRegistry());
  let at: Date | undefined;
  if (inputs.auditAt) {
    const p = parseTimestamp(inputs.auditAt);
    if (!p.ok) throw new ConfigError(`input "at": ${p.reason}`);
    at = p.date;
  }
  const violations = inputs.verify
    ? verifyHistory(history, {
        now,
        toleranceMs: 3_600_000,
        maxDurationAt: (n, t, r) => history.maxDurationAt(n, t, r),
      })
    : undefined;
  const out = {
    events: auditEvents(history),
    ...(at ? { activeAt: { at, rows: activeAt(history, at) } } : {}),
    ...(violations ? { violations } : {}),
  };
  await core.summary.addRaw(formatAudit(out, 'markdown'), true).write();
  core.setOutput('audit', formatAudit(out, 'json'));
  if (violations && violations.length > 0) throw new Error(`${violations.length} compliance finding(s)`);
}
