import { afterEach, describe, expect, it, vi } from 'vitest';
import { aGrant } from '../support/builders.js';
import { Scenario } from '../support/fakes/scenario.js';

/**
 * Issue 15, point 1: apply and reap are linear in the grants, however many one commit brought (a
 * bulk import lands thousands in one merge). The reads of git and the parses of a commit's note
 * scale with commits, never with grants; each test failed on the code before the fix, which parsed
 * the note once per grant and looked every file up by `commit:path`.
 */
const POLICY = `target: { name: vpn, type: exec, command: [./scripts/vpn.sh] }
roles:
  ops: { maxDuration: 12h, approvals: 1, approvers: [bob] }
`;
const N = 200;
const grants = (from: number, to: number, expiresAt = '2026-11-28T18:00:00Z') =>
  Object.fromEntries(
    Array.from({ length: to - from }, (_, k) => [
      `grants/team/u${from + k}.yaml`,
      aGrant()
        .for(`u${from + k}`)
        .on('vpn', 'ops')
        .expiresAt(expiresAt)
        .without('ticket')
        .yaml(),
    ]),
  );

afterEach(() => vi.restoreAllMocks());

describe('apply: grants from one commit', () => {
  it('parses a commit’s note once and lists each tree once, however many grants it brought', async () => {
    const s = new Scenario({ 'policies/vpn.yaml': POLICY });
    const merge = s.mergePullRequest({
      number: 1,
      author: 'alice',
      files: grants(0, N),
      approvedBy: ['bob'],
    });
    const first = await s.apply('2026-11-28T12:00:00Z');
    expect(first.results.filter((r) => r.ok)).toHaveLength(N);
    const note = s.git.notes.get(merge)!;
    expect(Object.keys(JSON.parse(note) as object)).toContain('grants');

    s.git.reads.length = 0;
    const parse = vi.spyOn(JSON, 'parse');
    const again = await s.apply('2026-11-28T13:00:00Z', { dryRun: true, github: false });
    expect(again.refused).toHaveLength(N);
    expect(parse.mock.calls.filter(([text]) => text === note)).toHaveLength(1);
    expect(s.git.reads).toEqual(['blobsAt HEAD', 'readNotes 1']);
  });

  it('reads git once per commit when grants come from several', async () => {
    const s = new Scenario({ 'policies/vpn.yaml': POLICY });
    s.mergePullRequest({ number: 1, author: 'alice', files: grants(0, N / 2), approvedBy: ['bob'] });
    s.mergePullRequest({ number: 2, author: 'alice', files: grants(N / 2, N), approvedBy: ['bob'] });
    await s.apply('2026-11-28T12:00:00Z');
    s.git.reads.length = 0;
    const parse = vi.spyOn(JSON, 'parse');
    const notes = new Set(s.git.notes.values());
    await s.apply('2026-11-28T13:00:00Z', { dryRun: true, github: false });
    expect(parse.mock.calls.filter(([text]) => notes.has(text))).toHaveLength(2);
    expect(s.git.reads).toEqual(['blobsAt HEAD', 'readNotes 2']);
  });

  it('records the evidence of every grant of the commit in one note', async () => {
    const s = new Scenario({ 'policies/vpn.yaml': POLICY });
    const merge = s.mergePullRequest({
      number: 1,
      author: 'alice',
      files: grants(0, N),
      approvedBy: ['bob'],
    });
    const report = await s.apply('2026-11-28T12:00:00Z');
    expect(report.recorded).toBe(1);
    const note = JSON.parse(s.git.notes.get(merge)!) as { grants: Record<string, unknown> };
    expect(Object.keys(note.grants)).toHaveLength(N);
  });
});

describe('reap: grants from one commit', () => {
  it('checks what it removes with one listing of main’s grants, not a lookup per file', async () => {
    const s = new Scenario({ 'policies/vpn.yaml': POLICY });
    s.mergePullRequest({
      number: 1,
      author: 'alice',
      files: grants(0, N, '2026-11-28T13:00:00Z'),
      approvedBy: ['bob'],
    });
    await s.apply('2026-11-28T12:00:00Z');
    s.git.reads.length = 0;
    const reaped = await s.reap('2026-11-28T14:00:00Z');
    expect(reaped.revoked).toHaveLength(N);
    expect(reaped.pushed).toBe(true);
    expect(s.git.reads.filter((r) => r.startsWith('blobsAt'))).toEqual(['blobsAt HEAD']);
  });
});
