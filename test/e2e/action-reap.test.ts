import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aGrant } from '../support/builders.js';
import { DIST_ACTION } from '../support/cli.js';
import { FakeGitHub } from '../support/github-server.js';
import { run } from '../support/process.js';
import { tempRepo, type TempRepo } from '../support/repo.js';

/** The bundled Action on schedule: reap, cleanup commit, expiry warnings, overdue issues, webhook. */
const VPN = `#!/usr/bin/env node
const fs = require('node:fs');
const file = process.env.VPN_STATE;
const verb = process.argv[2];
const state = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : [];
if (verb === 'list') { process.stdout.write(JSON.stringify(state)); process.exit(0); }
const req = JSON.parse(fs.readFileSync(0, 'utf8'));
if (req.user === 'stuck' && fs.existsSync(process.env.STUCK_FLAG)) { process.stderr.write('directory unavailable'); process.exit(1); }
fs.writeFileSync(file, JSON.stringify(state.filter((e) => !(e.user === req.user && e.role === req.role)).concat(verb === 'grant' ? [{ user: req.user, role: req.role }] : [])));
`;
const POLICY = `target: { name: vpn, type: exec, command: [./scripts/vpn.cjs], env: [VPN_STATE, STUCK_FLAG] }
roles:
  ops: { maxDuration: 1d, approvals: 0 }
alerts:
  before: [24h, 1h]
`;

let gh: FakeGitHub;
let seed: TempRepo;
let scratch: string;
let origin: string;
let hook: Server;
const posts: string[] = [];

beforeAll(async () => {
  gh = await FakeGitHub.start();
  hook = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      posts.push(body);
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  scratch = mkdtempSync(join(tmpdir(), 'grantops-action-reap-'));
  origin = join(scratch, 'origin.git');
  writeFileSync(join(scratch, 'stuck'), 'x');
  seed = tempRepo({ 'policies/vpn.yaml': POLICY, 'scripts/vpn.cjs': VPN });
  chmodSync(join(seed.dir, 'scripts/vpn.cjs'), 0o755);
  seed.git('init', '-q', '-b', 'main');
  // Policies first: a grant is judged by the policy at its commit's first parent.
  seed.commit('policies');
  seed.write({
    'grants/alice.yaml': aGrant().for('alice').on('vpn', 'ops').expiresAt('2026-11-28T11:00:00Z').yaml(),
    'grants/stuck.yaml': aGrant().for('stuck').on('vpn', 'ops').expiresAt('2026-11-28T11:30:00Z').yaml(),
    'grants/carol.yaml': aGrant().for('carol').on('vpn', 'ops').expiresAt('2026-11-28T12:30:00Z').yaml(),
    'grants/dan.yaml': aGrant().for('dan').on('vpn', 'ops').expiresAt('2026-11-28T17:00:00Z').yaml(),
  });
  const commit = seed.commit('access repo');
  // Evidence the apply run recorded: which PR brought each live grant (warnings are posted there).
  const note = (id: string, pr: number) => ({
    pr,
    headSha: commit,
    approvers: [],
    commit,
    blob: seed.git('rev-parse', `HEAD:grants/${id}.yaml`),
    verifiedAt: '2026-11-28T10:00:00Z',
  });
  seed.git(
    'notes',
    '--ref=grantops',
    'add',
    '-m',
    JSON.stringify({ grantops: 1, grants: { carol: note('carol', 5), dan: note('dan', 6) } }),
    commit,
  );
  seed.git('init', '-q', '--bare', '-b', 'main', origin);
  seed.git('push', '-q', origin, 'main', 'refs/notes/grantops');
  writeFileSync(
    join(scratch, 'vpn.json'),
    JSON.stringify(['alice', 'stuck', 'carol', 'dan'].map((user) => ({ user, role: 'ops' }))),
  );
});
afterAll(async () => {
  await gh.stop();
  await new Promise((r) => hook.close(r));
  seed.cleanup();
  rmSync(scratch, { recursive: true, force: true });
});

async function reap(now: string, command = 'reap', extra: Record<string, string> = {}, depth?: number) {
  const work = join(scratch, `checkout-${Date.now()}`);
  if (depth) seed.git('clone', '-q', `--depth=${depth}`, `file://${origin}`, work);
  else seed.git('clone', '-q', origin, work);
  const summary = join(scratch, `summary-${Date.now()}.md`);
  writeFileSync(summary, '');
  writeFileSync(join(scratch, 'out'), '');
  writeFileSync(join(scratch, 'event.json'), '{}');
  const r = await run(process.execPath, [DIST_ACTION], {
    cwd: work,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      VPN_STATE: join(scratch, 'vpn.json'),
      STUCK_FLAG: join(scratch, 'stuck'),
      GITHUB_EVENT_NAME: 'schedule',
      GITHUB_EVENT_PATH: join(scratch, 'event.json'),
      GITHUB_REPOSITORY: 'acme/access',
      GITHUB_API_URL: gh.url,
      GITHUB_WORKSPACE: work,
      GITHUB_STEP_SUMMARY: summary,
      GITHUB_OUTPUT: join(scratch, 'out'),
      GRANTOPS_WEBHOOK_URL: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`,
      INPUT_COMMAND: command,
      ...extra,
      INPUT_TOKEN: gh.token,
      INPUT_NOW: now,
    },
  });
  return { ...r, summary: readFileSync(summary, 'utf8') };
}
const prComments = (pr: number) => gh.commentsOn('acme/access', pr).map((c) => c.body);

describe('the Action on schedule (reap)', () => {
  it('revokes and removes what it can, keeps and reports what it cannot, and warns before expiry', async () => {
    const r = await reap('2026-11-28T12:00:00Z');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      '::error title=grantops revoke,file=grants/stuck.yaml,line=1,col=1::expired grant not revoked:',
    );
    expect(r.summary).toContain(
      '| alice | alice | vpn | ops | 2026-11-28T11:00:00Z | 2026-11-28T12:00:00Z | 1h |',
    );
    expect(seed.git('--git-dir', origin, 'ls-tree', '--name-only', 'main', 'grants/')).toBe(
      'grants/carol.yaml\ngrants/dan.yaml\ngrants/stuck.yaml',
    );

    expect(gh.repoIssues('acme/access').map((i) => [i.title, i.state])).toEqual([
      ['grantops: access of expired grant stuck is not revoked', 'open'],
    ]);
    expect(posts).toHaveLength(1);
    expect((JSON.parse(posts[0]!) as { text: string }).text).toContain(
      'stuck (stuck on vpn, expired 2026-11-28T11:30:00Z: revoke failed (exit 1): directory unavailable)',
    );

    expect(prComments(5)).toHaveLength(1);
    expect(prComments(5)[0]).toContain('<!-- grantops:expiry:carol:1h -->');
    expect(prComments(5)[0]).toContain(
      '@carol your **ops** access on **vpn** (grant carol) ends at **2026-11-28T12:30:00Z**, in 30m.',
    );
    expect(prComments(6)[0]).toContain('<!-- grantops:expiry:dan:6h -->');
    expect(gh.violations).toEqual([]);
  });

  it('sends nothing twice on the next run, and closes the issue once the revocation succeeds', async () => {
    const again = await reap('2026-11-28T12:10:00Z');
    expect(again.code).toBe(1);
    expect(prComments(5)).toHaveLength(1);
    expect(prComments(6)).toHaveLength(1);
    expect(gh.repoIssues('acme/access').filter((i) => i.state === 'open')).toHaveLength(1);
    expect(posts).toHaveLength(1);

    rmSync(join(scratch, 'stuck'));
    const fixed = await reap('2026-11-28T12:20:00Z');
    expect(fixed.code).toBe(0);
    expect(gh.repoIssues('acme/access').map((i) => i.state)).toEqual(['closed']);
    expect(JSON.parse(readFileSync(join(scratch, 'vpn.json'), 'utf8'))).toEqual([
      { user: 'carol', role: 'ops' },
      { user: 'dan', role: 'ops' },
    ]);
    expect(gh.violations).toEqual([]);
  });

  it('command: audit writes the lifecycle to the summary, from git alone', async () => {
    const r = await reap('2026-11-28T12:30:00Z', 'audit', { INPUT_AT: '2026-11-28T11:15:00Z' });
    expect(r.code).toBe(0);
    expect(r.summary).toContain('### Access at 2026-11-28T11:15:00Z');
    expect(r.summary).toMatch(/\| stuck \| vpn \| ops \| stuck \|/);
    const out = readFileSync(join(scratch, 'out'), 'utf8');
    expect(out).toContain('"type": "revoked"');
    // The whole log is also a file, named by the audit-file output.
    const file = /audit-file<<(\S+)\n(.+)\n/.exec(out)?.[2];
    expect(file).toBeDefined();
    const doc = JSON.parse(readFileSync(file!, 'utf8')) as { events: { type: string }[] };
    expect(doc.events.some((e) => e.type === 'revoked')).toBe(true);

    // From a shallow checkout (actions/checkout's default) the Action fetches the rest first.
    const shallow = await reap('2026-11-28T12:30:00Z', 'audit', { INPUT_AT: '2026-11-28T11:15:00Z' }, 1);
    expect(shallow.code).toBe(0);
    expect(shallow.stdout).toContain('fetched the full history');
    const again = /audit-file<<(\S+)\n(.+)\n/.exec(readFileSync(join(scratch, 'out'), 'utf8'))?.[2];
    expect(JSON.parse(readFileSync(again!, 'utf8'))).toEqual(doc);
  });
});
