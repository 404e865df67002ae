import { posix } from 'node:path';
import { parseDuration } from '../model/duration.js';
import type { Finding } from '../model/errors.js';
import {
  DEFAULT_ALERTS_BEFORE,
  DEFAULT_ENFORCE_MAX_FRACTION,
  DEFAULT_EXEC_TIMEOUT_MS,
  FIXED_ROLES,
  isGrantopsCredential,
  type BreakGlassRule,
  type Policy,
  type Role,
  type TargetConfig,
} from '../model/policy.js';
import type { SourceDocument } from '../model/yaml-source.js';
import { ajvErrorsToFindings } from './ajv-findings.js';
import type { CompiledSchema, SchemaRegistry } from './schema-registry.js';

export interface ParsedPolicy {
  policy: Policy;
  /** The compiled `grantSchema`, when the policy has one. */
  extraSchema?: CompiledSchema;
  /**
   * With `lazyGrantSchema`: the finding an invalid `grantSchema` would have given, once a grant's
   * validation compiled it (undefined before, and when it compiled).
   */
  grantSchemaFinding?: () => Finding | undefined;
}

export interface ParsePolicyOptions {
  /**
   * Compile `grantSchema` when a grant is first validated against it, not now: for policies that
   * judge a few changed grants (`validate --base`). An invalid schema is then reported only once a
   * grant needed it (`grantSchemaFinding`), and the policy itself is accepted.
   */
  lazyGrantSchema?: boolean;
}

export type PolicyResult = { ok: true; value: ParsedPolicy } | { ok: false; findings: Finding[] };

interface RawRole {
  maxDuration: string;
  maxTotal?: string;
  approvals: number;
  approvers?: string[];
  dbRoles?: string[];
  breakGlass?: { maxDuration: string; reviewWithin: string; allowed: string[] };
}
interface RawPolicy {
  target: Record<string, unknown> & { name: string; type: TargetConfig['type'] };
  roles: Record<string, RawRole>;
  grantSchema?: Record<string, unknown>;
  alerts?: { before?: string[] };
}

/** Validates one policy document against the policy schema and the rules JSON Schema cannot say. */
export function parsePolicy(
  doc: SourceDocument,
  registry: SchemaRegistry,
  opts: ParsePolicyOptions = {},
): PolicyResult {
  const schemaErrors = registry.policy.validate(doc.value);
  if (schemaErrors.length > 0) return { ok: false, findings: ajvErrorsToFindings(doc, schemaErrors) };
  const raw = doc.value as RawPolicy;
  const findings: Finding[] = [];
  const fail = (path: (string | number)[], message: string, rule: string, part: 'key' | 'value' = 'value') =>
    findings.push({ file: doc.file, ...doc.locate(path, part), message, rule, severity: 'error' });

  const type = raw.target.type;
  const fixed = FIXED_ROLES[type];
  const roles = new Map<string, Role>();
  for (const [name, r] of Object.entries(raw.roles)) {
    if (fixed && !fixed.includes(name)) {
      fail(
        ['roles', name],
        `a ${type} target offers only the roles ${fixed.join(', ')}; "${name}" is not one`,
        'role-name',
        'key',
      );
    }
    const d = parseDuration(r.maxDuration);
    if (!d.ok) fail(['roles', name, 'maxDuration'], `"roles.${name}.maxDuration": ${d.reason}`, 'duration');
    const total = r.maxTotal === undefined ? undefined : parseDuration(r.maxTotal);
    if (total && !total.ok)
      fail(['roles', name, 'maxTotal'], `"roles.${name}.maxTotal": ${total.reason}`, 'duration');
    else if (total && d.ok && total.ms < d.ms)
      fail(
        ['roles', name, 'maxTotal'],
        `"roles.${name}.maxTotal" (${r.maxTotal}) is shorter than maxDuration (${r.maxDuration}): a grant could not even last its first stretch`,
        'duration',
      );
    const short = unreachableApprovals(r.approvals, r.approvers ?? []);
    if (short !== undefined) fail(['roles', name, 'approvals'], `role "${name}" ${short}`, 'approvers');
    if (type === 'postgres' && !r.dbRoles) {
      fail(
        ['roles', name],
        `postgres role "${name}" must list the database roles it confers in dbRoles`,
        'db-roles',
        'key',
      );
    }
    if (type !== 'postgres' && r.dbRoles) {
      fail(['roles', name, 'dbRoles'], `dbRoles applies to postgres targets only`, 'db-roles', 'key');
    }
    const breakGlass = r.breakGlass && parseBreakGlass(r.breakGlass, name, r.approvers ?? [], fail);
    roles.set(name, {
      name,
      maxDuration: r.maxDuration,
      maxDurationMs: d.ok ? d.ms : 0,
      ...(total?.ok ? { maxTotal: r.maxTotal, maxTotalMs: total.ms } : {}),
      approvals: r.approvals,
      approvers: r.approvers ?? [],
      dbRoles: r.dbRoles ?? [],
      ...(breakGlass ? { breakGlass } : {}),
    });
  }

  const alertsBeforeMs: number[] = [];
  (raw.alerts?.before ?? [...DEFAULT_ALERTS_BEFORE]).forEach((text, i) => {
    const d = parseDuration(text);
    if (d.ok) alertsBeforeMs.push(d.ms);
    else fail(['alerts', 'before', i], `"alerts.before.${i}": ${d.reason}`, 'duration');
  });
  alertsBeforeMs.sort((a, b) => b - a);

  const target = buildTarget(raw.target, (path, message, rule) => fail(['target', ...path], message, rule));

  let extraSchema: CompiledSchema | undefined;
  let grantSchemaFinding: ParsedPolicy['grantSchemaFinding'];
  const invalidSchema = (why: string): Finding => ({
    file: doc.file,
    ...doc.locate(['grantSchema']),
    message: `grantSchema is not a valid JSON Schema: ${why}`,
    rule: 'grant-schema',
    severity: 'error',
  });
  if (raw.grantSchema && opts.lazyGrantSchema) {
    const lazy = registry.compileExtraLazily(raw.grantSchema);
    extraSchema = lazy;
    grantSchemaFinding = () => {
      const why = lazy.failure();
      return why === undefined ? undefined : invalidSchema(why);
    };
  } else if (raw.grantSchema) {
    try {
      extraSchema = registry.compileExtra(raw.grantSchema);
    } catch (err) {
      findings.push(invalidSchema(err instanceof Error ? err.message : String(err)));
    }
  }
  if (findings.length > 0 || !target) return { ok: false, findings };
  const policy: Policy = {
    file: doc.file,
    target,
    roles,
    alertsBeforeMs,
    ...(raw.grantSchema ? { grantSchema: raw.grantSchema } : {}),
  };
  return {
    ok: true,
    value: {
      policy,
      ...(extraSchema ? { extraSchema } : {}),
      ...(grantSchemaFinding ? { grantSchemaFinding } : {}),
    },
  };
}

/**
 * A role's `breakGlass`, or undefined (with findings) when its durations do not parse or nobody could
 * ever review a use: a retro review comes from the role's approvers, so a role without any would
 * make every break-glass grant end at its review deadline.
 */
function parseBreakGlass(
  raw: NonNullable<RawRole['breakGlass']>,
  role: string,
  approvers: readonly string[],
  fail: (path: (string | number)[], message: string, rule: string, part?: 'key' | 'value') => void,
): BreakGlassRule | undefined {
  const at = ['roles', role, 'breakGlass'];
  const max = parseDuration(raw.maxDuration);
  if (!max.ok)
    fail([...at, 'maxDuration'], `"roles.${role}.breakGlass.maxDuration": ${max.reason}`, 'duration');
  const review = parseDuration(raw.reviewWithin);
  if (!review.ok)
    fail([...at, 'reviewWithin'], `"roles.${role}.breakGlass.reviewWithin": ${review.reason}`, 'duration');
  if (approvers.length === 0)
    fail(
      at,
      `role "${role}" allows break-glass but lists no approvers to review its uses`,
      'break-glass',
      'key',
    );
  if (!max.ok || !review.ok || approvers.length === 0) return undefined;
  return {
    maxDuration: raw.maxDuration,
    maxDurationMs: max.ms,
    reviewWithin: raw.reviewWithin,
    reviewWithinMs: review.ms,
    allowed: raw.allowed,
  };
}

/**
 * Why a role's `approvals` can never be met by its `approvers`, or `undefined` when it can (or might).
 * A team's size is unknown until GitHub is asked, so a role naming one is never flagged here: only a
 * list of individual logins is provably short. Logins compare without regard to case, as on GitHub.
 */
export function unreachableApprovals(approvals: number, approvers: readonly string[]): string | undefined {
  if (approvals <= 0) return undefined;
  if (approvers.length === 0) return `needs ${approvals} approval(s) but lists no approvers`;
  if (approvers.some((a) => a.startsWith('@'))) return undefined;
  const people = new Set(approvers.map((a) => a.toLowerCase()));
  if (people.size >= approvals) return undefined;
  return `needs ${approvals} approvals but its approvers (${[...people].join(', ')}) can give at most ${people.size}`;
}

function buildTarget(
  t: RawPolicy['target'],
  fail: (path: (string | number)[], message: string, rule: string) => void,
): TargetConfig | undefined {
  const base = {
    name: t.name,
    enforce: t.enforce === true,
    enforceMaxFraction:
      typeof t.enforceMaxFraction === 'number' ? t.enforceMaxFraction : DEFAULT_ENFORCE_MAX_FRACTION,
    exempt: Array.isArray(t.exempt) ? (t.exempt as string[]) : [],
  };
  switch (t.type) {
    case 'github-team':
      return { ...base, type: t.type, org: String(t.org), team: String(t.team) };
    case 'github-repo':
      return { ...base, type: t.type, repo: String(t.repo) };
    case 'postgres': {
      const users = (t.users as Record<string, string> | undefined) ?? {};
      // Logins compare without regard to case, and one role is one person's: either way, two
      // entries would make a grant land on the wrong account.
      const logins = new Map<string, string>();
      const owners = new Map<string, string>();
      let clash = false;
      for (const [login, role] of Object.entries(users)) {
        const sameLogin = logins.get(login.toLowerCase());
        if (sameLogin !== undefined) {
          fail(
            ['users', login],
            `users lists ${sameLogin} and ${login}: logins compare without regard to case`,
            'users',
          );
          clash = true;
        }
        const sameRole = owners.get(role);
        if (sameRole !== undefined) {
          fail(
            ['users', login],
            `users maps both ${sameRole} and ${login} to the database role "${role}"`,
            'users',
          );
          clash = true;
        }
        logins.set(login.toLowerCase(), login);
        owners.set(role, login);
      }
      if (clash) return undefined;
      if (isGrantopsCredential(String(t.urlEnv))) {
        fail(
          ['urlEnv'],
          `"target.urlEnv" cannot name grantops' own credential "${String(t.urlEnv)}" (give the database URL a variable of its own)`,
          'exec-env',
        );
        return undefined;
      }
      return {
        ...base,
        type: t.type,
        urlEnv: String(t.urlEnv),
        users,
        manageLogin: t.manageLogin === true,
      };
    }
    case 'exec': {
      const command = t.command as string[];
      const program = command[0] ?? '';
      const normal = posix.normalize(program);
      if (
        posix.isAbsolute(program) ||
        normal.startsWith('../') ||
        normal === '..' ||
        program.includes('\\')
      ) {
        fail(
          ['command', 0],
          `exec command "${program}" must be a path inside the repository, relative to its root`,
          'exec-command',
        );
        return undefined;
      }
      let timeoutMs = DEFAULT_EXEC_TIMEOUT_MS;
      if (typeof t.timeout === 'string') {
        const d = parseDuration(t.timeout);
        if (!d.ok) {
          fail(['timeout'], `"target.timeout": ${d.reason}`, 'duration');
          return undefined;
        }
        timeoutMs = d.ms;
      }
      const concurrency = typeof t.concurrency === 'number' ? t.concurrency : 1;
      const env = Array.isArray(t.env) ? (t.env as string[]) : [];
      const secret = env.findIndex(isGrantopsCredential);
      if (secret >= 0) {
        fail(
          ['env', secret],
          `exec scripts never get grantops' own credentials; "${env[secret]}" cannot be passed (give the script a variable of its own)`,
          'exec-env',
        );
        return undefined;
      }
      return { ...base, type: t.type, command, timeoutMs, concurrency, env };
    }
  }
}
