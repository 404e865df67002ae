// TEMPORARY red-team file: delete before finishing.
import { chmodSync, existsSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { aGrant } from '../support/builders.js';
import { FakeGitHub } from '../support/github-server.js';
import { tempRepo, type TempRepo } from '../support/repo.js';

const VPN = `#!/usr/bin/env node
const fs = require('node:fs');
const file = process.env.VPN_STATE;
const verb = process.argv[2];
if (process.env.ENV_DUMP) fs.writeFileSync(process.env.ENV_DUMP, JSON.stringify(Object.keys(process.env)));
const state = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : [];
if (verb === 'list') { process.stdout.write(JSON.stringify(state)); process.exit(0); }
const req = JSON.parse(fs.readFileSync(0, 'utf8'));
const next = state.filter((e) => !(e.user === req.user && e.role === req.role));
if (verb === 'grant') next.push({ user: req.user, role: req.role });
fs.writeFileSync(file, JSON.stringify(next));
`;
const policy = (enforce = false) => `target: { name: vpn, type: exec, command: [./scripts/vpn.cjs]${enforce ? ', enforce: true, enforceMaxFraction: 1' : ''} }
roles:
  ops: { maxDuration: 12h, approvals: 1, approvers: [bob] }
`;

let gh: FakeGitHub;
const cleanups: (() => void)[] = [];
let nextPr = 1;
beforeAll(async () => {
  gh = await FakeGitHub.start({ token: 'tok' });
});
afterAll(async () => {
  await gh.stop();
  for (const c of cleanups) c();
});

interface Ctx {
  repo: TempRepo;
  state: string;
  dir: string;
}
function setup(enforce = false, initialState: { user: string; role: string }[] = []): Ctx {
  const repo = tempRepo({ 'policies/vpn.yaml': policy(enforce), 'scripts/vpn.cjs': VPN }, { git: false });
  chmodSync(join(repo.dir, 'scripts/vpn.cjs'), 0o755);
  repo.git('init', '-q', '-b', 'main');
  repo.commit('access repo');
  const dir = mkdtempSync(join(tmpdir(), 'rt-'));
  const state = join(dir, 'vpn.json');
  writeFileSync(state, JSON.stringify(initialState));
  cleanups.push(() => {
    repo.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });
  return { repo, state, dir };
}

/** A PR: branch from main, mutate(), commit, merge --no-ff, register on the fake GitHub. */
function pr(
  c: Ctx,
  author: string,
  mutate: (r: TempRepo) => void,
  reviews: { user: string; state?: string }[] = [],
): { merge: string; head: string; number: number } {
  const number = nextPr++;
  const branch = `pr-${number}`;
  c.repo.git('checkout', '-q', '-b', branch, 'main');
  mutate(c.repo);
  const head = c.repo.commit(`pr ${number}`);
  c.repo.git('checkout', '-q', 'main');
  c.repo.git('merge', '-q', '--no-ff', '-m', `Merge pull request #${number}`, branch);
  const merge = c.repo.git('rev-parse', 'HEAD');
  const tree = new Map<string, string>();
  for (const line of c.repo.git('ls-tree', '-r', head).split('\n')) {
    const [meta, path] = line.split('\t');
    const sha = meta?.split(' ')[2];
    if (path && sha) tree.set(path, sha);
  }
  gh.trees.set(head, tree);
  gh.repoPulls('acme/access').push({
    number,
    author,
    headSha: head,
    headRef: branch,
    mergeCommitSha: merge,
    mergedAt: '2026-11-28T11:00:00Z',
    commits: [head, merge],
    reviews: reviews.map((r) => ({ user: r.user, state: r.state ?? 'APPROVED', commitId: head })),
  });
  return { merge, head, number };
}

async function cli(c: Ctx, ...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    stdout: (s) => (stdout += s),
    stderr: (s) => (stderr += s),
    color: false,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      GITHUB_TOKEN: 'tok',
      GITHUB_REPOSITORY: 'acme/access',
      GITHUB_API_URL: gh.url,
      VPN_STATE: c.state,
      ENV_DUMP: join(c.dir, 'env.json'),
      SECRET_DB_URL: 'postgres://secret',
    },
    cwd: c.repo.dir,
  });
  return { code, stdout, stderr };
}
const vpn = (c: Ctx) => (existsSync(c.state) ? readFileSync(c.state, 'utf8') : '[]');
const log = (name: string, ...x: unknown[]) => console.log(`\n##### ${name}\n`, ...x);
const g = (user: string, exp: string) => aGrant().for(user).on('vpn', 'ops').expiresAt(exp).yaml();

describe('redteam', () => {
  it('S8 typechange: symlink round-trip keeps the old approval for new content', async () => {
    const c = setup();
    pr(c, 'carol', (r) => r.write({ 'grants/mallory.yaml': g('mallory', '2026-11-28T18:00:00Z') }), [
      { user: 'bob' },
    ]);
    let a = await cli(c, 'apply', '--now', '2026-11-28T12:00:00Z');
    log('S8 first apply', a.code, vpn(c));
    // PR 2: regular file -> symlink (status T)
    pr(c, 'mallory', (r) => {
      unlinkSync(join(r.dir, 'grants/mallory.yaml'));
      symlinkSync('../README', join(r.dir, 'grants/mallory.yaml'));
    });
    // PR 3: symlink -> regular file with NEW content (status T again)
    pr(c, 'mallory', (r) => {
      unlinkSync(join(r.dir, 'grants/mallory.yaml'));
      r.write({ 'grants/mallory.yaml': g('mallory', '2026-11-29T05:00:00Z') });
    });
    c.repo.git('notes', '--ref=grantops', 'list');
    a = await cli(c, 'apply', '--now', '2026-11-28T17:30:00Z', '--json');
    log('S8 apply after typechange', a.code, a.stdout.slice(0, 1500), a.stderr.slice(0, 500));
    a = await cli(c, 'apply', '--now', '2026-11-29T04:00:00Z', '--json');
    log('S8 apply next day 04:00', a.code, vpn(c), a.stdout.slice(0, 600));
    const r = await cli(c, 'reap', '--now', '2026-11-29T04:00:00Z');
    log('S8 reap 04:00', r.code, vpn(c), r.stderr.slice(0, 300));
    // hijack: change user of the approved grant (user differs: note pins userId -> delete note)
    const c2 = setup();
    pr(c2, 'carol', (rr) => rr.write({ 'grants/alice.yaml': g('alice', '2026-11-28T18:00:00Z') }), [
      { user: 'bob' },
    ]);
    await cli(c2, 'apply', '--now', '2026-11-28T12:00:00Z');
    pr(c2, 'mallory', (rr) => {
      unlinkSync(join(rr.dir, 'grants/alice.yaml'));
      symlinkSync('../README', join(rr.dir, 'grants/alice.yaml'));
    });
    pr(c2, 'mallory', (rr) => {
      unlinkSync(join(rr.dir, 'grants/alice.yaml'));
      rr.write({ 'grants/alice.yaml': g('mallory', '2026-11-28T23:00:00Z') });
    });
    a = await cli(c2, 'apply', '--now', '2026-11-28T13:00:00Z', '--json');
    log('S8b hijack alice grant to mallory (note present)', a.code, vpn(c2), a.stdout.slice(0, 800));
    c2.repo.git('update-ref', '-d', 'refs/notes/grantops');
    a = await cli(c2, 'apply', '--now', '2026-11-28T13:05:00Z', '--json');
    log('S8b hijack after deleting notes', a.code, vpn(c2), a.stdout.slice(0, 800));
    log('S8 env seen by exec script (CLI)', readFileSync(join(c2.dir, 'env.json'), 'utf8'));
  });

  it('S1 modify own approved grant (extend / invalidate) without approval', async () => {
    const c = setup();
    pr(c, 'carol', (r) => r.write({ 'grants/mallory.yaml': g('mallory', '2026-11-28T18:00:00Z') }), [
      { user: 'bob' },
    ]);
    await cli(c, 'apply', '--now', '2026-11-28T12:00:00Z');
    pr(c, 'mallory', (r) => r.write({ 'grants/mallory.yaml': g('mallory', '2026-11-29T05:00:00Z') }));
    let a = await cli(c, 'apply', '--now', '2026-11-28T17:00:00Z');
    log('S1 apply after unapproved extension', a.code, vpn(c), a.stdout.slice(0, 500));
    a = await cli(c, 'apply', '--now', '2026-11-28T19:00:00Z');
    const r = await cli(c, 'reap', '--now', '2026-11-28T19:00:00Z');
    log('S1 after original expiry: apply+reap', a.code, r.code, vpn(c));
    // invalidate instead
    pr(c, 'mallory', (rr) =>
      rr.write({ 'grants/mallory.yaml': aGrant().for('mallory').on('vpn', 'ops').with('x', 1).expiresAt('2026-11-29T05:00:00Z').yaml() }),
    );
    a = await cli(c, 'apply', '--now', '2026-12-10T00:00:00Z');
    const r2 = await cli(c, 'reap', '--now', '2026-12-10T00:00:00Z');
    log('S1b invalid grant, 12 days later: apply+reap', a.code, r2.code, vpn(c), a.stdout.slice(0, 400));
  });

  it('S2 case collision BOB.yaml vs bob.yaml', async () => {
    const c = setup(true);
    pr(c, 'carol', (r) => r.write({ 'grants/dave.yaml': g('dave', '2026-11-28T18:00:00Z') }), [{ user: 'bob' }]);
    await cli(c, 'apply', '--now', '2026-11-28T12:00:00Z');
    log('S2 before', vpn(c));
    c.repo.git('checkout', '-q', '-b', 'attack', 'main');
    c.repo.write({ 'grants/DAVE.yaml': g('mallory', '2026-11-28T20:00:00Z') });
    c.repo.commit('attack');
    const v = await cli(c, 'validate', '--base', 'main', '--now', '2026-11-28T12:10:00Z', '--json');
    log('S2 validate --base main on attack branch', v.code, v.stdout);
    c.repo.git('checkout', '-q', 'main');
    c.repo.git('branch', '-D', 'attack');
    pr(c, 'mallory', (r) => r.write({ 'grants/DAVE.yaml': g('mallory', '2026-11-28T20:00:00Z') }));
    const a = await cli(c, 'apply', '--now', '2026-11-28T12:30:00Z');
    log('S2 after DAVE.yaml merged (enforce target)', a.code, vpn(c), a.stdout.slice(0, 600));
  });

  it('S3 forged note denies legit grant (userId pin)', async () => {
    const c = setup(true);
    const m = pr(c, 'carol', (r) => r.write({ 'grants/dave.yaml': g('dave', '2026-11-28T18:00:00Z') }), [
      { user: 'bob' },
    ]);
    await cli(c, 'apply', '--now', '2026-11-28T12:00:00Z');
    log('S3 before', vpn(c));
    const blob = c.repo.git('rev-parse', `${m.merge}:grants/dave.yaml`);
    const note = { grantops: 1, grants: { dave: { pr: 1, headSha: m.head, approvers: ['bob'], commit: m.merge, blob, userId: 424242, verifiedAt: '2026-11-28T12:00:00Z' } } };
    c.repo.git('notes', '--ref=grantops', 'add', '-f', '-m', JSON.stringify(note), m.merge);
    const a = await cli(c, 'apply', '--now', '2026-11-28T12:30:00Z');
    log('S3 after forged note', a.code, vpn(c), a.stdout.slice(0, 600));
  });

  it('S4 forged note + unapproved overlapping grant fools the reaper', async () => {
    const c = setup();
    pr(c, 'carol', (r) => r.write({ 'grants/mallory.yaml': g('mallory', '2026-11-28T18:00:00Z') }), [
      { user: 'bob' },
    ]);
    await cli(c, 'apply', '--now', '2026-11-28T12:00:00Z');
    const m = pr(c, 'mallory', (r) => r.write({ 'grants/mallory2.yaml': g('mallory', '2026-11-29T05:00:00Z') }));
    const blob = c.repo.git('rev-parse', `${m.merge}:grants/mallory2.yaml`);
    const note = { grantops: 1, grants: { mallory2: { pr: m.number, headSha: m.head, approvers: ['bob'], commit: m.merge, blob, verifiedAt: '2026-11-28T12:00:00Z' } } };
    c.repo.git('notes', '--ref=grantops', 'add', '-f', '-m', JSON.stringify(note), m.merge);
    const r = await cli(c, 'reap', '--now', '2026-11-28T18:30:00Z');
    log('S4 reap after expiry', r.code, vpn(c), r.stderr.slice(0, 400), c.repo.git('log', '-1', '--format=%B'));
    const a = await cli(c, 'apply', '--now', '2026-11-28T19:00:00Z');
    log('S4 apply afterwards (no --since)', a.code, vpn(c), a.stdout.slice(0, 400));
  });

  it('S5 planted expired grant / removed unapproved grant revokes non-grantops access', async () => {
    const c = setup(false, [{ user: 'carol', role: 'ops' }]);
    let a = await cli(c, 'apply', '--now', '2026-11-28T12:00:00Z');
    log('S5 before (carol = drift)', a.code, vpn(c), a.stdout.slice(0, 300));
    pr(c, 'mallory', (r) => r.write({ 'grants/x.yaml': g('carol', '2026-11-28T10:00:00Z') }));
    a = await cli(c, 'apply', '--now', '2026-11-28T12:30:00Z');
    log('S5 after planting expired grant for carol', a.code, vpn(c), a.stdout.slice(0, 400));
  });

  it('S6 swapped-parent push replays an old approval after early removal', async () => {
    const c = setup();
    const p1 = pr(c, 'carol', (r) => r.write({ 'grants/mallory.yaml': g('mallory', '2026-11-28T20:00:00Z') }), [
      { user: 'bob' },
    ]);
    pr(c, 'carol', (r) => r.write({ 'grants/dave.yaml': g('dave', '2026-11-28T20:00:00Z') }), [{ user: 'bob' }]);
    await cli(c, 'apply', '--now', '2026-11-28T12:00:00Z');
    const before = c.repo.git('rev-parse', 'main');
    pr(c, 'sec', (r) => r.git('rm', '-q', 'grants/mallory.yaml'), [{ user: 'bob' }]);
    let a = await cli(c, 'apply', '--now', '2026-11-28T12:10:00Z', '--since', before);
    log('S6 after security removal', a.code, vpn(c));
    // attacker: merge commit whose FIRST parent is PR1's head, second parent main; tree = main + mallory.yaml
    c.repo.git('checkout', '-q', '-b', 'tmp', 'main');
    c.repo.git('checkout', p1.head, '--', 'grants/mallory.yaml');
    c.repo.git('add', '-A');
    const tree = c.repo.git('write-tree');
    const main = c.repo.git('rev-parse', 'main');
    const forged = c.repo.git('commit-tree', tree, '-p', p1.head, '-p', main, '-m', 'Merge');
    c.repo.git('checkout', '-q', '-f', 'main');
    c.repo.git('reset', '-q', '--hard', forged);
    c.repo.git('branch', '-D', 'tmp');
    a = await cli(c, 'apply', '--now', '2026-11-28T12:20:00Z', '--json');
    log('S6 after swapped-parent push', a.code, vpn(c), a.stdout.slice(0, 1200));
  });

  it('S10 same PR changes policy target (team) and adds grant on a 0-approval role', async () => {
    const c = setup();
    c.repo.write({ 'policies/docs.yaml': `target: { name: docs, type: github-team, org: acme, team: docs-readers }
roles:
  member: { maxDuration: 8h, approvals: 0 }
  maintainer: { maxDuration: 2h, approvals: 1, approvers: [bob] }
` });
    c.repo.commit('docs policy');
    pr(c, 'mallory', (r) => {
      r.write({ 'policies/docs.yaml': `target: { name: docs, type: github-team, org: acme, team: admins }
roles:
  member: { maxDuration: 8h, approvals: 0 }
  maintainer: { maxDuration: 2h, approvals: 1, approvers: [bob] }
` });
      r.write({ 'grants/m-docs.yaml': aGrant().for('mallory').on('docs', 'member').expiresAt('2026-11-28T18:00:00Z').yaml() });
    });
    const a = await cli(c, 'apply', '--now', '2026-11-28T12:00:00Z');
    log('S10 same-PR policy retarget', a.code, [...gh.team('acme/admins').keys()], [...gh.team('acme/docs-readers').keys()], a.stdout.slice(0, 500), a.stderr.slice(0,300));
  });

  it('S4-control reaper without the forged note', async () => {
    const c = setup();
    pr(c, 'carol', (r) => r.write({ 'grants/mallory.yaml': g('mallory', '2026-11-28T18:00:00Z') }), [{ user: 'bob' }]);
    await cli(c, 'apply', '--now', '2026-11-28T12:00:00Z');
    pr(c, 'mallory', (r) => r.write({ 'grants/mallory2.yaml': g('mallory', '2026-11-29T05:00:00Z') }));
    const r = await cli(c, 'reap', '--now', '2026-11-28T18:30:00Z');
    log('S4-control reap', r.code, vpn(c));
  });

  it('S12 rename of an approved grant file', async () => {
    const c = setup();
    pr(c, 'carol', (r) => r.write({ 'grants/mallory.yaml': g('mallory', '2026-11-28T18:00:00Z') }), [{ user: 'bob' }]);
    await cli(c, 'apply', '--now', '2026-11-28T12:00:00Z');
    const before = c.repo.git('rev-parse', 'main');
    pr(c, 'mallory', (r) => r.git('mv', 'grants/mallory.yaml', 'grants/b/mallory.yaml'));
    const a = await cli(c, 'apply', '--now', '2026-11-28T12:30:00Z', '--since', before);
    log('S12 rename', a.code, vpn(c), a.stdout.slice(0, 400));
  });

  it('S14 team approver removed from team later', async () => {
    const c = setup(true);
    c.repo.write({ 'policies/vpn.yaml': policy(true).replace('[bob]', '["@acme/sec"]') });
    c.repo.commit('team approvers');
    gh.team('acme/sec').set('lea', { login: 'lea', role: 'member' });
    pr(c, 'carol', (r) => r.write({ 'grants/dave.yaml': g('dave', '2026-11-28T18:00:00Z') }), [{ user: 'lea' }]);
    await cli(c, 'apply', '--now', '2026-11-28T12:00:00Z');
    log('S14 before', vpn(c));
    gh.team('acme/sec').delete('lea');
    const a = await cli(c, 'apply', '--now', '2026-11-28T12:30:00Z');
    log('S14 after lea leaves team', a.code, vpn(c), a.stdout.slice(0, 400));
  });
});
