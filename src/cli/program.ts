import { Command, CommanderError, Option } from 'commander';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { GitRepo } from '../adapters/git/repo.js';
import { WorkTree } from '../adapters/work-tree.js';
import { parseDuration, formatDuration } from '../model/duration.js';
import { ConfigError, errorMessage, formatFinding, GrantopsError, type Finding } from '../model/errors.js';
import { formatTimestamp, parseTimestamp } from '../model/time.js';
import { fixedClock, systemClock } from '../ports/clock.js';
import {
  evidencePublicKeyFromEnv,
  evidenceSignerFromEnv,
  loadEvidenceVerifier,
} from '../policy/evidence-signature.js';
import { SchemaRegistry } from '../policy/schema-registry.js';
import { planRowView } from '../render/plan-view.js';
import type { ReapReport } from '../reaper/reap.js';
import type { ApplyReport } from '../usecases/apply.js';
import { reportStatus } from '../usecases/status.js';
import { requestGrant, type RequestOptions } from '../usecases/request.js';
import { validateAccessRepo } from '../usecases/validate.js';
import { escapeJsonText, escapeTerminal } from '../render/escape.js';
import { clipCell, jsonDocument, paint, table, type CliIo } from './output.js';

interface GlobalOptions {
  repo?: string;
  now?: string;
  json?: boolean;
}

/** Runs the CLI with `argv` (without node and script) and returns the exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let code = 0;
  const program = buildProgram(io, (c) => {
    code = c;
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander reports help and version as "errors" with exit code 0.
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof GrantopsError) {
      const findings = (err as GrantopsError & { findings?: readonly Finding[] }).findings ?? [];
      const json = argv.includes('--json');
      if (json) {
        io.stdout(jsonDocument({ ok: false, error: err.message, errors: findings.map(jsonFinding) }));
      }
      for (const f of findings) io.stderr(`${escapeTerminal(formatFinding(f))}\n`);
      io.stderr(`${paint(io, 'red', 'grantops:')} ${escapeTerminal(err.message)}\n`);
      return err.exitCode;
    }
    io.stderr(`grantops: internal error: ${escapeTerminal(errorMessage(err))}\n`);
    if (err instanceof Error && err.stack && io.env.GRANTOPS_DEBUG)
      io.stderr(`${escapeTerminal(err.stack, { keepLineFeedAndTab: true })}\n`);
    return 1;
  }
}

function buildProgram(io: CliIo, setExit: (code: number) => void): Command {
  const program = new Command('grantops')
    .description(
      'Access-as-code for temporary production access: grants are pull requests, expiry is enforced.',
    )
    .option('--repo <dir>', 'access repository (default: current directory)')
    .option('--now <rfc3339>', 'evaluate at this instant instead of the clock (env GRANTOPS_NOW)')
    .option('--json', 'print exactly one JSON document on stdout; human text goes to stderr')
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout(s), writeErr: (s) => io.stderr(s) });

  const context = (cmd: Command) => {
    const g = cmd.optsWithGlobals<GlobalOptions>();
    const repo = g.repo ? resolve(io.cwd, g.repo) : io.cwd;
    const nowText = g.now ?? io.env.GRANTOPS_NOW;
    let clock = systemClock;
    if (nowText !== undefined && nowText !== '') {
      const p = parseTimestamp(nowText);
      if (!p.ok) throw new ConfigError(`--now: ${p.reason}`);
      clock = fixedClock(p.date);
    }
    // One instant per command: every decision of a run is made at the same T.
    const now = clock.now();
    return { repo, now, clock: fixedClock(now), json: g.json === true };
  };

  program
    .command('validate')
    .description('validate grants and policies (0 valid, 1 violations, 2 invalid policy or usage)')
    .option('--base <ref>', 'judge the grants changed since <ref> by the policies at <ref>')
    .action(async (opts: { base?: string }, cmd: Command) => {
      const ctx = context(cmd);
      const git = opts.base !== undefined ? await GitRepo.open(ctx.repo) : undefined;
      const report = await validateAccessRepo(
        { now: ctx.now, ...(opts.base !== undefined ? { base: opts.base } : {}) },
        {
          work: new WorkTree(git?.root ?? ctx.repo),
          registry: new SchemaRegistry(),
          ...(git ? { history: git } : {}),
        },
      );
      const errors = report.findings.filter((f) => f.severity === 'error');
      const warnings = report.findings.filter((f) => f.severity === 'warning');
      for (const f of report.findings) {
        const line = escapeTerminal(formatFinding(f));
        io.stderr(`${f.severity === 'error' ? paint(io, 'red', line) : paint(io, 'yellow', line)}\n`);
      }
      if (ctx.json) {
        io.stdout(
          jsonDocument({
            ok: report.ok,
            grants: report.grantsChecked,
            errors: errors.map(jsonFinding),
            warnings: warnings.map(jsonFinding),
            policySource: report.policySource,
            ...(report.base ? { base: report.base } : {}),
            ruleChanges: report.ruleChanges,
            codeChanges: report.codeChanges,
            plan: report.plan.map((r) => ({ id: r.id, file: r.file, ...planRowView(r) })),
            removed: report.removed,
          }),
        );
      } else {
        const code = new Map(report.codeChanges.map((c) => [c.path, c]));
        for (const c of report.ruleChanges) {
          const run = code.get(c.path);
          io.stderr(
            run
              ? `${paint(io, 'yellow', 'note:')} this change touches ${escapeTerminal(c.path)} (${c.status}), code an exec target runs${run.targets.length ? ` (${escapeTerminal(run.targets.join(', '))})` : ''} with its credentials once merged; reviewers must read it\n`
              : `${paint(io, 'yellow', 'note:')} this change touches ${escapeTerminal(c.path)} (${c.status}); it is judged by the rules at ${escapeTerminal(report.policySource)}\n`,
          );
        }
        if (report.plan.length > 0 && report.base) {
          io.stdout(
            `${table(
              ['CHANGE', 'USER', 'TARGET', 'ROLE', 'FROM', 'UNTIL', 'DURATION', 'APPROVALS'],
              report.plan.map((r) => {
                const v = planRowView(r);
                return [v.change, v.user, v.target, v.role, v.from, v.until, v.duration, v.approvalsText];
              }),
            )}\n`,
          );
        }
        const summary = `${report.grantsChecked} grant file(s) checked against ${report.policies.size} polic${report.policies.size === 1 ? 'y' : 'ies'} at ${escapeTerminal(report.policySource)}`;
        io.stderr(
          report.ok
            ? `${paint(io, 'green', '✓')} ${summary}${warnings.length ? `, ${warnings.length} warning(s)` : ''}\n`
            : `${paint(io, 'red', '✗')} ${errors.length} error(s), ${warnings.length} warning(s); ${summary}\n`,
        );
      }
      setExit(report.policyInvalid ? 2 : report.ok ? 0 : 1);
    });

  program
    .command('status')
    .description('each grant: active, pending, expiring (within the alert window) or expired')
    .option('--expiring-within <duration>', 'window for "expiring" (default: the policy\'s first alert, 24h)')
    .option(
      '--observe',
      'also read the targets: show expired grants whose access still exists, and for how long',
    )
    .action(async (opts: { expiringWithin?: string; observe?: boolean }, cmd: Command) => {
      const ctx = context(cmd);
      let window: number | undefined;
      if (opts.expiringWithin !== undefined) {
        const d = parseDuration(opts.expiringWithin);
        if (!d.ok) throw new ConfigError(`--expiring-within: ${d.reason}`);
        window = d.ms;
      }
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
          import('../usecases/find-approvals.js'),
          import('../targets/registry.js'),
          import('../usecases/apply.js'),
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
      );
      const lines = body.split('\n');
      const painted = lines.map((l, i) => {
        const row = report.rows[i - 1];
        return row
          ? l.replace(` ${row.state} `, ` ${paint(io, colour[row.state], row.state)} `)
          : paint(io, 'bold', l);
      });
      io.stdout(`${report.rows.length ? painted.join('\n') : 'no grants'}\n`);
      io.stderr(`${report.rows.length} grant(s) at ${formatTimestamp(report.now)}\n`);
    });

  program
    .command('request')
    .description('write a grant file the policies accept, and print its path (1 if the policy forbids it)')
    .requiredOption('--user <login>', 'GitHub login receiving access')
    .requiredOption('--target <name>', 'target named in policies/')
    .requiredOption('--role <role>', "a role the target's policy offers")
    .requiredOption('--for <duration>', 'how long, e.g. 90m, 2h, 1d')
    .requiredOption('--reason <text>', 'why access is needed')
    .option('--ticket <id>', 'incident or change ticket')
    .addOption(new Option('--starts-at <rfc3339>', 'not active before this instant'))
    .action(async (opts: Omit<RequestOptions, 'now'>, cmd: Command) => {
      const ctx = context(cmd);
      const work = new WorkTree(ctx.repo);
      const result = await requestGrant(
        { ...opts, now: ctx.now },
        { work, registry: new SchemaRegistry(), createFile: (path, text) => work.createFile(path, text) },
      );
      if (ctx.json) {
        io.stdout(
          `${escapeJsonText(JSON.stringify({ path: result.path, id: result.grant.id, expiresAt: formatTimestamp(result.grant.expiresAt) }))}\n`,
        );
      } else {
        io.stdout(`${escapeTerminal(result.path)}\n`);
        io.stderr(
          `wrote ${escapeTerminal(result.path)}: ${escapeTerminal(`${result.grant.user} → ${result.grant.target}/${result.grant.role}`)} until ${formatTimestamp(result.grant.expiresAt)}; commit it and open a pull request\n`,
        );
      }
    });

  program
    .command('apply')
    .description(
      'reconcile targets to the unexpired, approved grants (1 if any action failed or a grant was refused)',
    )
    .option('--dry-run', 'plan only: print what would be granted and revoked')
    .option('--target <name...>', 'only these targets')
    .option('--concurrency <n>', 'calls in flight at once on each target', '16')
    .option('--override-guard', 'let enforce revoke more than enforceMaxFraction of a scope in this run')
    .option('--push-notes', 'push recorded approval evidence (refs/notes/grantops) to origin')
    .action(
      async (
        opts: {
          dryRun?: boolean;
          target?: string[];
          concurrency: string;
          overrideGuard?: boolean;
          pushNotes?: boolean;
        },
        cmd: Command,
      ) => {
        const ctx = context(cmd);
        const concurrency = Number(opts.concurrency);
        if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) {
          throw new ConfigError('--concurrency must be a whole number from 1 to 64');
        }
        // Loaded on demand: validate and status should not pay for pg and Octokit at startup.
        const [{ ApprovalFinder }, { createTarget }, { applyGrants }, { gitGrantHistory }] =
          await Promise.all([
            import('../usecases/find-approvals.js'),
            import('../targets/registry.js'),
            import('../usecases/apply.js'),
            import('../usecases/audit.js'),
          ]);
        const git = await GitRepo.open(ctx.repo);
        if (opts.pushNotes && (await git.hasRemote('origin'))) await git.fetchNotes('origin');
        const github = await githubFromEnv(io.env, concurrency);
        const finder = new ApprovalFinder(git, github.repo, ctx.clock, new SchemaRegistry(), {
          concurrency,
          ...evidenceSignerFromEnv(io.env),
          ...(await evidenceVerifierOf(git.root)),
        });
        const report = await applyGrants(
          {
            now: ctx.now,
            dryRun: opts.dryRun === true,
            concurrency,
            ...(opts.target ? { only: opts.target } : {}),
            ...(opts.overrideGuard ? { overrideGuard: true } : {}),
          },
          {
            work: new WorkTree(git.root),
            registry: new SchemaRegistry(),
            approvals: finder,
            createTarget: (policy) =>
              createTarget(policy, {
                repoRoot: git.root,
                env: io.env,
                ...(github?.admin ? { octokit: github.admin } : {}),
              }),
            history: gitGrantHistory(git),
          },
        );
        if (!opts.dryRun) {
          const remote = opts.pushNotes && (await git.hasRemote('origin')) ? 'origin' : undefined;
          const n = await finder.recordEvidence(remote);
          if (n > 0)
            io.stderr(
              `recorded approval evidence on ${n} commit(s) in refs/notes/grantops${remote ? ', pushed' : ''}\n`,
            );
        }
        await printApply(io, report, opts.dryRun === true, ctx.json);
        setExit(report.failed ? 1 : 0);
      },
    );

  program
    .command('reap')
    .description(
      'revoke expired grants, then remove their files in one cleanup commit (1 if any revoke failed)',
    )
    .option('--dry-run', 'print what would be revoked and removed; change nothing')
    .option('--push', 'push the cleanup commit to origin (fetch and redo when main moved)')
    .option('--branch <name>', "the branch the cleanup belongs on (default: origin's default branch)")
    .option('--concurrency <n>', 'calls in flight at once on each target', '16')
    .action(
      async (
        opts: { dryRun?: boolean; push?: boolean; branch?: string; concurrency: string },
        cmd: Command,
      ) => {
        const ctx = context(cmd);
        const concurrency = Number(opts.concurrency);
        if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) {
          throw new ConfigError('--concurrency must be a whole number from 1 to 64');
        }
        const [{ reapRepository }, { renderTemplate }, { templateSource }] = await Promise.all([
          import('../usecases/reap.js'),
          import('../render/render.js'),
          import('../render/template-source.js'),
        ]);
        const git = await GitRepo.open(ctx.repo);
        const push = opts.push === true && !opts.dryRun;
        if (push && !(await git.hasRemote('origin')))
          throw new ConfigError('--push needs a remote named origin');
        const github = await githubFromEnv(io.env, concurrency);
        const work = new WorkTree(git.root);
        const report = await reapRepository(
          git,
          {
            now: ctx.now,
            dryRun: opts.dryRun === true,
            push,
            concurrency,
            ...(opts.branch ? { branch: opts.branch } : {}),
          },
          {
            env: io.env,
            ...evidenceKeyOf(io.env),
            ...(github.admin ? { admin: github.admin } : {}),
            ...(github.pulls ? { pulls: github.pulls } : {}),
          },
        );
        if (!opts.dryRun) {
          const [{ alertsAfterReap }, { AlertSender }, { slackWebhook }] = await Promise.all([
            import('../reaper/alerts.js'),
            import('../usecases/send-alerts.js'),
            import('../adapters/webhook.js'),
          ]);
          const { warnings, overdue } = alertsAfterReap(ctx.now, report);
          const sent = await new AlertSender(
            github.repo,
            (name, view) => renderTemplate(name, view, templateSource(work)),
            io.env.GRANTOPS_WEBHOOK_URL ? slackWebhook(io.env.GRANTOPS_WEBHOOK_URL) : undefined,
          ).send(ctx.now, warnings, overdue, report.apply.policies);
          for (const e of sent.errors)
            io.stderr(`${paint(io, 'yellow', 'alert not sent:')} ${escapeTerminal(e)}\n`);
          if (sent.warningsPosted) io.stderr(`posted ${sent.warningsPosted} expiry warning(s)\n`);
        }
        printReap(io, report, opts.dryRun === true, ctx.json);
        setExit(report.failed.length > 0 || report.problems.length > 0 ? 1 : 0);
      },
    );

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
    .option('--tolerance <duration>', 'with --verify: how long access may outlive expiresAt', '1h')
    .option(
      '--evidence-key <file>',
      'with --verify: the public key approval evidence is signed with (default: .grantops/evidence-key.pub at the ref)',
    )
    .option('--ref <ref>', 'history to read (default HEAD)', 'HEAD')
    .option(
      '--jobs <n>',
      "git log processes sharing main's line (default: one per core, up to 4; 1: one git log)",
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
          tolerance: string;
          evidenceKey?: string;
          ref: string;
          jobs?: string;
        },
        cmd: Command,
      ) => {
        const ctx = context(cmd);
        const time = (flag: string, v?: string) => {
          if (v === undefined) return undefined;
          const p = parseTimestamp(v);
          if (!p.ok) throw new ConfigError(`--${flag}: ${p.reason}`);
          return p.date;
        };
        const tolerance = parseDuration(opts.tolerance);
        if (!tolerance.ok) throw new ConfigError(`--tolerance: ${tolerance.reason}`);
        const at = time('at', opts.at);
        const since = time('since', opts.since);
        const until = time('until', opts.until);
        const [
          { loadAuditHistory },
          { filterEvents, activeAt, verifyHistory },
          { auditChunks },
          { auditEvents },
        ] = await Promise.all([
          import('../usecases/audit.js'),
          import('../audit/query.js'),
          import('../audit/format.js'),
          import('../audit/lifecycle.js'),
        ]);
        const git = await GitRepo.open(ctx.repo);
        await git.resolveCommit(opts.ref);
        if (await git.isShallow()) {
          io.stderr(
            `${paint(io, 'yellow', 'warning:')} this clone is shallow: what happened before its oldest commit is not in the audit, and grants present there look requested by it (git fetch --unshallow)\n`,
          );
        }
        const jobs = opts.jobs === undefined ? undefined : Number(opts.jobs);
        if (jobs !== undefined && !(Number.isInteger(jobs) && jobs >= 1 && jobs <= 8))
          throw new ConfigError(`--jobs: "${opts.jobs}" is not a whole number from 1 to 8`);
        const history = await loadAuditHistory(
          git.root,
          new SchemaRegistry(),
          opts.ref,
          jobs === undefined ? {} : { jobs },
        );
        const filter = {
          ...(opts.user ? { user: opts.user } : {}),
          ...(opts.target ? { target: opts.target } : {}),
          ...(opts.role ? { role: opts.role } : {}),
          ...(since ? { since } : {}),
          ...(until ? { until } : {}),
        };
        const { loadEvidenceVerifier } = await import('../policy/evidence-signature.js');
        const verifyEvidence = opts.verify
          ? await loadEvidenceVerifier(
              git.treeAt(opts.ref),
              opts.evidenceKey === undefined
                ? undefined
                : await readFile(resolve(io.cwd, opts.evidenceKey), 'utf8'),
            )
          : undefined;
        const violations = opts.verify
          ? verifyHistory(
              history,
              {
                now: ctx.now,
                toleranceMs: tolerance.ms,
                maxDurationAt: (n, t, r) => history.maxDurationAt(n, t, r),
                ...(verifyEvidence ? { verifyEvidence } : {}),
              },
              filter,
            )
          : undefined;
        const format = ctx.json ? 'json' : (opts.format as 'table' | 'json' | 'csv' | 'markdown');
        // Written piece by piece: a long history never becomes one string.
        let pending: string[] = [];
        let size = 0;
        for (const chunk of auditChunks(
          {
            events: filterEvents(auditEvents(history), filter),
            ...(at ? { activeAt: { at, rows: activeAt(history, at, filter) } } : {}),
            ...(violations ? { violations } : {}),
          },
          format,
          (text) => clipCell(text, 60),
        )) {
          pending.push(chunk);
          size += chunk.length;
          if (size >= 1 << 16) {
            io.stdout(pending.join(''));
            pending = [];
            size = 0;
          }
        }
        if (pending.length) io.stdout(pending.join(''));
        if (violations) {
          io.stderr(
            violations.length
              ? `${paint(io, 'red', '✗')} ${violations.length} compliance finding(s)\n`
              : `${paint(io, 'green', '✓')} no compliance findings\n`,
          );
        }
        setExit(violations && violations.length > 0 ? 1 : 0);
      },
    );

  program
    .command('doctor')
    .description(
      'check what grantops needs on every target: privileges, scripts, tokens (1 if anything is missing)',
    )
    .action(async (_opts: object, cmd: Command) => {
      const ctx = context(cmd);
      const [{ createTarget }, { checkTargets }] = await Promise.all([
        import('../targets/registry.js'),
        import('../usecases/doctor.js'),
      ]);
      const github = await githubFromEnv(io.env, 4);
      const report = await checkTargets({
        work: new WorkTree(ctx.repo),
        registry: new SchemaRegistry(),
        createTarget: (policy) =>
          createTarget(policy, {
            repoRoot: ctx.repo,
            env: io.env,
            ...(github.admin ? { octokit: github.admin } : {}),
          }),
      });
      if (ctx.json) io.stdout(`${JSON.stringify({ ok: report.problems.length === 0, ...report })}\n`);
      else for (const p of report.problems) io.stdout(`${p.target}: ${escapeTerminal(p.problem)}\n`);
      io.stderr(
        report.problems.length
          ? `${paint(io, 'red', '✗')} ${report.problems.length} problem(s) on ${report.targets.length} target(s)\n`
          : `${paint(io, 'green', '✓')} ${report.targets.length} target(s): nothing missing\n`,
      );
      setExit(report.problems.length > 0 ? 1 : 0);
    });

  return program;
}

function printReap(io: CliIo, report: ReapReport, dryRun: boolean, json: boolean): void {
  for (const f of report.failed) {
    io.stderr(
      `${paint(io, 'red', 'not revoked:')} ${escapeTerminal(f.grant.id)}: ${escapeTerminal(f.reason)} (file kept)\n`,
    );
  }
  for (const p of report.problems) io.stderr(`${paint(io, 'red', 'problem:')} ${escapeTerminal(p)}\n`);
  for (const id of report.changedElsewhere)
    io.stderr(
      `${paint(io, 'yellow', 'changed on main meanwhile:')} ${escapeTerminal(id)} (revoked here; its file stays for the next run)\n`,
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

async function printApply(io: CliIo, report: ApplyReport, dryRun: boolean, json: boolean): Promise<void> {
  const { applyJson, applyRows } = await import('../render/apply-view.js');
  for (const f of report.invalid)
    io.stderr(`${paint(io, 'red', escapeTerminal(formatFinding(f)))} (not applied)\n`);
  for (const r of report.refused) {
    io.stderr(
      `${paint(io, 'red', 'refused:')} ${escapeTerminal(r.grant.file)}: ${escapeTerminal(r.reason)}\n`,
    );
  }
  for (const u of report.plan.unobserved)
    io.stderr(
      `${paint(io, 'red', 'unreachable:')} ${escapeTerminal(u.target)}: ${escapeTerminal(u.error)}\n`,
    );
  for (const h of report.plan.held)
    io.stderr(
      `${paint(io, 'yellow', 'held:')} ${escapeTerminal(h.target)}: ${escapeTerminal([h.user, h.entitlement].filter(Boolean).join(' '))} (${escapeTerminal(h.grantIds.join(', '))}) not revoked: ${escapeTerminal(h.reason)}\n`,
    );
  if (report.historyError)
    io.stderr(
      `${paint(io, 'red', 'history:')} access of grants removed from main was not checked: ${escapeTerminal(report.historyError)}\n`,
    );
  for (const d of report.plan.drift) {
    io.stderr(
      `${paint(io, 'yellow', 'drift:')} ${escapeTerminal(d.target)}: ${escapeTerminal(d.user)} holds ${escapeTerminal(d.entitlement)} with no grant${d.heldByGuard ? ' (enforcement held by the guard)' : d.enforced ? ' (revoking: enforce)' : ''}\n`,
    );
  }
  for (const g of report.plan.guards) {
    io.stderr(
      `${paint(io, 'yellow', 'guard:')} ${escapeTerminal(g.target)}: would revoke ${g.wouldRevoke} of ${g.scope} users (max ${g.maxFraction * 100}%); rerun with --override-guard if intended\n`,
    );
  }
  const rows = applyRows(report);
  if (json) {
    io.stdout(jsonDocument(applyJson(report, dryRun)));
    return;
  }
  io.stdout(
    rows.length === 0
      ? `nothing to do: every target${report.plan.unobserved.length ? ' that could be read' : ''} matches the grants\n`
      : `${table(
          ['ACTION', 'TARGET', 'USER', 'ACCESS', 'WHY', 'UNTIL', 'RESULT'],
          rows.map((r) => [
            r.kind,
            r.target,
            r.user,
            r.entitlement,
            r.reason,
            r.expiresAt ?? '',
            r.error ? `failed: ${r.error}` : r.result,
          ]),
          80,
        )}\n`,
  );
  const failed = rows.filter((r) => r.result === 'failed').length;
  io.stderr(
    `${dryRun ? 'dry run: ' : ''}${rows.length} action(s)${dryRun ? ' planned' : `, ${failed} failed`}; ${report.refused.length} grant(s) refused for approval; ${report.plan.drift.length} drift\n`,
  );
}

/** GitHub access from the environment, as the Action and CI set it. */
async function githubFromEnv(env: CliIo['env'], concurrency: number) {
  const [{ createOctokit, MAX_GITHUB_WRITES, OctokitAccessRepo }, { upsertPullRequest }] = await Promise.all([
    import('../adapters/github.js'),
    import('../usecases/github-threads.js'),
  ]);
  const token = env.GITHUB_TOKEN;
  const admin = env.GRANTOPS_ADMIN_TOKEN ?? token;
  const [owner, repo] = (env.GITHUB_REPOSITORY ?? '').split('/');
  const baseUrl = env.GITHUB_API_URL || 'https://api.github.com';
  const access =
    token && owner && repo
      ? new OctokitAccessRepo(createOctokit({ token, baseUrl }), owner, repo)
      : undefined;
  return {
    repo: access,
    ...(access
      ? {
          pulls: {
            upsert: (head: string, base: string, title: string, body: string) =>
              upsertPullRequest(access, head, base, title, body),
          },
        }
      : {}),
    ...(admin
      ? {
          admin: createOctokit({
            token: admin,
            baseUrl,
            writeConcurrency: Math.min(concurrency, MAX_GITHUB_WRITES),
          }),
        }
      : {}),
  };
}

function jsonFinding(f: Finding) {
  return { file: f.file, line: f.line, column: f.column, message: f.message, rule: f.rule };
}

/** The evidence key committed in the access repo, as the finder's `verifyEvidence` option. */
async function evidenceVerifierOf(root: string) {
  const verifyEvidence = await loadEvidenceVerifier(new WorkTree(root));
  return verifyEvidence ? { verifyEvidence } : {};
}

/** The evidence key's public half from the environment, to spread into the reaper's deps. */
function evidenceKeyOf(env: NodeJS.ProcessEnv): { evidenceKey?: string } {
  const key = evidencePublicKeyFromEnv(env);
  return key ? { evidenceKey: key } : {};
}
