import { type Command, Option } from 'commander';
import { GitRepo } from '../../adapters/git/repo.js';
import { WorkTree } from '../../adapters/work-tree.js';
import { formatDuration } from '../../model/duration.js';
import { formatFinding } from '../../model/errors.js';
import { formatTimestamp } from '../../model/time.js';
import { SchemaRegistry } from '../../policy/schema-registry.js';
import { reportStatus } from '../../usecases/status.js';
import { escapeTerminal } from '../../render/escape.js';
import { jsonDocument, paint, table } from '../output.js';
import { githubFromEnv, evidenceVerifierOf } from '../shared.js';
import { duration } from '../flags.js';
import type { CliCommand } from '../shared.js';

/** `grantops status`. */
export const statusCommand: CliCommand = (program, { io, context }) => {
  program
    .command('status')
    .description('each grant: active, pending, expiring (within the alert window) or expired')
    .addOption(
      new Option(
        '--expiring-within <duration>',
        'window for "expiring" (default: the policy\'s first alert, 24h, at most a quarter of the role\'s maxDuration)',
      ).argParser(duration),
    )
    .option(
      '--observe',
      'also read the targets: show expired grants whose access still exists, and for how long',
    )
    .action(async (opts: { expiringWithin?: number; observe?: boolean }, cmd: Command) => {
      const ctx = context(cmd);
      const window = opts.expiringWithin;
      const report = await reportStatus(
        { now: ctx.now, ...(window !== undefined ? { expiringWithinMs: window } : {}) },
        { work: new WorkTree(ctx.repo), registry: new SchemaRegistry() },
      );
      for (const f of report.problems)
        io.stderr(`${paint(io, 'yellow', escapeTerminal(formatFinding(f)))} (not listed)\n`);
      // Exposure: access that outlives its grant, found by planning the reaper's revocations.
      const outlives = new Map<string, number>();
      const notApplied = new Set<string>();
      if (opts.observe) {
        const [{ ApprovalFinder }, { createTarget }, { applyGrants }] = await Promise.all([
          import('../../usecases/find-approvals.js'),
          import('../../targets/registry.js'),
          import('../../usecases/apply.js'),
        ]);
        const git = await GitRepo.open(ctx.repo);
        const github = await githubFromEnv(io.env, 16);
        // A dry-run apply with recorded evidence: what the targets lack and hold against the grants.
        const planned = await applyGrants(
          { now: ctx.now, dryRun: true, concurrency: 16 },
          {
            work: new WorkTree(git.root),
            registry: new SchemaRegistry(),
            approvals: new ApprovalFinder(git, undefined, ctx.clock, new SchemaRegistry(), {
              trustNotes: true,
              ...(await evidenceVerifierOf(git.root)),
            }),
            createTarget: (policy) =>
              createTarget(policy, {
                repoRoot: git.root,
                env: io.env,
                ...(github.admin ? { octokit: github.admin } : {}),
              }),
          },
        );
        for (const u of planned.plan.unobserved)
          io.stderr(
            `${paint(io, 'yellow', 'unreadable:')} ${escapeTerminal(u.target)}: ${escapeTerminal(u.error)}\n`,
          );
        const byId = new Map(report.rows.map((r) => [r.grant.id, r.grant]));
        for (const a of planned.plan.actions) {
          for (const id of a.grantIds) {
            const g = byId.get(id);
            if (!g) continue;
            if (a.kind === 'revoke' && a.present && a.reason !== 'enforce')
              outlives.set(id, ctx.now.getTime() - g.expiresAt.getTime());
            // Approved and started, yet the target lacks it: the apply that should have run did not.
            if (a.kind === 'grant' && a.reason !== 'update-expiry') notApplied.add(id);
          }
        }
        for (const id of [...notApplied].sort())
          io.stderr(
            `${paint(io, 'red', 'not applied:')} ${escapeTerminal(id)}: approved and started, but its target does not hold the access (an apply run was skipped or failed)\n`,
          );
      }
      if (ctx.json) {
        io.stdout(
          jsonDocument({
            now: formatTimestamp(report.now),
            grants: report.rows.map((r) => ({
              id: r.grant.id,
              user: r.grant.user,
              target: r.grant.target,
              role: r.grant.role,
              ...(r.grant.startsAt ? { startsAt: formatTimestamp(r.grant.startsAt) } : {}),
              expiresAt: formatTimestamp(r.grant.expiresAt),
              state: r.state,
              ...(outlives.has(r.grant.id)
                ? {
                    accessOutlives: true,
                    overdueSeconds: Math.round((outlives.get(r.grant.id) ?? 0) / 1000),
                  }
                : {}),
              ...(notApplied.has(r.grant.id) ? { notApplied: true } : {}),
            })),
          }),
        );
        return;
      }
      const colour = { active: 'green', pending: 'dim', expiring: 'yellow', expired: 'red' } as const;
      const body = table(
        ['GRANT', 'USER', 'TARGET', 'ROLE', 'STATE', 'EXPIRES', 'REMAINING'],
        report.rows.map((r) => [
          r.grant.id,
          r.grant.user,
          r.grant.target,
          r.grant.role,
          r.state,
          formatTimestamp(r.grant.expiresAt),
          r.remainingMs > 0
            ? `${formatDuration(r.remainingMs)}${notApplied.has(r.grant.id) ? ', NOT APPLIED' : ''}`
            : `${formatDuration(-r.remainingMs)} ago${outlives.has(r.grant.id) ? ', ACCESS STILL PRESENT' : ''}`,
        ]),
        48,
        (text, row, column) => {
          if (row < 0) return paint(io, 'bold', text);
          const r = report.rows[row]!;
          return column === 4 ? paint(io, colour[r.state], text) : text;
        },
      );
      io.stdout(`${report.rows.length ? body : 'no grants'}\n`);
      io.stderr(`${report.rows.length} grant(s) at ${formatTimestamp(report.now)}\n`);
    });
};
