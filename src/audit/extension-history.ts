import { formatTimestamp } from '../model/time.js';
import { extensionHistoryBreaks, type FileChange } from '../policy/max-total-chain.js';
import type { AuditHistory } from './lifecycle-model.js';
import { matches, type AuditFilter, type Violation } from './query.js';

/**
 * The grant files whose history the extension rules concern: every file of a grant that had an
 * `extensions` list in some version (dropping the list later is one of the breaks to find).
 */
export function extendedFiles(history: AuditHistory): string[] {
  const files = new Set<string>();
  for (const life of history.lifecycles)
    if (life.versions.some((v) => v.extension !== undefined))
      for (const v of life.versions) files.add(v.file);
  return [...files].sort();
}

/**
 * Every version of a grant that broke the extension history rules against the version before it
 * (`checkExtensionHistory`, as `validate --base` and apply judge a change): earlier extensions
 * dropped or rewritten, an extension not starting at the expiresAt before it, a field other than
 * `expiresAt` changed with an extension, an extension of an expired grant. `changes`: each file's
 * changes on main's first-parent line, newest first, read whole (no grant id is trusted from them).
 */
export function auditExtensionHistory(
  history: AuditHistory,
  changes: ReadonlyMap<string, readonly FileChange[]>,
  f: AuditFilter = {},
): Violation[] {
  const broken = new Map<string, string[]>();
  for (const [file, list] of changes)
    for (const b of extensionHistoryBreaks(list))
      if (b.change.commit)
        broken.set(
          `${file}\u0000${b.change.commit}`,
          b.problems.map((p) => p.message),
        );
  const out: Violation[] = [];
  if (broken.size === 0) return out;
  for (const life of history.lifecycles) {
    for (const v of life.versions) {
      const t = v.landed.time;
      if (!matches(v, f) || (f.since && t < f.since.getTime()) || (f.until && t > f.until.getTime()))
        continue;
      for (const message of broken.get(`${v.file}\u0000${v.landed.commit}`) ?? [])
        out.push({
          kind: 'extension-history',
          grant: v.id,
          user: v.user,
          target: v.target,
          role: v.role,
          commit: v.landed.commit,
          message: `the change that landed at ${formatTimestamp(new Date(t))} broke the extension rules against the version before it: ${message}`,
        });
    }
  }
  return out;
}
