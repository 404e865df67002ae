import type { Command } from 'commander';
import { resolve } from 'node:path';
import { formatTimestamp } from '../../model/time.js';
import { escapeTerminal } from '../../render/escape.js';
import { jsonDocument, paint } from '../output.js';
import { progressLine, withProgress } from '../progress.js';
import type { CliCommand } from '../shared.js';

/** `grantops report`. */
export const reportCommand: CliCommand = (program, { io, wire }) => {
  program
    .command('report')
    .description(
      'static dashboard (who has access now, expiring, overdue, drift, timeline) and ICS calendars of expiries',
    )
    .requiredOption('--out <dir>', 'directory to write the site to (index.html, calendar.ics, calendars/)')
    .option(
      '--observe',
      'also read every target: access no grant explains, and grants whose access is missing (drift)',
    )
    .option(
      '--no-cache',
      'read all of history again, neither using nor trusting the cache in .git/grantops (env GRANTOPS_NO_CACHE=1)',
    )
    .action(async (opts: { out: string; observe?: boolean; cache: boolean }, cmd: Command) => {
      const { w, json } = await wire(cmd);
      const { reportJob } = await import('../../app/report-job.js');
      const out = resolve(io.cwd, opts.out);
      const progress = progressLine(io, json, 'report: commits read');
      const r = await withProgress(
        progress,
        reportJob(w, {
          out,
          ...(opts.observe ? { observe: true } : {}),
          ...(opts.cache ? {} : { cache: false }),
          onProgress: (n) => progress.update(n),
        }),
      );
      if (io.env.GRANTOPS_DEBUG) {
        io.stderr(`debug: history cache: ${JSON.stringify(r.cache)}\n`);
        io.stderr(`debug: report ms: ${JSON.stringify(r.timings)}\n`);
      }
      const m = r.model;
      if (r.shallow)
        io.stderr(
          `${paint(io.color.stderr, 'yellow', 'warning:')} this clone is shallow: the report misses what happened before its oldest commit (git fetch --unshallow)\n`,
        );
      if (m.drift.checked)
        for (const u of m.drift.unreadable)
          io.stderr(
            `${paint(io.color.stderr, 'yellow', 'unreadable:')} ${escapeTerminal(u.target)}: ${escapeTerminal(u.error)}\n`,
          );
      const counts = {
        access: m.access.length,
        expiring: m.expiring.length,
        overdue: m.overdue.length,
        pending: m.pending.length,
        ...(m.drift.checked
          ? { unexplained: m.drift.unexplained.length, notApplied: m.drift.missing.length }
          : {}),
        timeline: m.timeline.length,
        expiries: m.expiries.length,
      };
      if (json) {
        io.stdout(
          jsonDocument({
            now: formatTimestamp(new Date(m.now)),
            out,
            files: r.files,
            counts,
            driftChecked: m.drift.checked,
          }),
        );
      }
      io.stderr(
        `wrote ${escapeTerminal(out)}/index.html and ${r.files.length - 1} calendar(s): ${counts.access} with access now, ${counts.expiring} expiring, ${counts.overdue} overdue, ${counts.pending} pending${m.drift.checked ? `, drift ${m.drift.unexplained.length} unexplained / ${m.drift.missing.length} not applied` : ', drift not checked (--observe)'}\n`,
      );
    });
};
