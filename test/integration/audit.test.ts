import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFirstParentHistory } from '../../src/adapters/git/history.js';
import { auditEvents, describeEvent } from '../../src/audit/lifecycle-events.js';
import type { ApprovalEvidence } from '../../src/policy/approval.js';
import { evidenceSigner } from '../../src/policy/evidence-signature.js';
import { SchemaRegistry } from '../../src/policy/schema-registry.js';
import { loadAuditHistory } from '../../src/adapters/git/audit-log.js';
import { aGrant } from '../support/builders.js';
import { cli, cliIn } from '../support/cli.js';
import { tempRepo, type TempRepo } from '../support/repo.js';

/**
 * The audit log from git alone: a real history with merges, a squash, an extension, approval notes,
 * a reaper commit, a removal by hand, a re-grant under the same id and a rename.
 */
let repo: TempRepo;
const POLICY = (max: string) => `target: { name: vpn, type: exec, command: [./scripts/vpn.sh] }
roles:
  ops: { maxDuration: ${max}, approvals: 1, approvers: [bob] }
`;

function git(date: string, author: string, ...args: string[]): string {
  const [name, email] = author.split('|');
  return execFileSync('git', args, {
    cwd: repo.dir,
    encoding: 'utf8',
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: name,
      GIT_AUTHOR_EMAIL: email,
      GIT_COMMITTER_NAME: 'GitHub',
      GIT_COMMITTER_EMAIL: 'noreply@github.example',
      GIT_AUTHOR_DATE: date,
      GIT_COMMITTER_DATE: date,
    },
  }).trim();
}
function merge(pr: number, date: string, author: string, files: Record<string, string | null>): string {
  git(date, author, 'checkout', '-q', '-b', `pr-${pr}`, 'main');
  for (const [path, content] of Object.entries(files)) {
    if (content === null) git(date, author, 'rm', '-q', path);
    else repo.write({ [path]: content });
  }
  git(date, author, 'add', '-A');
  git(date, author, 'commit', '-q', '-m', `change for #${pr}`);
  git(date, author, 'checkout', '-q', 'main');
  git(
    date,
    'Merger|merger@example.test',
    'merge',
    '-q',
    '--no-ff',
    '-m',
    `Merge pull request #${pr} from acme/pr-${pr}`,
    `pr-${pr}`,
  );
  return git(date, author, 'rev-parse', 'HEAD');
}
// The apply workflow's evidence key; its public half is committed at .grantops/evidence-key.pub.
const keys = generateKeyPairSync('ed25519');
const signer = evidenceSigner(keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
const PUBLIC_KEY = keys.publicKey.export({ type: 'spki', format: 'pem' }).toString();

/** Records evidence as apply does (signed), or as a writer forging it would (`forged`: unsigned). */
function approve(commit: string, id: string, pr: number, approvers: string[], forged = false) {
  const blob = git('2026-01-01T00:00:00Z', 'x|x', 'rev-parse', `${commit}:grants/${id}.yaml`);
  let existing: { grantops: 1; grants: Record<string, unknown> } = { grantops: 1, grants: {} };
  try {
    existing = JSON.parse(
      git('2026-01-01T00:00:00Z', 'x|x', 'notes', '--ref=grantops', 'show', commit),
    ) as typeof existing;
  } catch {
    /* no note yet */
  }
  const evidence: ApprovalEvidence = {
    pr,
    headSha: commit,
    approvers,
    commit,
    blob,
    verifiedAt: '2026-11-01T10:05:00Z',
  };
  existing.grants[id] = forged ? evidence : { ...evidence, signature: signer.sign(id, evidence) };
  git(
    '2026-01-01T00:00:00Z',
    'grantops|g@x',
    'notes',
    '--ref=grantops',
    'add',
    '-f',
    '-m',
    JSON.stringify(existing),
    commit,
  );
}

beforeAll(() => {
  repo = tempRepo({ 'policies/vpn.yaml': POLICY('12h'), '.grantops/evidence-key.pub': PUBLIC_KEY });
  git('2026-11-01T09:00:00Z', 'Admin|admin@example.test', 'init', '-q', '-b', 'main');
  git('2026-11-01T09:00:00Z', 'Admin|admin@example.test', 'add', '-A');
  git('2026-11-01T09:00:00Z', 'Admin|admin@example.test', 'commit', '-q', '-m', 'access repo');
  const alice = aGrant().for('alice').on('vpn', 'ops').with('reason', 'INC-1 on call');
  const m1 = merge(1, '2026-11-01T10:00:00Z', 'Alice Dev|alice@example.test', {
    'grants/vpn/alice.yaml': alice.expiresAt('2026-11-01T14:00:00Z').yaml(),
  });
  approve(m1, 'vpn/alice', 1, ['bob']);
  const m2 = merge(2, '2026-11-01T13:00:00Z', 'Alice Dev|alice@example.test', {
    'grants/vpn/alice.yaml': alice.expiresAt('2026-11-01T20:00:00Z').yaml(),
  });
  approve(m2, 'vpn/alice', 2, ['bob']);
  // A squash merge whose approval was never recorded, and which is longer than 12h.
  repo.write({
    'grants/vpn/carol.yaml': aGrant().for('carol').on('vpn', 'ops').expiresAt('2026-11-03T10:00:00Z').yaml(),
  });
  git('2026-11-01T15:00:00Z', 'Carol Dev|carol@example.test', 'add', '-A');
  git('2026-11-01T15:00:00Z', 'Carol Dev|carol@example.test', 'commit', '-q', '-m', 'grant: carol ops (#3)');
  const m4 = merge(4, '2026-11-01T16:00:00Z', 'Dan Dev|dan@example.test', {
    'grants/vpn/dan.yaml': aGrant().for('dan').on('vpn', 'ops').expiresAt('2026-11-02T01:00:00Z').yaml(),
  });
  approve(m4, 'vpn/dan', 4, ['bob']);
  // Policy tightened later: it does not judge grants merged before it.
  merge(5, '2026-11-01T17:00:00Z', 'Admin|admin@example.test', { 'policies/vpn.yaml': POLICY('2h') });
  // The reaper, three hours late for alice.
  git(
    '2026-11-01T23:00:00Z',
    'grantops|grantops@users.noreply.github.com',
    'rm',
    '-q',
    'grants/vpn/alice.yaml',
  );
  git(
    '2026-11-01T23:00:00Z',
    'grantops|grantops@users.noreply.github.com',
    'commit',
    '-q',
    '-m',
    'grantops: revoke 1 expired grant(s)\n\nRevoked-Grant: vpn/alice',
  );
  merge(6, '2026-11-02T00:00:00Z', 'Bob Dev|bob@example.test', { 'grants/vpn/carol.yaml': null });
  const m7 = merge(7, '2026-11-02T00:30:00Z', 'Dan Dev|dan@example.test', {
    'grants/vpn/dan.yaml': null,
    'grants/vpn/dan-ops.yaml': aGrant().for('dan').on('vpn', 'ops').expiresAt('2026-11-02T01:00:00Z').yaml(),
  });
  // A note written by hand, not by the apply workflow: it shows in the log, and --verify flags it.
  approve(m7, 'vpn/dan-ops', 7, ['bob'], true);
  const m8 = merge(8, '2026-11-02T08:00:00Z', 'Alice Dev|alice@example.test', {
    'grants/vpn/alice.yaml': alice.expiresAt('2026-11-02T09:00:00Z').yaml(),
  });
  approve(m8, 'vpn/alice', 8, ['bob']);
});
afterAll(() => repo.cleanup());

interface AuditJson {
  events: {
    time: string;
    type: string;
    grant: string;
    user: string;
    commit: string;
    pr?: number;
    author: string;
    changes?: string[];
    approvers?: string[];
    regranted?: boolean;
    renamedFrom?: string;
  }[];
  activeAt?: { grant: string; user: string; since: string; pr?: number; approvers?: string[] }[];
  violations?: { kind: string; grant: string; message: string }[];
}
const audit = async (...args: string[]) => {
  const r = await cli(repo.dir, 'audit', '--format', 'json', '--now', '2026-11-02T12:00:00Z', ...args);
  return { ...r, doc: JSON.parse(r.stdout) as AuditJson };
};

describe('grantops audit', () => {
  it('tells every lifecycle from git alone: requested, approved, modified, revoked, removed, renamed, re-granted', async () => {
    const { code, doc } = await audit('--user', 'alice');
    expect(code).toBe(0);
    expect(
      doc.events.map(
        (e) =>
          `${e.time} ${e.type} ${e.grant}${e.pr ? ` #${e.pr}` : ''} ${e.author}${e.regranted ? ' regranted' : ''}`,
      ),
    ).toEqual(
      [
        '2026-11-01T10:00:00Z requested vpn/alice #1 Alice Dev <alice@example.test>',
        '2026-11-01T10:05:00Z approved vpn/alice #1 Alice Dev <alice@example.test>',
        '2026-11-01T10:05:00Z approved vpn/alice #2 Alice Dev <alice@example.test>',
        '2026-11-01T13:00:00Z modified vpn/alice #2 Alice Dev <alice@example.test>',
        '2026-11-01T23:00:00Z revoked vpn/alice grantops <grantops@users.noreply.github.com>',
        '2026-11-02T08:00:00Z requested vpn/alice #8 Alice Dev <alice@example.test> regranted',
        '2026-11-01T10:05:00Z approved vpn/alice #8 Alice Dev <alice@example.test>',
      ].sort((a, b) => (a.slice(0, 20) < b.slice(0, 20) ? -1 : a.slice(0, 20) > b.slice(0, 20) ? 1 : 0)),
    );
    expect(doc.events.find((e) => e.type === 'modified')?.changes).toEqual([
      'expiresAt: 2026-11-01T14:00:00Z -> 2026-11-01T20:00:00Z',
    ]);
    const all = await audit();
    expect(
      all.doc.events.filter((e) => e.grant === 'vpn/carol').map((e) => [e.type, e.pr, e.author]),
    ).toEqual([
      ['requested', 3, 'Carol Dev <carol@example.test>'],
      ['removed', 6, 'Bob Dev <bob@example.test>'],
    ]);
    expect(all.doc.events.find((e) => e.renamedFrom)).toMatchObject({
      type: 'modified',
      grant: 'vpn/dan-ops',
      renamedFrom: 'vpn/dan',
      pr: 7,
    });
  });

  it('answers who had access at an instant, under which grant', async () => {
    const { doc } = await audit('--at', '2026-11-01T16:30:00Z');
    expect(doc.activeAt?.map((a) => [a.grant, a.user, a.pr, a.approvers])).toEqual([
      ['vpn/alice', 'alice', 2, ['bob']],
      ['vpn/carol', 'carol', 3, undefined],
      ['vpn/dan', 'dan', 4, ['bob']],
    ]);
    const later = await audit('--at', '2026-11-01T21:00:00Z', '--user', 'alice');
    expect(later.doc.activeAt).toEqual([]); // expired at 20:00 though removed only at 23:00
  });

  it('--verify reports unapproved grants, access past expiry, and grants over the policy in force when merged', async () => {
    const r = await audit('--verify', '--tolerance', '1h');
    expect(r.code).toBe(1);
    const carolCommit = r.doc.events.find((e) => e.grant === 'vpn/carol')!.commit.slice(0, 7);
    expect(r.doc.violations?.map((v) => `${v.kind} ${v.grant}: ${v.message}`)).toEqual([
      'overdue vpn/alice: revoked 3h after expiresAt (tolerance 1h)',
      // Re-granted, expired at 09:00 and still in the repo at "now" (12:00): the reaper is behind.
      'overdue vpn/alice: still present 3h after expiresAt (tolerance 1h)',
      `unapproved vpn/carol: no approval evidence recorded for commit ${carolCommit} (PR #3)`,
      'max-duration vpn/carol: lasted 1d 19h, over the 12h maximum of the policy in force when it was merged',
      `forged-evidence vpn/dan-ops: approval evidence on ${r.doc.events.find((e) => e.grant === 'vpn/dan-ops')!.commit.slice(0, 7)} (PR #7, by bob) is not signed by the evidence key: it was not written by the apply workflow`,
      'overdue vpn/dan-ops: still present 11h after expiresAt (tolerance 1h)',
    ]);
    // An auditor who holds the key out of band: a different key finds every record forged.
    const other = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const keyFile = join(repo.dir, '..', `other-key-${process.pid}.pub`);
    writeFileSync(keyFile, other);
    try {
      const wrong = await audit('--verify', '--evidence-key', keyFile);
      expect(wrong.doc.violations?.filter((v) => v.kind === 'forged-evidence').map((v) => v.grant)).toEqual([
        'vpn/alice',
        'vpn/alice',
        'vpn/alice',
        'vpn/dan',
        'vpn/dan-ops',
      ]);
    } finally {
      rmSync(keyFile, { force: true });
    }
    // Carol's grant was removed before it expired: not overdue. Dan's was merged under the 12h policy: not over.

    // An auditor scopes the check to a period: only what landed (or ended) in it.
    const day2 = await audit('--verify', '--since', '2026-11-02T00:00:00Z');
    expect(day2.doc.violations?.map((v) => `${v.kind} ${v.grant}`)).toEqual([
      'overdue vpn/alice',
      'forged-evidence vpn/dan-ops',
      'overdue vpn/dan-ops',
    ]);
  });

  it('warns that a shallow clone cannot tell the whole story', async () => {
    const shallow = join(repo.dir, '..', `shallow-${Date.now()}`);
    execFileSync('git', ['clone', '-q', '--depth=2', `file://${repo.dir}`, shallow]);
    try {
      const r = await cli(shallow, 'audit', '--format', 'json');
      expect(r.code).toBe(0);
      expect(r.stderr).toContain('this clone is shallow');
      const full = await audit();
      expect(full.stderr).not.toContain('shallow');
    } finally {
      rmSync(shallow, { recursive: true, force: true });
    }
  });

  it('--jobs picks how many git log processes read the line, and is checked', async () => {
    const one = await audit('--jobs', '1');
    const four = await audit('--jobs', '4');
    expect(four.doc).toEqual(one.doc);
    const bad = await cli(repo.dir, 'audit', '--jobs', '0');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--jobs');
  });

  it('--user and --role read back only their lifecycles from the cache, and answer as a cold read', async () => {
    const args = ['--user', 'ALICE', '--role', 'ops', '--verify', '--at', '2026-11-01T16:30:00Z'];
    await audit();
    const warm = await cliIn(
      repo.dir,
      ['audit', '--format', 'json', '--now', '2026-11-02T12:00:00Z', ...args],
      {
        env: { GRANTOPS_DEBUG: '1' },
      },
    );
    expect(warm.stderr).toContain('"mode":"warm"');
    const cold = await audit(...args, '--no-cache');
    expect(warm.stdout).toBe(cold.stdout);
    expect(cold.doc.events.map((e) => e.grant)).toContain('vpn/alice');
    expect(cold.doc.activeAt?.map((a) => a.grant)).toEqual(['vpn/alice']);
    // A target nobody selected had is still told from a typo.
    expect((await audit('--user', 'alice', '--target', 'vpn')).code).toBe(0);
    const typo = await cli(repo.dir, 'audit', '--user', 'alice', '--target', 'vnp');
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('vnp');
  });

  it('prints table, csv and markdown', async () => {
    const table = await cli(repo.dir, 'audit', '--user', 'carol', '--now', '2026-11-02T12:00:00Z');
    expect(table.stdout).toMatch(/^Events\nTIME\s+TYPE\s+GRANT/);
    const csv = await cli(
      repo.dir,
      'audit',
      '--user',
      'carol',
      '--format',
      'csv',
      '--now',
      '2026-11-02T12:00:00Z',
    );
    expect(csv.stdout.split('\r\n')[0]).toBe('time,type,grant,user,target,role,pr,author,detail,commit');
    expect(csv.stdout).toContain(
      '2026-11-01T15:00:00Z,requested,vpn/carol,carol,vpn,ops,#3,Carol Dev <carol@example.test>,',
    );
    const md = await cli(
      repo.dir,
      'audit',
      '--user',
      'carol',
      '--format',
      'markdown',
      '--now',
      '2026-11-02T12:00:00Z',
    );
    expect(md.stdout).toContain('| time | type | grant |');
  });

  it('reads the same history whether one git log reads main’s line or three read a stretch each', async () => {
    // exactJobs lists the line before the first git log starts, so three processes read it whatever
    // the machine's load (by default the split covers only what the first has not read yet).
    const big = tempRepo({});
    try {
      execFileSync('git', ['init', '-q', '-b', 'main', big.dir]);
      let stream = '';
      const present = new Set<number>();
      let revocations = 0;
      for (let i = 0; i < 3000; i++) {
        if (i % 7 === 6 && present.delete(i % 40)) revocations++;
        else if (i % 7 !== 6) present.add(i % 40);
        const body = `user: u${i % 40}\ntarget: vpn\nrole: ops\nreason: r${i}\nexpiresAt: 2026-12-01T00:00:00Z\n`;
        const message =
          i % 7 === 6
            ? 'grantops: revoke 1 expired grant(s)\n\nRevoked-Grant: vpn/u' + (i % 40)
            : `change ${i}`;
        stream += `commit refs/heads/main\ncommitter T <t@x> ${1_780_000_000 + i * 60} +0000\ndata ${Buffer.byteLength(message)}\n${message}\n`;
        stream +=
          i % 7 === 6
            ? `D grants/vpn/u${i % 40}.yaml\n`
            : `M 100644 inline grants/vpn/u${i % 40}.yaml\ndata ${Buffer.byteLength(body)}\n${body}\n`;
      }
      execFileSync('git', ['fast-import', '--quiet'], { cwd: big.dir, input: stream });
      const read = async (jobs: number) => {
        const shas: string[] = [];
        const stats = await readFirstParentHistory(
          big.dir,
          ['grants', 'policies'],
          'main',
          (c) => shas.push(c.sha),
          { jobs, minCommitsPerJob: 1, exactJobs: true },
        );
        return { shas, stats };
      };
      const one = await read(1);
      expect(one.stats).toEqual({ commits: 3000, processes: 1 });
      // Later stretches often finish their git log before their turn; a stretch that held its own
      // end must stop there (it once read on past it: 3,473 commits of 3,000). Several reads, since
      // how far each git log gets ahead depends on the machine.
      for (let k = 0; k < 8; k++) {
        const three = await read(3);
        expect(three.stats).toEqual({ commits: 3000, processes: 3 });
        expect(three.shas).toEqual(one.shas);
      }

      const events = async (jobs: number) =>
        auditEvents(
          await loadAuditHistory(big.dir, new SchemaRegistry(), 'main', {
            jobs,
            minCommitsPerJob: 1,
            exactJobs: true,
          }),
        ).map(describeEvent);
      const sequential = await events(1);
      expect(sequential.filter((e) => e.type === 'revoked')).toHaveLength(revocations);
      expect(revocations).toBeGreaterThan(400);
      expect(await events(3)).toEqual(sequential);
    } finally {
      big.cleanup();
    }
  });
});
