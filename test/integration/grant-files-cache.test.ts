import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { gitGrantHistory, loadAuditHistory } from '../../src/adapters/git/audit-log.js';
import { SchemaRegistry } from '../../src/policy/schema-registry.js';
import { type Files, tempRepo, type TempRepo } from '../support/repo.js';

/**
 * State-based revocation reads every grant file main ever held (gitGrantHistory.grantFiles). From
 * the history cache it answers from the cache's columns, with what each role conferred memoized:
 * it must answer exactly as a cold read of the same tip, on histories the property test does not
 * make (policies with the same target in two files, postgres roles whose dbRoles change, grant files
 * that are no grant, symlinks, .yml beside .yaml, break-glass and extensions, merges whose second
 * parent brought the change, many appends, a cache left at a tip main was force-pushed away from).
 */
let repos: TempRepo[] = [];
afterEach(() => {
  for (const r of repos) r.cleanup();
  repos = [];
});

type Step = { write?: Files; remove?: string[]; mv?: [string, string][]; message: string };

const grant = (user: string, target: string, role: string, expires: string, extra = '') =>
  `user: ${user}\ntarget: ${target}\nrole: ${role}\nreason: r\nexpiresAt: ${expires}T00:00:00Z\n${extra}`;

const pg = (roles: Record<string, string[]>, name = 'db') =>
  `target: { name: ${name}, type: postgres, urlEnv: DB_URL }\nroles:\n${Object.entries(roles)
    .map(([r, db]) => `  ${r}: { maxDuration: 8h, approvals: 0, dbRoles: [${db.join(', ')}] }\n`)
    .join('')}`;

async function grantFiles(dir: string, cache: boolean) {
  const git = { root: dir, isShallow: () => Promise.resolve(false) };
  return gitGrantHistory(git, 'HEAD', { cache }).grantFiles();
}

function apply(repo: TempRepo, step: Step): void {
  for (const [from, to] of step.mv ?? []) repo.git('mv', from, to);
  for (const path of step.remove ?? []) rmSync(join(repo.dir, path), { force: true });
  if (step.write) {
    for (const path of Object.keys(step.write)) rmSync(join(repo.dir, path), { force: true });
    repo.write(step.write);
  }
  repo.commit(step.message);
}

/**
 * Grows a repository step by step; after each step whose index is in `readAt`, the cached read
 * (new commits folded onto the cache) and then a second cached read (nothing new) must equal a cold one.
 */
async function holds(steps: Step[], readAt: (i: number) => boolean = () => true) {
  const repo = tempRepo({}, { git: true });
  repos.push(repo);
  for (const [i, step] of steps.entries()) {
    apply(repo, step);
    if (!readAt(i)) continue;
    const cold = await grantFiles(repo.dir, false);
    expect(await grantFiles(repo.dir, true), `folded onto the cache after step ${i}`).toEqual(cold);
    expect(await grantFiles(repo.dir, true), `from the cache alone after step ${i}`).toEqual(cold);
  }
  return repo;
}

describe('grantFiles from the history cache answers as a cold read', () => {
  it('two policy files with the same target: a role conferred what the first file in force says', async () => {
    const repo = await holds([
      {
        write: { 'policies/a.yaml': pg({ ro: ['from_a'] }), 'policies/b.yaml': pg({ ro: ['from_b'] }) },
        message: 'policies',
      },
      { write: { 'grants/g1.yaml': grant('alice', 'db', 'ro', '2026-12-01') }, message: 'grant g1' },
      { write: { 'policies/a.yaml': pg({ ro: ['from_a2'] }) }, message: 'policy a changed' },
      { mv: [['policies/b.yaml', 'policies/0.yaml']], message: 'policy b renamed' },
      { write: { 'grants/g2.yaml': grant('bob', 'db', 'ro', '2026-12-01') }, message: 'grant g2' },
      { remove: ['policies/a.yaml'], message: 'policy a removed' },
    ]);
    const files = await grantFiles(repo.dir, false);
    // Whatever the tip the history is read from, the first file in path order answers: g1 landed
    // under a.yaml and b.yaml (a.yaml first), g2 under 0.yaml (b's text, renamed) and a.yaml.
    expect(files.map((f) => f.versions.map((v) => v.entitlements))).toEqual([[['from_a']], [['from_b']]]);
  });

  it("a postgres role's dbRoles changed, a target renamed, a policy removed and added back", async () => {
    await holds([
      { write: { 'policies/db.yaml': pg({ ro: ['r1'], rw: ['w1'] }) }, message: 'policy' },
      { write: { 'grants/g1.yaml': grant('alice', 'db', 'ro', '2026-12-01') }, message: 'g1' },
      { write: { 'policies/db.yaml': pg({ ro: ['r1', 'r2'], rw: ['w1'] }) }, message: 'ro widened' },
      { write: { 'grants/g1.yaml': grant('alice', 'db', 'rw', '2026-12-02') }, message: 'g1 to rw' },
      { write: { 'policies/db.yaml': pg({ ro: ['r1'] }, 'db2') }, message: 'target renamed' },
      { write: { 'grants/g2.yaml': grant('bob', 'db2', 'ro', '2026-12-01') }, message: 'g2' },
      { remove: ['policies/db.yaml'], message: 'policy removed' },
      { write: { 'grants/g3.yaml': grant('carol', 'db2', 'ro', '2026-12-01') }, message: 'g3' },
      { write: { 'policies/db.yaml': pg({ ro: ['r9'] }, 'db2') }, message: 'policy back' },
      { write: { 'grants/g3.yaml': grant('carol', 'db2', 'ro', '2026-12-03') }, message: 'g3 extended' },
    ]);
  });

  it('renames, a regrant under the same id, a rename onto an id that existed, cleanup vs removal', async () => {
    await holds(
      [
        { write: { 'policies/db.yaml': pg({ ro: ['r1'] }) }, message: 'policy' },
        { write: { 'grants/a.yaml': grant('alice', 'db', 'ro', '2026-12-01') }, message: 'a' },
        { mv: [['grants/a.yaml', 'grants/b.yaml']], message: 'a -> b' },
        { write: { 'grants/a.yaml': grant('bob', 'db', 'ro', '2026-12-02') }, message: 'a regranted' },
        { remove: ['grants/a.yaml'], message: 'grantops: revoke 1 expired grant(s)\n\nRevoked-Grant: a' },
        { mv: [['grants/b.yaml', 'grants/a.yaml']], message: 'b -> a (an id that existed)' },
        { write: { 'grants/a.yaml': grant('alice', 'db', 'ro', '2026-12-05') }, message: 'a extended' },
        { remove: ['grants/a.yaml'], message: 'remove a by hand' },
        { write: { 'grants/a.yaml': grant('carol', 'db', 'ro', '2026-12-06') }, message: 'a again' },
        {
          remove: ['grants/a.yaml'],
          write: { 'grants/c.yaml': grant('carol', 'db', 'ro', '2026-12-06') },
          message: 'a -> c in one commit with a revoke trailer\n\nRevoked-Grant: a',
        },
      ],
      (i) => i % 2 === 0 || i > 6,
    );
  });

  it('files that are no grant: unparseable YAML, a list, a symlink, .yml beside .yaml, a subfolder', async () => {
    await holds([
      { write: { 'policies/db.yaml': pg({ ro: ['r1'] }) }, message: 'policy' },
      { write: { 'grants/bad.yaml': 'user: [unclosed\n' }, message: 'bad yaml' },
      { write: { 'grants/list.yaml': '- user: alice\n- target: db\n' }, message: 'a list' },
      { write: { 'grants/link.yaml': { symlink: '../policies/db.yaml' } }, message: 'a symlink' },
      {
        write: {
          'grants/x.yaml': grant('alice', 'db', 'ro', '2026-12-01'),
          'grants/x.yml': grant('bob', 'db', 'ro', '2026-12-02'),
        },
        message: '.yaml and .yml',
      },
      { remove: ['grants/x.yaml'], message: 'x.yaml removed' },
      { write: { 'grants/team/y.yaml': grant('carol', 'db', 'ro', '2026-12-01') }, message: 'subfolder' },
      { write: { 'grants/bad.yaml': grant('dave', 'db', 'ro', '2026-12-01') }, message: 'bad fixed' },
      { write: { 'grants/x.yml': 'not: [a grant' }, message: 'x.yml broken' },
      { write: { 'grants/Bad Name!.yaml': grant('erin', 'db', 'ro', '2026-12-01') }, message: 'bad name' },
    ]);
  });

  it('a lone surrogate written as a YAML escape (the cache keeps strings as UTF-8)', async () => {
    const repo = await holds([
      { write: { 'policies/db.yaml': pg({ ro: ['r1'] }) }, message: 'policy' },
      { write: { 'grants/a.yaml': grant('"al\\ud800ice"', 'db', 'ro', '2026-12-01') }, message: 'a' },
      { write: { 'grants/b.yaml': grant('bøb', 'db', '"\\udc00"', '2026-12-01') }, message: 'b' },
    ]);
    const files = await grantFiles(repo.dir, true);
    expect(files.map((f) => [f.versions[0]!.user, f.versions[0]!.role])).toEqual([
      ['al\ufffdice', 'ro'],
      ['bøb', '\ufffd'],
    ]);
  });

  it('break-glass and extensions, and merges whose second parent brought the change', async () => {
    const repo = await holds([
      {
        write: {
          'policies/db.yaml': `target: { name: db, type: postgres, urlEnv: DB_URL }\nroles:\n  ro: { maxDuration: 8h, approvals: 0, dbRoles: [r1], breakGlass: { reviewWithin: 24h } }\n`,
        },
        message: 'policy',
      },
      {
        write: { 'grants/bg.yaml': grant('alice', 'db', 'ro', '2026-12-01', 'breakGlass: true\n') },
        message: 'break glass',
      },
      {
        write: {
          'grants/bg.yaml': grant(
            'alice',
            'db',
            'ro',
            '2026-12-04',
            'breakGlass: true\nextensions:\n  - { from: 2026-12-01T00:00:00Z, to: 2026-12-04T00:00:00Z, reason: more }\n',
          ),
        },
        message: 'extended',
      },
    ]);
    // A pull request branch, main moving meanwhile, merged with a merge commit.
    repo.git('checkout', '-q', '-b', 'pr');
    apply(repo, { write: { 'grants/m.yaml': grant('bob', 'db', 'ro', '2026-12-02') }, message: 'm' });
    apply(repo, { write: { 'grants/bg.yaml': grant('alice', 'db', 'ro', '2026-12-09') }, message: 'bg' });
    repo.git('checkout', '-q', 'main');
    apply(repo, { write: { 'grants/n.yaml': grant('carol', 'db', 'ro', '2026-12-02') }, message: 'n' });
    repo.git('merge', '-q', '--no-ff', '-m', 'Merge pull request #7 from x/pr', 'pr');
    const cold = await grantFiles(repo.dir, false);
    expect(cold.map((f) => f.id).sort()).toEqual(['bg', 'm', 'n']);
    expect(await grantFiles(repo.dir, true)).toEqual(cold);
    expect(await grantFiles(repo.dir, true)).toEqual(cold);
  });

  it('many appends (the cache is written again as one after 8), a lifecycle continued across them', async () => {
    const steps: Step[] = [{ write: { 'policies/db.yaml': pg({ ro: ['r0'] }) }, message: 'policy' }];
    for (let i = 1; i <= 20; i++) {
      const write: Files = {
        [`grants/g${i % 3}.yaml`]: grant(`u${i}`, 'db', 'ro', `2026-12-${10 + (i % 9)}`),
      };
      if (i % 4 === 0) write['policies/db.yaml'] = pg({ ro: [`r${i}`] });
      steps.push({ write, message: `step ${i}` });
      if (i % 5 === 0) steps.push({ remove: [`grants/g${i % 3}.yaml`], message: `drop ${i}` });
    }
    await holds(steps);
  }, 60_000);

  it('over 1,024 strings (the string table is then decoded at once when ASCII), with and without non-ASCII', async () => {
    const many = (from: number, user: (i: number) => string): Files =>
      Object.fromEntries(
        Array.from({ length: 300 }, (_, i) => [
          `grants/m${from + i}.yaml`,
          grant(user(from + i), 'db', 'ro', `2026-12-${String(10 + (i % 20))}`),
        ]),
      );
    await holds([
      { write: { 'policies/db.yaml': pg({ ro: ['r1'] }) }, message: 'policy' },
      { write: many(0, (i) => `u${i}`), message: '300 ASCII grants' },
      { write: many(1000, (i) => `ü${i}`), message: '300 more, non-ASCII users' },
      { write: { 'grants/m5.yaml': grant('x', 'db', 'ro', '2026-12-30') }, message: 'm5 changed' },
    ]);
  });

  it('a cache written at a tip main was then force-pushed away from is not used', async () => {
    const repo = await holds([
      { write: { 'policies/db.yaml': pg({ ro: ['r1'] }) }, message: 'policy' },
      { write: { 'grants/g1.yaml': grant('alice', 'db', 'ro', '2026-12-01') }, message: 'g1' },
      { write: { 'grants/g2.yaml': grant('bob', 'db', 'ro', '2026-12-01') }, message: 'g2' },
    ]);
    // main rewritten: g2 never landed, g1 was amended; the cache still describes the old line.
    repo.git('reset', '-q', '--hard', 'HEAD~2');
    apply(repo, { write: { 'grants/g1.yaml': grant('carol', 'db', 'ro', '2026-12-02') }, message: 'g1' });
    const cold = await grantFiles(repo.dir, false);
    expect(cold.map((f) => [f.id, f.versions[0]!.user])).toEqual([['g1', 'carol']]);
    expect(await grantFiles(repo.dir, true)).toEqual(cold);
    expect(await grantFiles(repo.dir, true)).toEqual(cold);
  });

  it("a subject's pull request number too large for any pull request is no pull request, cached or not", async () => {
    const repo = await holds([
      { write: { 'grants/a.yaml': grant('alice', 'db', 'ro', '2026-12-01') }, message: 'a (#99999999999)' },
      { write: { 'grants/b.yaml': grant('bob', 'db', 'ro', '2026-12-01') }, message: 'b (#123456789)' },
    ]);
    const prs = async (cache: boolean) =>
      (await loadAuditHistory(repo.dir, new SchemaRegistry(), 'HEAD', { cache })).lifecycles.map(
        (l) => l.versions[0]!.landed.pr,
      );
    expect(await prs(false)).toEqual([undefined, 123456789]);
    expect(await prs(true)).toEqual([undefined, 123456789]);
  });
});

describe('replace refs', () => {
  it('a local refs/replace commit cannot hide a grant main held from state-based revocation', async () => {
    const repo = tempRepo({}, { git: true });
    repos.push(repo);
    apply(repo, { write: { 'policies/db.yaml': pg({ read: ['app_read'] }) }, message: 'policy' });
    apply(repo, {
      write: { 'grants/db/alice.yaml': grant('alice', 'db', 'read', '2026-12-01') },
      message: 'grant alice',
    });
    const added = repo.git('rev-parse', 'HEAD');
    apply(repo, { remove: ['grants/db/alice.yaml'], message: 'remove alice by hand' });
    const before = await grantFiles(repo.dir, false);
    expect(before.map((f) => [f.id, f.onMain, f.endedBy])).toEqual([['db/alice', false, 'removal']]);
    // A stand-in for the commit that added the grant: its parent's tree, so history shows no grant.
    const parent = repo.git('rev-parse', `${added}^`);
    const standIn = repo.git('commit-tree', `${parent}^{tree}`, '-p', parent, '-m', 'grant alice');
    repo.git('replace', added, standIn);
    expect(repo.git('log', '--format=%s', '--name-only', '-2', '--', 'grants')).toBe('');
    for (const cache of [false, true, true])
      expect(await grantFiles(repo.dir, cache), `cache ${cache}`).toEqual(before);
  });
});
