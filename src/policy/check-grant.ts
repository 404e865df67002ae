import { formatDuration } from '../model/duration.js';
import type { Finding, Severity } from '../model/errors.js';
import type { Grant } from '../model/grant.js';
import { parseTimestamp } from '../model/time.js';
import type { SourceDocument } from '../model/yaml-source.js';
import { ajvErrorsToFindings } from './ajv-findings.js';
import {
  chainStart,
  checkExtensionChain,
  checkExtensionHistory,
  overMaxTotal,
  type RawExtension,
  type RawGrantFields,
} from './extension.js';
import type { ParsedPolicy } from './parse-policy.js';
import type { SchemaRegistry } from './schema-registry.js';

export interface GrantCheckContext {
  registry: SchemaRegistry;
  /** Policies by target name. */
  policies: ReadonlyMap<string, ParsedPolicy>;
  now: Date;
  /** An `expiresAt` already past is an error for new or changed grants, a warning otherwise. */
  expiredSeverity: Severity;
  /** Where the policies were read from, for messages (e.g. `origin/main`). */
  policySource: string;
  /**
   * Grants already on main, by file: when their file landed there (main's first-parent commit that
   * added it, from git) and, for a change judged against a base, the base's `startsAt`. With it, a
   * role's `maxTotal` is checked; the time comes from git, never from the file.
   */
  chains?: ReadonlyMap<string, ChainFacts>;
}

/**
 * What git says of a grant judged against a base: `added` (not on the base: it carries no
 * extensions), or when it landed and, for a change, what the base's version said.
 */
export type ChainFacts =
  | { added: true }
  | {
      added?: false;
      /** Undefined: git cannot tell (a shallow clone); maxTotal is then left to apply. */
      landedAt: Date | undefined;
      base?: { raw: RawGrantFields; startsAt: Date | undefined };
    };

export type GrantResult = { grant?: Grant; findings: Finding[] };

interface RawGrant {
  user: string;
  target: string;
  role: string;
  reason: string;
  ticket?: string;
  startsAt?: string;
  expiresAt: string;
  extensions?: RawExtension[];
  breakGlass?: boolean;
}

/**
 * Checks one parsed grant document: the grant schema, then the rules that need the policies and the
 * clock. A grant with only warnings is returned; one with any error is not.
 */
export function checkGrant(id: string, doc: SourceDocument, ctx: GrantCheckContext): GrantResult {
  const schemaErrors = ctx.registry.grant.validate(doc.value);
  if (schemaErrors.length > 0) return { findings: ajvErrorsToFindings(doc, schemaErrors) };
  const raw = doc.value as RawGrant;
  const findings: Finding[] = [];
  const report = (key: keyof RawGrant, message: string, rule: string, severity: Severity = 'error') =>
    findings.push({ file: doc.file, ...doc.locate([key]), message, rule, severity });

  const expires = parseTimestamp(raw.expiresAt);
  if (!expires.ok) report('expiresAt', `"expiresAt": ${expires.reason}`, 'timestamp');
  const starts = raw.startsAt === undefined ? undefined : parseTimestamp(raw.startsAt);
  if (starts && !starts.ok) report('startsAt', `"startsAt": ${starts.reason}`, 'timestamp');

  const chain = expires.ok && raw.extensions ? checkExtensionChain(raw.extensions, expires.date) : undefined;
  const facts = ctx.chains?.get(doc.file);
  const problems = [...(chain?.problems ?? [])];
  if (facts?.added && raw.extensions)
    problems.push({
      path: ['extensions'],
      message: `a new grant has no extensions: grantops extend adds them to a grant already on the base`,
      rule: 'extension-history',
    });
  else if (facts && !facts.added && facts.base)
    problems.push(...checkExtensionHistory(facts.base.raw, raw, ctx.now).problems);
  for (const p of problems)
    findings.push({
      file: doc.file,
      ...doc.locate(p.path),
      message: p.message,
      rule: p.rule,
      severity: 'error',
    });

  const parsed = ctx.policies.get(raw.target);
  const role = parsed?.policy.roles.get(raw.role);
  if (!parsed) {
    const known = [...ctx.policies.keys()].sort();
    report(
      'target',
      `unknown target "${raw.target}" (policies at ${ctx.policySource} define: ${known.join(', ') || 'none'})`,
      'unknown-target',
    );
  } else if (role && raw.breakGlass && !role.breakGlass) {
    report(
      'breakGlass',
      `role "${raw.role}" on "${raw.target}" does not allow break-glass (its policy at ${ctx.policySource} has no roles.${raw.role}.breakGlass)`,
      'break-glass',
    );
  } else if (!role) {
    report(
      'role',
      `target "${raw.target}" has no role "${raw.role}" (it offers: ${[...parsed.policy.roles.keys()].join(', ')})`,
      'unknown-role',
    );
  }

  if (expires.ok && (!starts || starts.ok)) {
    const expiresAt = expires.date;
    const startsAt = starts?.ok ? starts.date : undefined;
    if (startsAt && startsAt.getTime() >= expiresAt.getTime()) {
      report(
        'expiresAt',
        `"expiresAt" (${raw.expiresAt}) must be after "startsAt" (${raw.startsAt})`,
        'window',
      );
    } else if (expiresAt.getTime() <= ctx.now.getTime()) {
      report(
        'expiresAt',
        ctx.expiredSeverity === 'error'
          ? `"expiresAt" (${raw.expiresAt}) is already in the past`
          : `grant expired at ${raw.expiresAt}; the reaper will revoke it and remove this file`,
        'expired',
        ctx.expiredSeverity,
      );
    } else if (role) {
      const from = Math.max(ctx.now.getTime(), startsAt?.getTime() ?? 0);
      const length = expiresAt.getTime() - from;
      // A break-glass grant is bounded by the break-glass maximum, not the role's.
      const bound = raw.breakGlass && role.breakGlass ? role.breakGlass : role;
      if (length > bound.maxDurationMs) {
        report(
          'expiresAt',
          `grant lasts ${formatDuration(length)}, over the ${bound.maxDuration} ${bound === role ? 'maximum' : 'break-glass maximum'} of role "${raw.role}" on "${raw.target}"`,
          'max-duration',
        );
      }
      if (facts && !facts.added && !facts.landedAt && role.maxTotalMs !== undefined) {
        report(
          'expiresAt',
          `maxTotal of role "${raw.role}" not checked: this clone's history is shallow, so when the grant landed is unknown (apply checks it with main's full history)`,
          'max-total',
          'warning',
        );
      } else if (facts && !facts.added && facts.landedAt) {
        // A change may not move the chain's start later than the base had it: min of the two.
        const before = facts.base ? facts.base.startsAt : startsAt;
        const starts =
          startsAt && before ? new Date(Math.min(startsAt.getTime(), before.getTime())) : undefined;
        const over = overMaxTotal(expiresAt, chainStart(starts, facts.landedAt, ctx.now), role, raw.target);
        if (over) report('expiresAt', over, 'max-total');
      }
    }
  }

  if (parsed?.extraSchema) {
    const extra = parsed.extraSchema.validate(doc.value);
    findings.push(
      ...ajvErrorsToFindings(doc, extra, { prefix: `policy of "${raw.target}": `, rule: 'grant-schema' }),
    );
  }

  if (findings.some((f) => f.severity === 'error') || !expires.ok) return { findings };
  const grant: Grant = {
    id,
    file: doc.file,
    user: raw.user,
    target: raw.target,
    role: raw.role,
    reason: raw.reason,
    expiresAt: expires.date,
    ...(raw.ticket !== undefined ? { ticket: raw.ticket } : {}),
    ...(starts?.ok ? { startsAt: starts.date } : {}),
    ...(chain ? { extensions: chain.extensions } : {}),
    ...(raw.breakGlass === true ? { breakGlass: true as const } : {}),
  };
  return { grant, findings };
}
