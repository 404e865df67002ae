import { describe, expect, it } from 'vitest';
import {
  chainStart,
  checkExtensionChain,
  checkExtensionHistory,
  extendedExpiry,
  overMaxTotal,
} from '../../src/policy/extension.js';
import type { Finding } from '../../src/model/errors.js';
import { SchemaRegistry } from '../../src/policy/schema-registry.js';
import { validateAccessRepo } from '../../src/usecases/validate-repo.js';
import { memoryTree } from '../support/memory-tree.js';

const at = (s: string) => new Date(s);
const NOW = at('2026-11-28T12:00:00Z');
const ROLE = { name: 'ops', maxTotal: '10h', maxTotalMs: 10 * 3_600_000 };

describe('extendedExpiry', () => {
  it('moves the old expiresAt by the duration, whatever the clock says', () => {
    expect(extendedExpiry(at('2026-11-28T16:00:00Z'), 2 * 3_600_000)).toEqual(at('2026-11-28T18:00:00Z'));
    expect(extendedExpiry(at('2026-11-28T16:00:30+01:00'), 90_000)).toEqual(at('2026-11-28T15:02:00Z'));
  });
});

describe('chainStart and overMaxTotal', () => {
  it('starts at the landing, or at a later startsAt; not landed yet: now', () => {
    const landed = at('2026-11-28T09:00:00Z');
    expect(chainStart(undefined, landed, NOW)).toEqual(landed);
    expect(chainStart(at('2026-11-28T10:00:00Z'), landed, NOW)).toEqual(at('2026-11-28T10:00:00Z'));
    // A startsAt before the landing: the access could not exist before the file was on main.
    expect(chainStart(at('2026-11-28T08:00:00Z'), landed, NOW)).toEqual(landed);
    expect(chainStart(undefined, undefined, NOW)).toEqual(NOW);
  });

  it('allows exactly maxTotal, refuses a second more; no maxTotal, no cap', () => {
    const start = at('2026-11-28T09:00:00Z');
    expect(overMaxTotal(at('2026-11-28T19:00:00Z'), start, ROLE, 'vpn')).toBeUndefined();
    expect(overMaxTotal(at('2026-11-28T19:00:01Z'), start, ROLE, 'vpn')).toBe(
      'with its extensions the grant lasts 10h since 2026-11-28T09:00:00Z, over the 10h maxTotal of role "ops" on "vpn"',
    );
    expect(overMaxTotal(at('2027-11-28T19:00:00Z'), start, { name: 'ops' }, 'vpn')).toBeUndefined();
  });
});

const ext = (from: string, to: string, reason = 'more time') => ({ from, to, reason });

describe('checkExtensionChain', () => {
  it('accepts a chain that ends at expiresAt, offsets and all', () => {
    const r = checkExtensionChain(
      [
        ext('2026-11-28T16:00:00Z', '2026-11-28T18:00:00+01:00'),
        ext('2026-11-28T17:00:00Z', '2026-11-28T18:00:00Z'),
      ],
      at('2026-11-28T18:00:00Z'),
    );
    expect(r.problems).toEqual([]);
    expect(r.extensions.map((e) => e.to)).toEqual([at('2026-11-28T17:00:00Z'), at('2026-11-28T18:00:00Z')]);
  });

  it('refuses a gap, a step back, an offset-less date and an end that is not expiresAt, each at its path', () => {
    const gap = checkExtensionChain(
      [
        ext('2026-11-28T16:00:00Z', '2026-11-28T17:00:00Z'),
        ext('2026-11-28T17:30:00Z', '2026-11-28T18:00:00Z'),
      ],
      at('2026-11-28T18:00:00Z'),
    );
    expect(gap.problems.map((p) => p.path)).toEqual([['extensions', 1, 'from']]);
    const back = checkExtensionChain(
      [ext('2026-11-28T16:00:00Z', '2026-11-28T15:00:00Z')],
      at('2026-11-28T15:00:00Z'),
    );
    expect(back.problems.map((p) => p.path)).toEqual([['extensions', 0, 'to']]);
    const naive = checkExtensionChain(
      [ext('2026-11-28T16:00:00', '2026-11-28T18:00:00Z')],
      at('2026-11-28T18:00:00Z'),
    );
    expect(naive.problems[0]?.message).toContain('has no time-zone offset');
    const end = checkExtensionChain(
      [ext('2026-11-28T16:00:00Z', '2026-11-28T18:00:00Z')],
      at('2026-11-28T19:00:00Z'),
    );
    expect(end.problems[0]?.message).toContain('"expiresAt" is 2026-11-28T19:00:00Z');
  });
});

describe('checkExtensionHistory (validate --base)', () => {
  const base = {
    user: 'alice',
    target: 'vpn',
    role: 'ops',
    reason: 'INC-7',
    expiresAt: '2026-11-28T16:00:00Z',
    extensions: [ext('2026-11-28T14:00:00Z', '2026-11-28T16:00:00Z')],
  };
  const next = (extra: object = {}) => ({
    ...base,
    expiresAt: '2026-11-28T18:00:00Z',
    extensions: [...base.extensions, ext('2026-11-28T16:00:00Z', '2026-11-28T18:00:00Z', 'rollback')],
    ...extra,
  });

  it('accepts the base list as a prefix plus extensions starting at the base expiresAt', () => {
    expect(checkExtensionHistory(base, next(), NOW)).toEqual({ added: 1, problems: [] });
    // The same instant written with another offset is the same history.
    const moved = next({
      extensions: [ext('2026-11-28T15:00:00+01:00', '2026-11-28T17:00:00+01:00'), next().extensions[1]],
    });
    expect(checkExtensionHistory(base, moved, NOW).problems).toEqual([]);
  });

  it('refuses a rewritten or removed extension, a wrong start, an expired base, another field changed', () => {
    const rewritten = next({
      extensions: [ext('2026-11-28T14:00:00Z', '2026-11-28T16:00:00Z', 'other'), next().extensions[1]],
    });
    expect(checkExtensionHistory(base, rewritten, NOW).problems.map((p) => p.rule)).toEqual([
      'extension-history',
    ]);
    expect(
      checkExtensionHistory(base, { ...base, extensions: undefined }, NOW).problems[0]?.message,
    ).toContain('cannot be removed');
    const wrongStart = next({
      extensions: [...base.extensions, ext('2026-11-28T16:30:00Z', '2026-11-28T18:00:00Z')],
    });
    expect(checkExtensionHistory(base, wrongStart, NOW).problems[0]?.path).toEqual(['extensions', 1, 'from']);
    const expired = checkExtensionHistory(base, next(), at('2026-11-28T16:00:00Z'));
    expect(expired.problems.map((p) => p.rule)).toEqual(['extension-expired']);
    const role = checkExtensionHistory(base, next({ role: 'admin', startsAt: '2026-11-28T13:00:00Z' }), NOW);
    expect(role.problems.map((p) => p.path)).toEqual([['role'], ['startsAt']]);
  });

  it('a change without a new extension is a plain modification: nothing to check here', () => {
    expect(checkExtensionHistory(base, { ...base, reason: 'other' }, NOW)).toEqual({
      added: 0,
      problems: [],
    });
  });
});

describe('the extensions schema and maxTotal in a policy (plain validate)', () => {
  const registry = new SchemaRegistry();
  const policy = (role: string) => ({
    'policies/vpn.yaml': `target: { name: vpn, type: exec, command: [./x.sh] }\nroles:\n  ops: ${role}\n`,
  });
  const grant = (extensions: string) =>
    `user: alice\ntarget: vpn\nrole: ops\nreason: INC-7\nexpiresAt: 2026-11-28T18:00:00Z\nextensions:\n${extensions}`;
  const validate = (files: Record<string, string>) =>
    validateAccessRepo({ now: NOW }, { work: memoryTree(files), registry });
  const brief = (f: Finding) => `${f.file}:${f.line}:${f.column}: ${f.message}`;

  it('refuses unknown keys, an empty reason, a date without offset in an extension, at line and column', async () => {
    const r = await validate({
      ...policy('{ maxDuration: 8h, approvals: 0 }'),
      'grants/a.yaml': grant(
        '  - from: 2026-11-28T16:00:00Z\n    to: 2026-11-28T18:00:00\n    reason: " "\n    by: alice\n',
      ),
    });
    expect(r.findings.map(brief)).toEqual([
      'grants/a.yaml:8:9: "extensions.0.to": "2026-11-28T18:00:00" has no time-zone offset; write it as RFC 3339 with Z or an explicit offset, e.g. 2026-11-28T18:00:00Z',
      'grants/a.yaml:9:13: "extensions.0.reason" must say why more time is needed (not empty)',
      'grants/a.yaml:10:5: unknown key "by" in extensions.0; did you mean "to"?',
    ]);
  });

  it('reads a valid extended grant with its extensions', async () => {
    const r = await validate({
      ...policy('{ maxDuration: 8h, maxTotal: 12h, approvals: 0 }'),
      'grants/a.yaml': grant(
        '  - from: 2026-11-28T16:00:00Z\n    to: 2026-11-28T18:00:00Z\n    reason: more\n',
      ),
    });
    expect(r.findings).toEqual([]);
    expect(r.grants[0]?.extensions).toEqual([
      { from: at('2026-11-28T16:00:00Z'), to: at('2026-11-28T18:00:00Z'), reason: 'more' },
    ]);
  });

  it('refuses a maxTotal shorter than maxDuration, or not a duration', async () => {
    const short = await validate(policy('{ maxDuration: 8h, maxTotal: 4h, approvals: 0 }'));
    expect(short.findings.map((f) => f.message)).toEqual([
      '"roles.ops.maxTotal" (4h) is shorter than maxDuration (8h): a grant could not even last its first stretch',
    ]);
    const bad = await validate(policy('{ maxDuration: 8h, maxTotal: 2 days, approvals: 0 }'));
    expect(bad.ok).toBe(false);
  });
});
