// One audit measurement in its own process (peak RSS belongs to it).
// argv: <repo dir> [jobs] [cache] [user] [files]; files: what reap and apply read instead (grantFiles).
// bench/audit.ts bundles this file with esbuild, as the CLI is bundled, and runs it with plain node.
import { auditEvents } from '../src/audit/lifecycle-events.js';
import { activeAt, verifyHistory } from '../src/audit/query.js';
import { SchemaRegistry } from '../src/policy/schema-registry.js';
import { gitGrantHistory, loadAuditHistory } from '../src/adapters/git/audit-log.js';

const dir = process.argv[2] ?? '';
const jobs = process.argv[3] && process.argv[3] !== '0' ? { jobs: Number(process.argv[3]) } : {};
const cache = process.argv[4] === 'cache';
// argv[5]: a user; only their lifecycles are made (what `audit --user` reads).
const select = process.argv[5] ? { select: { user: process.argv[5] } } : {};
if (process.argv[6] === 'files') {
  // The reaper's and apply's read: every lifecycle as a GrantFileHistory (no events, no queries).
  const started = performance.now();
  const files = await gitGrantHistory({ root: dir, isShallow: () => Promise.resolve(false) }, 'HEAD', {
    cache,
  }).grantFiles();
  const ms = performance.now() - started;
  const maxRssMb = process.resourceUsage().maxRSS / 1024;
  // grantFiles does not say how it read; a load that makes nothing, after it, tells whether it was warm.
  const after = await loadAuditHistory(dir, new SchemaRegistry(), 'HEAD', { cache, select: { user: '\0' } });
  process.stdout.write(
    `${JSON.stringify({ ms, loadMs: ms, events: 0, lifecycles: files.length, activeAt: 0, findings: 0, cache: after.cache, maxRssMb })}\n`,
  );
  process.exit(0);
}
const started = performance.now();
const history = await loadAuditHistory(dir, new SchemaRegistry(), 'HEAD', { ...jobs, cache, ...select });
const loaded = performance.now();
const events = auditEvents(history);
const at = activeAt(history, new Date('2026-06-01T00:00:00Z'));
const findings = verifyHistory(history, {
  now: new Date('2027-01-01T00:00:00Z'),
  toleranceMs: 3_600_000,
  maxDurationAt: (p, t, r) => history.maxDurationAt(p, t, r),
});
const ms = performance.now() - started;
process.stdout.write(
  `${JSON.stringify({ ms, loadMs: loaded - started, events: events.length, lifecycles: history.lifecycles.length, activeAt: at.length, findings: findings.length, cache: history.cache, maxRssMb: process.resourceUsage().maxRSS / 1024 })}\n`,
);
