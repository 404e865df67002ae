import { type Command, Option } from 'commander';
import { formatDuration } from '../../model/duration.js';
import { formatFinding } from '../../model/errors.js';
import { formatTimestamp } from '../../model/time.js';
import { escapeTerminal } from '../../render/escape.js';
import { jsonDocument, paint, table } from '../output.js';
import { duration } from '../flags.js';
import type { CliCommand } from '../shared.js';

/** `grantops status`. */
export const statusCommand: CliCommand = (program, { io, wire }) => {
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
      const { w, json } = await wire(cmd);
      const { statusJob } = await import('../../app/status-job.js');
      const { report, outlives, notApplied, unreadable } = await statusJob(w, {
        ...(opts.expiringWithin !== undefined ? { expiringWithinMs: opts.expiringWithin } : {}),
        ...(opts.observe ? { observe: true } : {}),
      });
      for (const f of report.problems)
        io.stderr(`${paint(io.color.stderr, 'yellow', escapeTerminal(formatFinding(f)))} (not listed)\n`);
      for (const u of unreadable)
        io.stderr(
          `${paint(io.color.stderr, 'yellow', 'unreadable:')} ${escapeTerminal(u.target)}: ${escapeTerminal(u.error)}\n`,
        );
      for (const id of [...notApplied].sort())
        io.stderr(
          `${paint(io.color.stderr, 'red', 'not applied:')} ${escapeTerminal(id)}: approved and started, but its target does not hold the access (an apply run was skipped or failed)\n`,
        );
      if (json) {
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
          if (row < 0) return paint(io.color.stdout, 'bold', text);
          const r = report.rows[row]!;
          return column === 4 ? paint(io.color.stdout, colour[r.state], text) : text;
        },
      );
      io.stdout(`${report.rows.length ? body : 'no grants'}\n`);
      io.stderr(`${report.rows.length} grant(s) at ${formatTimestamp(report.now)}\n`);
    });
};
