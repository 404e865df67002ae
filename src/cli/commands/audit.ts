import { type Command, Option } from 'commander';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ConfigError } from '../../model/errors.js';
import { parseTimestamp } from '../../model/time.js';
import { clipCell, paint } from '../output.js';
import { wholeNumber, duration } from '../flags.js';
import { progressLine, withProgress } from '../progress.js';
import type { CliCommand } from '../shared.js';

/** `grantops audit`. */
export const auditCommand: CliCommand = (program, { io, setExit, wire }) => {
  program
    .command('audit')
    .description('lifecycle of every grant from git history: who had what, when, why, approved by whom')
    .option('--at <rfc3339>', 'who had access at this instant, and under which grant')
    .option('--user <login>', 'only this user')
    .option('--target <name>', 'only this target')
    .option('--role <role>', 'only this role')
    .option('--since <rfc3339>', 'events at or after')
    .option('--until <rfc3339>', 'events at or before')
    .addOption(
      new Option('--format <format>', 'output format')
        .choices(['table', 'json', 'csv', 'markdown'])
        .default('table'),
    )
    .option(
      '--verify',
      'compliance check: unapproved grants, access past expiry, grants over maxDuration (exit 1 if any)',
    )
    .addOption(
      new Option('--tolerance <duration>', 'with --verify: how long access may outlive expiresAt')
        .argParser(duration)
        .default(3_600_000, '1h'),
    )
    .option(
      '--evidence-key <file>',
      'with --verify: the public key approval evidence is signed with (default: .grantops/evidence-key.pub at the ref)',
    )
    .option('--ref <ref>', 'history to read (default HEAD)', 'HEAD')
    .option(
      '--no-cache',
      'read all of history again, neither using nor trusting the cache in .git/grantops (env GRANTOPS_NO_CACHE=1)',
    )
    .addOption(
      new Option(
        '--jobs <n>',
        "git log processes sharing main's line (default: one per core, up to 4; 1: one git log)",
      ).argParser(wholeNumber(1, 8)),
    )
    .action(
      async (
        opts: {
          at?: string;
          user?: string;
          target?: string;
          role?: string;
          since?: string;
          until?: string;
          format: string;
          verify?: boolean;
          tolerance: number;
          evidenceKey?: string;
          ref: string;
          jobs?: number;
          cache: boolean;
        },
        cmd: Command,
      ) => {
        const { w, json } = await wire(cmd);
        if (json && opts.format !== 'table' && opts.format !== 'json')
          throw new ConfigError(`--json prints JSON; it cannot be combined with --format ${opts.format}`);
        for (const flag of ['tolerance', 'evidenceKey'] as const) {
          if (!opts.verify && cmd.getOptionValueSource(flag) === 'cli')
            throw new ConfigError(
              `--${flag === 'evidenceKey' ? 'evidence-key' : flag} only applies with --verify`,
            );
        }
        const time = (flag: string, v?: string) => {
          if (v === undefined) return undefined;
          const p = parseTimestamp(v);
          if (!p.ok) throw new ConfigError(`--${flag}: ${p.reason}`);
          return p.date;
        };
        const at = time('at', opts.at);
        const since = time('since', opts.since);
        const until = time('until', opts.until);
        const [{ auditJob }, { auditChunks }] = await Promise.all([
          import('../../app/audit-job.js'),
          import('../../audit/format.js'),
        ]);
        const format = json ? 'json' : (opts.format as 'table' | 'json' | 'csv' | 'markdown');
        const progress = progressLine(io, json, 'audit: commits read');
        const {
          output,
          shallow,
          cache: cacheReport,
        } = await withProgress(
          progress,
          auditJob(w, {
            onProgress: (n) => progress.update(n),
            ref: opts.ref,
            filter: {
              ...(opts.user ? { user: opts.user } : {}),
              ...(opts.target ? { target: opts.target } : {}),
              ...(opts.role ? { role: opts.role } : {}),
              ...(since ? { since } : {}),
              ...(until ? { until } : {}),
            },
            ...(at ? { at } : {}),
            ...(opts.verify
              ? {
                  verify: {
                    toleranceMs: opts.tolerance,
                    ...(opts.evidenceKey === undefined
                      ? {}
                      : { evidenceKey: await readFile(resolve(io.cwd, opts.evidenceKey), 'utf8') }),
                  },
                }
              : {}),
            ...(opts.jobs === undefined ? {} : { read: { jobs: opts.jobs } }),
            ...(opts.cache ? {} : { cache: false }),
          }),
        );
        if (io.env.GRANTOPS_DEBUG) io.stderr(`debug: history cache: ${JSON.stringify(cacheReport)}\n`);
        if (shallow) {
          io.stderr(
            `${paint(io.color.stderr, 'yellow', 'warning:')} this clone is shallow: what happened before its oldest commit is not in the audit, and grants present there look requested by it (git fetch --unshallow)\n`,
          );
        }
        const violations = output.violations;
        // Written piece by piece, each after stdout took the last: a long history never becomes one
        // string nor piles up in a pipe's buffer, and nothing more is made once the reader has gone.
        let pending: string[] = [];
        let size = 0;
        let reading = true;
        for (const chunk of auditChunks(output, format, (text) => clipCell(text, 60))) {
          pending.push(chunk);
          size += chunk.length;
          if (size >= 1 << 16) {
            io.stdout(pending.join(''));
            pending = [];
            size = 0;
            if (io.stdoutReady && !(await io.stdoutReady())) {
              reading = false;
              break;
            }
          }
        }
        if (reading && pending.length) io.stdout(pending.join(''));
        if (violations) {
          io.stderr(
            violations.length
              ? `${paint(io.color.stderr, 'red', '✗')} ${violations.length} compliance finding(s)\n`
              : `${paint(io.color.stderr, 'green', '✓')} no compliance findings\n`,
          );
        }
        setExit(violations && violations.length > 0 ? 1 : 0);
      },
    );
};
