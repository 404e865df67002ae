import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { FileChange, HistoryCommit } from '../../src/audit/history-commit.js';
import { HistoryFolder } from '../../src/audit/lifecycle-fold.js';
import type { GrantVersion } from '../../src/audit/lifecycle-model.js';

/**
 * The audit folds history backwards (newest first, as git streams it). This checks it against the
 * obvious forward fold over random histories: additions, changes, deletions by the reaper or by
 * hand, renames (also out of and into grants/), re-grants, policy changes, several at once.
 */
type Op = {
  kind: 'add' | 'modify' | 'delete' | 'rename' | 'moveOut' | 'moveIn' | 'policy';
  a: number;
  b: number;
  revoked: boolean;
};

interface Expected {
  versions: { id: string; commit: string; blob: string; renamedFrom?: string; policy: string }[];
  ended?: { commit: string; type: 'revoked' | 'removed' };
  regranted: boolean;
}

const grantPath = (n: number) => `grants/g${n}.yaml`;
const idOf = (path: string) => path.replace(/^grants\//, '').replace(/\.yaml$/, '');

/** Turns op intents into valid commits (oldest first) and folds them forwards, the obvious way. */
function build(intents: Op[][]) {
  const files = new Map<string, string>(); // path -> blob
  let policy = 'p0';
  let blobs = 0;
  const commits: HistoryCommit[] = [];
  const lifecycles: Expected[] = [];
  const open = new Map<string, Expected>();
  const endedIds = new Set<string>();
  intents.forEach((ops, i) => {
    const sha = `c${String(i).padStart(39, '0')}`;
    const touched = new Set<string>();
    const changes: FileChange[] = [];
    const revoked: string[] = [];
    const free = (p: string) => !touched.has(p);
    for (const op of ops) {
      const a = grantPath(op.a);
      const b = grantPath(op.b);
      const blob = `b${++blobs}`;
      if (op.kind === 'add' && !files.has(a) && free(a)) {
        changes.push({ status: 'A', path: a, from: undefined, oldBlob: undefined, blob });
      } else if (op.kind === 'modify' && files.has(a) && free(a)) {
        changes.push({ status: 'M', path: a, from: undefined, oldBlob: files.get(a), blob });
      } else if (op.kind === 'delete' && files.has(a) && free(a)) {
        changes.push({ status: 'D', path: a, from: undefined, oldBlob: files.get(a), blob: undefined });
        if (op.revoked) revoked.push(idOf(a));
      } else if (op.kind === 'rename' && files.has(a) && !files.has(b) && free(a) && free(b)) {
        changes.push({ status: 'R', path: b, from: a, oldBlob: files.get(a), blob });
      } else if (op.kind === 'moveOut' && files.has(a) && free(a)) {
        changes.push({ status: 'R', path: `other/g${op.a}.yaml`, from: a, oldBlob: files.get(a), blob });
      } else if (op.kind === 'moveIn' && !files.has(a) && free(a)) {
        changes.push({ status: 'R', path: a, from: `other/x${op.b}.yaml`, oldBlob: 'x', blob });
      } else if (op.kind === 'policy' && free('policies/p.yaml')) {
        changes.push({ status: 'M', path: 'policies/p.yaml', from: undefined, oldBlob: policy, blob });
      } else continue;
      const last = changes[changes.length - 1]!;
      touched.add(last.path);
      if (last.from) touched.add(last.from);
    }
    if (changes.length === 0) return;
    // Apply to the tree; fold forwards: sources are taken first, then destinations filled.
    const taken = new Map<FileChange, Expected | undefined>();
    for (const ch of changes) {
      const source = ch.status === 'R' ? ch.from : ch.status === 'A' ? undefined : ch.path;
      if (source?.startsWith('grants/')) {
        taken.set(ch, open.get(idOf(source)));
        open.delete(idOf(source));
        files.delete(source);
      }
    }
    for (const ch of changes) if (ch.path === 'policies/p.yaml') policy = ch.blob!;
    const endedNow: string[] = [];
    for (const ch of changes) {
      if (ch.path === 'policies/p.yaml') continue;
      const life = taken.get(ch);
      if (ch.status === 'D' || !ch.path.startsWith('grants/')) {
        const id = idOf(ch.status === 'D' ? ch.path : ch.from!);
        if (life) life.ended = { commit: sha, type: revoked.includes(id) ? 'revoked' : 'removed' };
        endedNow.push(id);
        continue;
      }
      files.set(ch.path, ch.blob!);
      const id = idOf(ch.path);
      const fromId = ch.status === 'R' && ch.from?.startsWith('grants/') ? idOf(ch.from) : undefined;
      const version = { id, commit: sha, blob: ch.blob!, policy, ...(fromId ? { renamedFrom: fromId } : {}) };
      if (life) {
        life.versions.push(version);
        open.set(id, life);
      } else {
        const fresh: Expected = { versions: [version], regranted: endedIds.has(id) };
        lifecycles.push(fresh);
        open.set(id, fresh);
      }
    }
    for (const id of endedNow) endedIds.add(id);
    commits.push({
      sha,
      mergeParent: undefined,
      time: Date.UTC(2026, 0, 1) + i * 60_000,
      author: 'a <a@x>',
      subject: `commit ${i}`,
      revoked,
      changes,
    });
  });
  return { commits, lifecycles, tipPolicy: policy };
}

function foldBackwards(commits: HistoryCommit[], tipPolicy: string) {
  const filled: [string, GrantVersion][] = [];
  const folder = new HistoryFolder(new Map([['policies/p.yaml', tipPolicy]]), new Map(), {
    grantBlob: (blob, version) => filled.push([blob, version]),
    policyBlob: () => undefined,
    mergeAuthor: () => undefined,
  });
  for (const c of [...commits].reverse()) folder.add(c);
  for (const [blob, version] of filled) {
    folder.fill(version, {
      user: 'u',
      target: 't',
      role: 'r',
      reason: blob,
      ticket: undefined,
      startsAt: undefined,
      expiresAt: undefined,
    });
  }
  return folder.finish().lifecycles.map((l): Expected => ({
    versions: l.versions.map((v) => ({
      id: v.id,
      commit: v.landed.commit,
      blob: v.reason,
      policy: v.policies.get('policies/p.yaml') ?? '',
      ...(v.renamedFrom ? { renamedFrom: v.renamedFrom } : {}),
    })),
    ...(l.ended ? { ended: { commit: l.ended.landed.commit, type: l.ended.type } } : {}),
    regranted: l.regranted,
  }));
}

const byStart = (a: Expected, b: Expected) => {
  const x = a.versions[0]!;
  const y = b.versions[0]!;
  return x.commit < y.commit ? -1 : x.commit > y.commit ? 1 : x.id < y.id ? -1 : x.id > y.id ? 1 : 0;
};

const op = fc.record({
  kind: fc.constantFrom('add', 'add', 'modify', 'delete', 'rename', 'moveOut', 'moveIn', 'policy'),
  a: fc.nat(4),
  b: fc.nat(4),
  revoked: fc.boolean(),
}) as fc.Arbitrary<Op>;

describe('audit fold', () => {
  it('folding newest-first gives the lifecycles of the obvious oldest-first fold', () => {
    fc.assert(
      fc.property(fc.array(fc.array(op, { minLength: 1, maxLength: 3 }), { maxLength: 30 }), (intents) => {
        const { commits, lifecycles, tipPolicy } = build(intents);
        expect(foldBackwards(commits, tipPolicy).sort(byStart)).toEqual([...lifecycles].sort(byStart));
      }),
      { numRuns: 500 },
    );
  });

  it('tells a re-grant from a rename', () => {
    const { commits, tipPolicy } = build([
      [{ kind: 'add', a: 1, b: 0, revoked: false }],
      [{ kind: 'delete', a: 1, b: 0, revoked: true }],
      [{ kind: 'add', a: 1, b: 0, revoked: false }],
      [{ kind: 'rename', a: 1, b: 2, revoked: false }],
    ]);
    const folded = foldBackwards(commits, tipPolicy).sort(byStart);
    expect(folded.map((l) => [l.versions.map((v) => v.id), l.ended?.type, l.regranted])).toEqual([
      [['g1'], 'revoked', false],
      [['g1', 'g2'], undefined, true],
    ]);
    expect(folded[1]!.versions[1]!.renamedFrom).toBe('g1');
  });
});
