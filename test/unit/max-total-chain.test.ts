import { describe, expect, it } from 'vitest';
import { checkExtensionHistory, EXTENSION_FIXED_FIELDS } from '../../src/policy/extension.js';
import {
  chainProblem,
  extensionHistoryBreaks,
  grantChain,
  type FileChange,
} from '../../src/policy/max-total-chain.js';

const ms = (s: string) => Date.parse(s);
const at = (s: string) => new Date(s);
const NOW = at('2026-11-28T15:00:00Z');
const ROLE = { name: 'ops', maxTotal: '12h', maxTotalMs: 12 * 3_600_000 };
const BEFORE = at('2026-11-27T23:00:00Z');
const grant = (expiresAt: string, extra: object = {}) => ({
  user: 'alice',
  target: 'vpn',
  role: 'ops',
  reason: 'INC-7',
  expiresAt,
  ...extra,
});
const ext = (from: string, to: string) => ({ from, to, reason: 'more' });
const added = (time: string, after: object): FileChange => ({
  time: ms(time),
  status: 'added',
  before: undefined,
  after,
});
const modified = (time: string, before: object, after: object): FileChange => ({
  time: ms(time),
  status: 'modified',
  before,
  after,
});
const deleted = (time: string, before: object): FileChange => ({
  time: ms(time),
  status: 'deleted',
  before,
  after: undefined,
});
const judge = (changes: FileChange[], expiresAt: string, startsAt?: string) =>
  chainProblem(
    grantChain(changes),
    { expiresAt: at(expiresAt), target: 'vpn', ...(startsAt ? { startsAt: at(startsAt) } : {}) },
    ROLE,
    BEFORE,
    NOW,
  );

const v1 = grant('2026-11-28T16:00:00Z');
const late = grant('2026-11-28T23:00:00Z');

describe('grantChain: a grant file continuous history on main', () => {
  it('runs back to the addition, through every modification', () => {
    const chain = grantChain([modified('2026-11-28T11:00:00Z', v1, late), added('2026-11-28T09:00:00Z', v1)]);
    expect(chain.firstLanded).toBe(ms('2026-11-28T09:00:00Z'));
    expect(chain.versions.map((v) => v.fields)).toEqual([v1, late]);
  });

  it('a delete and re-add while the deleted version held access is the same chain (one rebase-merged PR)', () => {
    const chain = grantChain([
      added('2026-11-28T11:00:00Z', late),
      deleted('2026-11-28T11:00:00Z', v1),
      added('2026-11-28T09:00:00Z', v1),
    ]);
    expect(chain.firstLanded).toBe(ms('2026-11-28T09:00:00Z'));
    // A deleted version whose end cannot be read does not restart it either.
    const unreadable = grantChain([
      added('2026-11-28T11:00:00Z', late),
      { ...deleted('2026-11-28T11:00:00Z', v1), before: undefined },
      added('2026-11-28T09:00:00Z', v1),
    ]);
    expect(unreadable.firstLanded).toBe(ms('2026-11-28T09:00:00Z'));
  });

  it('re-requested after the deleted version expired: a new chain', () => {
    const chain = grantChain([
      added('2026-11-28T17:00:00Z', late),
      deleted('2026-11-28T16:05:00Z', v1),
      added('2026-11-28T09:00:00Z', v1),
    ]);
    expect(chain).toEqual({
      versions: [{ landedAt: ms('2026-11-28T17:00:00Z'), fields: late }],
      firstLanded: ms('2026-11-28T17:00:00Z'),
    });
  });

  it('changes that run out before an addition: the first landing is unknown, the version before is kept', () => {
    const chain = grantChain([modified('2026-11-28T11:00:00Z', v1, late)]);
    expect(chain).toEqual({
      versions: [
        { landedAt: undefined, fields: v1 },
        { landedAt: ms('2026-11-28T11:00:00Z'), fields: late },
      ],
      firstLanded: undefined,
    });
  });
});

describe('chainProblem: maxTotal and the extension rules at apply', () => {
  it('measures every change from the first landing, with or without an extensions entry', () => {
    const history = (next: object) => [
      modified('2026-11-28T11:00:00Z', v1, next),
      added('2026-11-28T09:00:00Z', v1),
    ];
    expect(judge(history(late), '2026-11-28T23:00:00Z')).toContain(
      'over the 12h maxTotal of role "ops" on "vpn"',
    );
    expect(judge(history(grant('2026-11-28T21:00:00Z')), '2026-11-28T21:00:00Z')).toBeUndefined();
  });

  it('takes the earliest startsAt any version had, never the current one alone', () => {
    const moved = grant('2026-11-28T23:00:00Z', { startsAt: '2026-11-28T15:00:00Z' });
    const changes = [modified('2026-11-28T11:00:00Z', v1, moved), added('2026-11-28T09:00:00Z', v1)];
    expect(judge(changes, '2026-11-28T23:00:00Z', '2026-11-28T15:00:00Z')).toContain(
      'since 2026-11-28T09:00:00Z',
    );
    // Every version starting later than the landing: the chain starts at the earliest of them.
    const s1 = grant('2026-11-28T18:00:00Z', { startsAt: '2026-11-28T12:00:00Z' });
    const s2 = grant('2026-11-28T23:00:00Z', { startsAt: '2026-11-28T16:00:00Z' });
    const later = [modified('2026-11-28T11:00:00Z', s1, s2), added('2026-11-28T09:00:00Z', s1)];
    expect(judge(later, '2026-11-28T23:00:00Z', '2026-11-28T16:00:00Z')).toBeUndefined(); // 11h since 12:00
    const s3 = grant('2026-11-29T01:00:00Z', { startsAt: '2026-11-28T16:00:00Z' });
    const over = [modified('2026-11-28T11:00:00Z', s1, s3), added('2026-11-28T09:00:00Z', s1)];
    expect(judge(over, '2026-11-29T01:00:00Z', '2026-11-28T16:00:00Z')).toContain(
      'lasts 13h since 2026-11-28T12:00:00Z',
    );
  });

  it('re-checks the extension history of each change against the version before it', () => {
    const extended = grant('2026-11-28T18:00:00Z', {
      extensions: [ext('2026-11-28T16:00:00Z', '2026-11-28T18:00:00Z')],
    });
    const dropped = grant('2026-11-28T19:00:00Z');
    const changes = [
      modified('2026-11-28T12:00:00Z', extended, dropped),
      modified('2026-11-28T11:00:00Z', v1, extended),
      added('2026-11-28T09:00:00Z', v1),
    ];
    expect(judge(changes, '2026-11-28T19:00:00Z')).toContain('extensions are history and cannot be removed');
    // An unreadable version in between hides nothing: the next is judged against the last readable one.
    const hidden = [
      modified('2026-11-28T12:30:00Z', {}, dropped),
      { ...modified('2026-11-28T12:00:00Z', extended, {}), after: undefined },
      modified('2026-11-28T11:00:00Z', v1, extended),
      added('2026-11-28T09:00:00Z', v1),
    ];
    hidden[0] = { ...hidden[0]!, before: undefined };
    expect(judge(hidden, '2026-11-28T19:00:00Z')).toContain('cannot be removed');
  });

  it('a grant unchanged within the history read: its own startsAt decides, the landing is before the window', () => {
    const none = grantChain([]);
    const current = (startsAt?: string) => ({
      expiresAt: at('2026-11-28T23:00:00Z'),
      target: 'vpn',
      ...(startsAt ? { startsAt: at(startsAt) } : {}),
    });
    expect(chainProblem(none, current(), ROLE, BEFORE, NOW)).toContain('landed before 2026-11-27T23:00:00Z');
    expect(chainProblem(none, current('2026-11-28T12:00:00Z'), ROLE, BEFORE, NOW)).toBeUndefined();
  });

  it('a chain read only in part: its first version landed before the window', () => {
    const old = grant('2026-11-28T16:00:00Z');
    expect(judge([modified('2026-11-28T11:00:00Z', old, late)], '2026-11-28T23:00:00Z')).toContain(
      'its first version landed before 2026-11-27T23:00:00Z',
    );
  });
});

describe('the fields an extension may not change (red team finding 8)', () => {
  it('lists breakGlass with the others', () => {
    expect(EXTENSION_FIXED_FIELDS).toEqual([
      'user',
      'target',
      'role',
      'reason',
      'ticket',
      'startsAt',
      'breakGlass',
    ]);
  });

  it('an extension may neither add nor remove breakGlass', () => {
    const base = grant('2026-11-28T16:00:00Z');
    const next = (extra: object) =>
      grant('2026-11-28T18:00:00Z', {
        extensions: [ext('2026-11-28T16:00:00Z', '2026-11-28T18:00:00Z')],
        ...extra,
      });
    expect(checkExtensionHistory(base, next({}), NOW).problems).toEqual([]);
    const addedFlag = checkExtensionHistory(base, next({ breakGlass: true }), NOW).problems;
    expect(addedFlag.map((p) => p.path)).toEqual([['breakGlass']]);
    const removed = checkExtensionHistory({ ...base, breakGlass: true }, next({}), NOW).problems;
    expect(removed.map((p) => p.path)).toEqual([['breakGlass']]);
    expect(
      checkExtensionHistory({ ...base, breakGlass: true }, next({ breakGlass: true }), NOW).problems,
    ).toEqual([]);
  });
});

describe('extensionHistoryBreaks (audit --verify)', () => {
  const v1 = grant('2026-11-28T12:00:00Z');
  const v2 = grant('2026-11-28T14:00:00Z', {
    extensions: [ext('2026-11-28T12:00:00Z', '2026-11-28T14:00:00Z')],
  });
  const bare = grant('2026-11-28T14:00:00Z');

  it('finds every breaking change in the whole history, older chains too, newest first in, oldest first out', () => {
    const changes = [
      // A new request after the old one ended: compared with nothing.
      added('2026-11-29T09:00:00Z', v2),
      deleted('2026-11-28T20:00:00Z', bare),
      modified('2026-11-28T11:00:00Z', v2, bare), // the list dropped
      modified('2026-11-28T10:00:00Z', v1, v2), // a proper extension
      added('2026-11-28T09:00:00Z', v1),
    ];
    const found = extensionHistoryBreaks(changes);
    expect(found.map((b) => [b.change.time, b.problems.map((p) => p.rule)])).toEqual([
      [ms('2026-11-28T11:00:00Z'), ['extension-history']],
    ]);
  });

  it('a re-add while the deleted version held access is compared with it', () => {
    const changes = [
      added('2026-11-28T11:00:01Z', bare),
      deleted('2026-11-28T11:00:00Z', v2),
      added('2026-11-28T10:00:00Z', v2),
    ];
    expect(extensionHistoryBreaks(changes).map((b) => b.change.time)).toEqual([ms('2026-11-28T11:00:01Z')]);
  });
});

describe('extensionHistoryBreaks: a break laundered through a version it cannot read (red team)', () => {
  const v1 = grant('2026-11-28T12:00:00Z');
  const v2 = grant('2026-11-28T14:00:00Z', {
    extensions: [ext('2026-11-28T12:00:00Z', '2026-11-28T14:00:00Z')],
  });
  const dropped = grant('2026-11-28T18:00:00Z');
  // Not a grant at all (a list, a scalar, YAML that does not parse): read as no fields.
  const unreadable = undefined as unknown as object;

  it('an edit through an unreadable version is compared with the last version it could read', () => {
    const changes = [
      modified('2026-11-28T11:30:00Z', unreadable, dropped), // the list dropped, expiresAt moved
      modified('2026-11-28T11:00:00Z', v2, unreadable),
      modified('2026-11-28T10:00:00Z', v1, v2),
      added('2026-11-28T09:00:00Z', v1),
    ];
    expect(extensionHistoryBreaks(changes).map((b) => b.change.time)).toEqual([ms('2026-11-28T11:30:00Z')]);
  });

  it('a delete of an unreadable version and a re-add is compared with the last readable one', () => {
    const changes = [
      added('2026-11-28T11:30:00Z', dropped),
      deleted('2026-11-28T11:20:00Z', unreadable),
      modified('2026-11-28T11:00:00Z', v2, unreadable),
      added('2026-11-28T10:00:00Z', v2),
    ];
    expect(extensionHistoryBreaks(changes).map((b) => b.change.time)).toEqual([ms('2026-11-28T11:30:00Z')]);
  });
});
