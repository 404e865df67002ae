import { formatDuration } from '../model/duration.js';
import type { GrantExtension } from '../model/grant.js';
import type { Role } from '../model/policy.js';
import { parseTimestamp } from '../model/time.js';
import type { DocPath } from '../model/yaml-source.js';

/** A problem with a grant's extensions, at a path of its document (file:line:column comes from it). */
export interface ExtensionProblem {
  path: DocPath;
  message: string;
  rule: string;
}

/** An item of a grant file's `extensions` list as written (schema-checked, dates still text). */
export interface RawExtension {
  from: string;
  to: string;
  reason: string;
  ticket?: string;
}

/** The fields of a grant file an extension may not change, as written. */
export interface RawGrantFields {
  user?: unknown;
  target?: unknown;
  role?: unknown;
  reason?: unknown;
  ticket?: unknown;
  startsAt?: unknown;
  expiresAt?: unknown;
  extensions?: unknown;
  /** A break-glass grant's flag: an extension neither adds nor removes it. */
  breakGlass?: unknown;
}

/** The fields an extension may not change. */
export const EXTENSION_FIXED_FIELDS = [
  'user',
  'target',
  'role',
  'reason',
  'ticket',
  'startsAt',
  'breakGlass',
] as const;

const instant = (text: unknown): number | undefined => {
  if (typeof text !== 'string') return undefined;
  const t = parseTimestamp(text);
  return t.ok ? t.date.getTime() : undefined;
};

/** expiresAt moved `durationMs` later (the same instant plus the duration: no rounding). */
export function extendedExpiry(expiresAt: Date, durationMs: number): Date {
  return new Date(expiresAt.getTime() + durationMs);
}

/**
 * Checks a file's own `extensions` list (schema-valid) against its `expiresAt`: each moves the end
 * later, each starts where the one before ended, and the last ends at `expiresAt`. Returns the
 * parsed list, or problems.
 */
export function checkExtensionChain(
  list: readonly RawExtension[],
  expiresAt: Date,
): { extensions: GrantExtension[]; problems: ExtensionProblem[] } {
  const problems: ExtensionProblem[] = [];
  const extensions: GrantExtension[] = [];
  list.forEach((raw, i) => {
    const from = parseTimestamp(raw.from);
    const to = parseTimestamp(raw.to);
    if (!from.ok)
      problems.push({
        path: ['extensions', i, 'from'],
        message: `"extensions.${i}.from": ${from.reason}`,
        rule: 'timestamp',
      });
    if (!to.ok)
      problems.push({
        path: ['extensions', i, 'to'],
        message: `"extensions.${i}.to": ${to.reason}`,
        rule: 'timestamp',
      });
    if (!from.ok || !to.ok) return;
    if (to.date.getTime() <= from.date.getTime())
      problems.push({
        path: ['extensions', i, 'to'],
        message: `"extensions.${i}.to" (${raw.to}) must be after its "from" (${raw.from})`,
        rule: 'extension-chain',
      });
    const before = extensions[extensions.length - 1];
    if (before && before.to.getTime() !== from.date.getTime())
      problems.push({
        path: ['extensions', i, 'from'],
        message: `"extensions.${i}.from" (${raw.from}) must be where the extension before it ended (${list[i - 1]?.to})`,
        rule: 'extension-chain',
      });
    extensions.push({
      from: from.date,
      to: to.date,
      reason: raw.reason,
      ...(raw.ticket !== undefined ? { ticket: raw.ticket } : {}),
    });
  });
  const last = extensions[extensions.length - 1];
  if (problems.length === 0 && last && last.to.getTime() !== expiresAt.getTime())
    problems.push({
      path: ['extensions', list.length - 1, 'to'],
      message: `the last extension ends at ${list[list.length - 1]?.to}, but "expiresAt" is ${formatInstant(expiresAt)}: they must be the same instant`,
      rule: 'extension-chain',
    });
  return { extensions, problems };
}

/**
 * What a change since the base did to a grant's extensions (both versions as written): the base's
 * list must stay as it is at the head of the new one (history cannot be rewritten); an extension
 * added must start at the base's expiresAt, the base must not have expired by `now` (an expired
 * grant is being reaped: it is requested anew), and nothing but `expiresAt` and `extensions` may
 * change with it. Returns the number of extensions the change adds.
 */
export function checkExtensionHistory(
  base: RawGrantFields,
  next: RawGrantFields,
  now: Date,
): { added: number; problems: ExtensionProblem[] } {
  const problems: ExtensionProblem[] = [];
  const before = Array.isArray(base.extensions) ? (base.extensions as unknown[]) : [];
  const after = Array.isArray(next.extensions) ? (next.extensions as RawExtension[]) : [];
  for (let i = 0; i < before.length; i++) {
    if (i >= after.length) {
      problems.push({
        path: after.length > 0 ? ['extensions'] : ['expiresAt'],
        message: `the base has ${before.length} extension(s) and this change keeps ${after.length}: extensions are history and cannot be removed`,
        rule: 'extension-history',
      });
      return { added: 0, problems };
    }
    if (!sameExtension(before[i], after[i])) {
      problems.push({
        path: ['extensions', i],
        message: `extension ${i} differs from the base's: extensions are history and cannot be rewritten (add a new one with grantops extend)`,
        rule: 'extension-history',
      });
      return { added: 0, problems };
    }
  }
  const added = after.length - before.length;
  if (added === 0) return { added, problems };
  const first = before.length;
  const baseEnd = instant(base.expiresAt);
  const from = instant(after[first]?.from);
  if (baseEnd !== undefined && from !== undefined && from !== baseEnd)
    problems.push({
      path: ['extensions', first, 'from'],
      message: `"extensions.${first}.from" (${after[first]?.from}) must be the expiresAt at the base (${String(base.expiresAt)})`,
      rule: 'extension-history',
    });
  if (baseEnd !== undefined && baseEnd <= now.getTime())
    problems.push({
      path: ['extensions', first],
      message: `the grant expired at ${String(base.expiresAt)}, before this extension: an expired grant is being revoked and cannot be extended; request a new one`,
      rule: 'extension-expired',
    });
  for (const key of EXTENSION_FIXED_FIELDS) {
    if (JSON.stringify(base[key]) !== JSON.stringify(next[key]))
      problems.push({
        path: [key],
        message: `an extension moves only "expiresAt": "${key}" must stay as it is at the base (change it in a pull request of its own)`,
        rule: 'extension-history',
      });
  }
  return { added, problems };
}

function sameExtension(a: unknown, b: unknown): boolean {
  if (!a || !b || typeof a !== 'object' || typeof b !== 'object') return false;
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  const keys = new Set([...Object.keys(x), ...Object.keys(y)]);
  for (const k of keys) {
    const same =
      k === 'from' || k === 'to'
        ? instant(x[k]) === instant(y[k]) && instant(x[k]) !== undefined
        : x[k] === y[k];
    if (!same) return false;
  }
  return true;
}

/**
 * Where an extended grant's chain starts: its `startsAt`, but never before the file landed on main
 * (the access could not exist before); `landedAt` undefined (not on main yet): `now`, the earliest
 * it can land.
 */
export function chainStart(startsAt: Date | undefined, landedAt: Date | undefined, now: Date): Date {
  const landed = landedAt ?? now;
  return startsAt && startsAt.getTime() > landed.getTime() ? startsAt : landed;
}

/** Why a grant ending at `expiresAt` is over its role's `maxTotal`, measured from `start`; undefined if within. */
export function overMaxTotal(
  expiresAt: Date,
  start: Date,
  role: Pick<Role, 'name' | 'maxTotal' | 'maxTotalMs'>,
  target: string,
): string | undefined {
  if (role.maxTotalMs === undefined) return undefined;
  const total = expiresAt.getTime() - start.getTime();
  if (total <= role.maxTotalMs) return undefined;
  return `with its extensions the grant lasts ${formatDuration(total)} since ${formatInstant(start)}, over the ${role.maxTotal} maxTotal of role "${role.name}" on "${target}"`;
}

function formatInstant(d: Date): string {
  return d.toISOString().replace(/\.000Z$/, 'Z');
}
