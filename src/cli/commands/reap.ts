import { breakGlassLines } from '../../render/break-glass-view.js';
import { type Command, Option } from 'commander';
import { formatDuration } from '../../model/duration.js';
import { formatTimestamp } from '../../model/time.js';
import type { ReapReport, ShardMergeReport } from '../../reaper/reap-expired.js';
import { resolve } from 'node:path';
import { escapeTerminal } from '../../render/escape.js';
import { jsonDocument, paint, table, type CliIo } from '../output.js';
import { concurrencyOption } from '../flags.js';
import { progressLine, withProgress } from '../progress.js';
import type { CliCommand } from '../shared.js';

/** `grantops reap`. */
export const reapCommand: CliCommand = (program, { io, setExit, wire }) => {
  program
    .command('reap')
    .description(
      'revoke expired grants, then remove their files in one cleanup commit (1 if any revoke failed)',
    )
    .option('--dry-run', 'print what would be revoked and removed; change nothing')
    .addOption(
      new Option('--push', 'push the cleanup commit to origin (fetch and redo when main moved)').conflicts(
        'dryRun',
      ),
    )
    .option('--branch <name>', "the branch the cleanup belongs on (default: origin's default branch)")
    .option('--target <name...>', 'only these targets (a shard of a sharded reap)')
    .addOption(
      new Option(
        '--shard-out <file>',
        'a shard: revoke only, commit nothing, write what was revoked to <file> for --merge-shards',
      ).conflicts(['push', 'mergeShards']),
    )
    .addOption(
      new Option(
        '--merge-shards <file...>',
        "the sharded reap's last job: revoke nothing, remove the files the shards revoked in one cleanup commit",
      ).conflicts(['dryRun', 'target']),
    )
    .addOption(concurrencyOption())
    .action(
      async (
        opts: {
          dryRun?: boolean;
          push?: boolean;
          branch?: string;
          concurrency: number;
          target?: string[];
          shardOut?: string;
          mergeShards?: string[];
        },
        cmd: Command,
      ) => {
        const { w, json } = await wire(cmd, { concurrency: opts.concurrency });
        if (opts.mergeShards) {
          const { mergeShardsJob } = await import('../../app/reap-shards.js');
          const merged = await mergeShardsJob(w, {
            files: opts.mergeShards.map((f) => resolve(io.cwd, f)),
            push: opts.push === true,
            ...(opts.branch ? { branch: opts.branch } : {}),
          });
          printReap(io, merged, false, json);
          setExit(merged.failed.length > 0 || merged.problems.length > 0 ? 1 : 0);
          return;
        }
        const { reapJob } = await import('../../app/reap-job.js');
        const progress = progressLine(io, json, 'reap: revoke calls');
        const { report, alerts, breakGlass } = await withProgress(
          progress,
          reapJob(w, {
            dryRun: opts.dryRun === true,
            onProgress: (done, total) => progress.update(done, total),
            push: opts.push ? 'required' : 'no',
            ...(opts.branch ? { branch: opts.branch } : {}),
            ...(opts.target ? { only: opts.target } : {}),
            ...(opts.shardOut !== undefined ? { shardOut: resolve(io.cwd, opts.shardOut) } : {}),
          }),
        );
        if (opts.shardOut !== undefined && !opts.dryRun)
          io.stderr(
            `shard: ${report.revoked.length} revoked grant(s) written to ${escapeTerminal(opts.shardOut)}; the --merge-shards job removes their files\n`,
          );
        for (const e of alerts?.errors ?? [])
          io.stderr(`${paint(io.color.stderr, 'yellow', 'alert not sent:')} ${escapeTerminal(e)}\n`);
        if (alerts?.warningsPosted) io.stderr(`posted ${alerts.warningsPosted} expiry warning(s)\n`);
        const glass = breakGlassLines(breakGlass);
        for (const w of glass.warnings)
          io.stderr(`${paint(io.color.stderr, 'yellow', 'warning:')} ${escapeTerminal(w)}\n`);
        for (const line of glass.info) io.stderr(`${line}\n`);
        printReap(io, report, opts.dryRun === true, json);
        setExit(report.failed.length > 0 || report.problems.length > 0 ? 1 : 0);
      },
    );
};

function printReap(
  io: CliIo,
  report: ShardMergeReport & { apply?: ReapReport['apply'] },
  dryRun: boolean,
  json: boolean,
): void {
  for (const f of report.failed) {
    io.stderr(
      `${paint(io.color.stderr, 'red', 'not revoked:')} ${escapeTerminal(f.grant.id)}: ${escapeTerminal(f.reason)} (file kept)\n`,
    );
  }
  for (const p of report.problems)
    io.stderr(`${paint(io.color.stderr, 'red', 'problem:')} ${escapeTerminal(p)}\n`);
  for (const id of report.changedElsewhere)
    io.stderr(
      `${paint(io.color.stderr, 'yellow', 'changed on main meanwhile:')} ${escapeTerminal(id)} (revoked here; its file stays for the next run)\n`,
    );
  if (json) {
    io.stdout(
      jsonDocument({
        ok: report.failed.length === 0 && report.problems.length === 0,
        dryRun,
        revoked: report.revoked.map((r) => ({
          grant: r.grant.id,
          user: r.grant.user,
          target: r.grant.target,
          role: r.grant.role,
          expiresAt: formatTimestamp(r.grant.expiresAt),
          lagSeconds: Math.round(r.lagMs / 1000),
        })),
        failed: report.failed.map((f) => ({ grant: f.grant.id, reason: f.reason })),
        problems: report.problems,
        ...(report.commit ? { commit: report.commit } : {}),
        pushed: report.pushed,
        ...(report.pullRequest ? { pullRequest: report.pullRequest.number } : {}),
        removedElsewhere: report.removedElsewhere,
        changedElsewhere: report.changedElsewhere,
        ...(report.apply ? { concurrency: report.apply.concurrency } : {}),
      }),
    );
    return;
  }
  io.stdout(
    report.revoked.length === 0
      ? 'no expired grants to remove\n'
      : `${table(
          ['GRANT', 'USER', 'TARGET', 'ROLE', 'EXPIRED', 'LAG'],
          report.revoked.map((r) => [
            r.grant.id,
            r.grant.user,
            r.grant.target,
            r.grant.role,
            formatTimestamp(r.grant.expiresAt),
            formatDuration(r.lagMs),
          ]),
        )}\n`,
  );
  const where = report.pullRequest
    ? `; main is protected: cleanup pull request #${report.pullRequest.number} ${report.pullRequest.created ? 'opened' : 'updated'}`
    : report.pushed
      ? ', pushed'
      : '';
  io.stderr(
    dryRun
      ? `dry run: ${report.revoked.length} grant(s) would be revoked and removed\n`
      : report.commit
        ? `cleanup commit ${report.commit.slice(0, 7)} removes ${report.revoked.length - report.removedElsewhere.length - report.changedElsewhere.length} file(s)${where}\n`
        : report.removedElsewhere.length
          ? `another run already removed ${report.removedElsewhere.length} of these; nothing left to commit\n`
          : '',
  );
}
