import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aGrant } from '../support/builders.js';
import { DIST_ACTION } from '../support/cli.js';
import { FakeGitHub } from '../support/github-server.js';
import { mergePullRequest } from '../support/merge.js';
import { run } from '../support/process.js';
import { tempRepo, type TempRepo } from '../support/repo.js';

/**
 * "Reviewer approval is the grant", end to end: real merges in a real repository pushed to a bare
 * remote, the bundled Action run on push, the local GitHub API server, and a real exec target.
 */
const VPN = `#!/usr/bin/env node
const fs = require('node:fs');
const file = process.env.VPN_STATE;
const verb = process.argv[2];
const state = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : [];
if (verb === 'list') { process.stdout.write(JSON.stringify(state)); process.exit(0); }
const req = JSON.parse(fs.readFileSync(0, 'utf8'));
const next = state.filter((e) => !(e.user === req.user && e.role === req.role));
if (verb === 'grant') next.push({ user: req.user, role: req.role });
fs.writeFileSync(file, JSON.stringify(next));
`;
const POLICY_TEAM = `target: { name: oncall, type: github-team, org: acme, team: oncall }
roles:
  member: { maxDuration: 1d, approvals: 1, approvers: ["@acme/leads"] }
`;
const POLICY_VPN = `target: { name: vpn, type: exec, command: [./scripts/vpn.cjs], env: [VPN_STATE] }
roles:
  ops: { maxDuration: 12h, approvals: 1, approvers: [bob] }
`;

let gh: FakeGitHub;
let dev: TempRepo;
let scratch: string;
let origin: string;
let vpnState: string;

beforeAll(async () => {
  gh = await FakeGitHub.start();
  gh.team('acme/leads').set('lea', { login: 'lea', role: 'member' });
  scratch = mkdtempSync(join(tmpdir(), 'grantops-apply-'));
  origin = join(scratch, 'origin.git');
  vpnState = join(scratch, 'vpn.json');
  dev = tempRepo(
    { 'policies/oncall.yaml': POLICY_TEAM, 'policies/vpn.yaml': POLICY_VPN, 'scripts/vpn.cjs': VPN },
    { git: false },
  );
  chmodSync(join(dev.dir, 'scripts/vpn.cjs'), 0o755);
  dev.git('init', '-q', '-b', 'main');
  dev.commit('access repo');
  dev.git('init', '-q', '--bare', '-b', 'main', origin);
  dev.git('remote', 'add', 'origin', origin);
  dev.git('push', '-q', 'origin', 'main');
});
afterAll(async () => {
  await gh.stop();
  dev.cleanup();
  rmSync(scratch, { recursive: true, force: true });
});

async function runApply(now: string, before?: string) {
  const work = join(scratch, `checkout-${Date.now()}`);
  dev.git('clone', '-q', origin, work);
  const event = join(scratch, 'push.json');
  writeFileSync(
    event,
    JSON.stringify({
      before: before ?? '0000000000000000000000000000000000000000',
      after: dev.git('rev-parse', 'main'),
    }),
  );
  const summary = join(work, '..', `summary-${Date.now()}.md`);
  writeFileSync(summary, '');
  writeFileSync(join(work, '..', 'out.txt'), '');
  const r = await run(process.execPath, [DIST_ACTION], {
    cwd: work,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      VPN_STATE: vpnState,
      GITHUB_EVENT_NAME: 'push',
      GITHUB_EVENT_PATH: event,
      GITHUB_REPOSITORY: 'acme/access',
      GITHUB_API_URL: gh.url,
      GITHUB_WORKSPACE: work,
      GITHUB_STEP_SUMMARY: summary,
      GITHUB_OUTPUT: join(work, '..', 'out.txt'),
      INPUT_COMMAND: 'apply',
      INPUT_TOKEN: gh.token,
      INPUT_NOW: now,
      'INPUT_DRY-RUN': 'false',
      'INPUT_OVERRIDE-GUARD': 'false',
      INPUT_CONCURRENCY: '8',
    },
  });
  return { ...r, summary: readFileSync(summary, 'utf8') };
}
const vpn = () =>
  existsSync(vpnState)
    ? (JSON.parse(readFileSync(vpnState, 'utf8')) as { user: string; role: string }[])
    : [];

describe('the Action on push to main', () => {
  let approvedMerge = '';

  it('applies approved grants, refuses the rest with annotations, a summary and issues, and records evidence', async () => {
    approvedMerge = mergePullRequest(dev, gh, {
      number: 1,
      author: 'alice',
      files: {
        'grants/oncall/alice.yaml': aGrant()
          .for('alice')
          .on('oncall', 'member')
          .without('ticket')
          .expiresAt('2026-11-28T20:00:00Z')
          .yaml(),
        'grants/vpn/carol.yaml': aGrant()
          .for('carol')
          .on('vpn', 'ops')
          .expiresAt('2026-11-28T20:00:00Z')
          .yaml(),
      },
      // lea approves as a member of @acme/leads; bob as a named approver; alice's own approval never counts.
      reviews: [{ user: 'lea' }, { user: 'bob' }, { user: 'alice' }],
    }).mergeSha;
    mergePullRequest(dev, gh, {
      number: 2,
      author: 'dan',
      files: {
        'grants/oncall/dan.yaml': aGrant().for('dan').on('oncall', 'member').without('ticket').yaml(),
      },
      reviews: [{ user: 'eve' }, { user: 'dan' }],
    });
    mergePullRequest(dev, gh, {
      number: 3,
      author: 'gina',
      files: {
        'grants/vpn/gina.yaml': aGrant()
          .for('gina')
          .on('vpn', 'ops')
          .expiresAt('2026-11-28T16:00:00Z')
          .yaml(),
      },
      reviews: [{ user: 'bob', onCommit: 'first' }],
      pushAfterReview: {
        'grants/vpn/gina.yaml': aGrant()
          .for('gina')
          .on('vpn', 'ops')
          .expiresAt('2026-11-28T23:00:00Z')
          .yaml(),
      },
    });
    dev.write({ 'grants/vpn/frank.yaml': aGrant().for('frank').on('vpn', 'ops').yaml() });
    dev.commit('pushed straight to main');
    dev.git('push', '-q', 'origin', 'main');

    const r = await runApply('2026-11-28T12:00:00Z');
    expect(r.code).toBe(1);
    expect(gh.team('acme/oncall').get('alice')).toEqual({ login: 'alice', role: 'member' });
    expect(gh.team('acme/oncall').has('dan')).toBe(false);
    expect(vpn()).toEqual([{ user: 'carol', role: 'ops' }]);

    expect(r.stdout).toMatch(
      /::error title=grantops approval,file=grants\/oncall\/dan\.yaml,line=1,col=1::not applied: PR #2 has 0 of the 1 approval\(s\) required from @acme\/leads/,
    );
    expect(r.stdout).toContain(
      'file=grants/vpn/frank.yaml,line=1,col=1::not applied: no merged pull request brought this grant',
    );
    expect(r.stdout).toContain(
      'file=grants/vpn/gina.yaml,line=1,col=1::not applied: PR #3 has 0 of the 1 approval(s)',
    );
    expect(r.summary).toContain('| grant | oncall | alice | member | new | 2026-11-28T20:00:00Z | done |');

    const issues = gh.repoIssues('acme/access');
    expect(issues.map((i) => [i.title, i.state])).toEqual([
      ['grantops: grant oncall/dan was not applied (approval missing)', 'open'],
      ['grantops: grant vpn/frank was not applied (approval missing)', 'open'],
      ['grantops: grant vpn/gina was not applied (approval missing)', 'open'],
    ]);

    const note = JSON.parse(
      dev.git('--git-dir', origin, 'notes', '--ref=grantops', 'show', approvedMerge),
    ) as {
      grants: Record<string, { pr: number; approvers: string[] }>;
    };
    expect(note.grants['oncall/alice']).toMatchObject({ pr: 1, approvers: ['lea'] });
    expect(note.grants['vpn/carol']).toMatchObject({ pr: 1, approvers: ['bob'] });
    expect(gh.violations).toEqual([]);
  });

  it('converges on a second run: approval asked of GitHub again, notes unchanged, no duplicate issues', async () => {
    const reviews = () =>
      gh.requests.filter((q) => q.operationId === 'pulls/list-reviews' && q.path.endsWith('/pulls/1/reviews'))
        .length;
    const before = reviews();
    const notes = dev.git('--git-dir', origin, 'rev-parse', 'refs/notes/grantops');
    const r = await runApply('2026-11-28T12:30:00Z');
    expect(r.code).toBe(1); // the refusals still stand
    // A note is the auditor's record, never proof: every apply asks GitHub again, and the same
    // evidence is not written twice.
    expect(reviews()).toBe(before + 1);
    expect(dev.git('--git-dir', origin, 'rev-parse', 'refs/notes/grantops')).toBe(notes);
    expect(gh.repoIssues('acme/access').filter((i) => i.state === 'open')).toHaveLength(3);
    expect(r.summary).toContain('Every target matches the approved grants: nothing to do.');
  });

  it('closes the issues once the refused grants are gone, and revokes access as grants expire', async () => {
    const before = dev.git('rev-parse', 'main');
    dev.git('rm', '-q', 'grants/oncall/dan.yaml', 'grants/vpn/frank.yaml', 'grants/vpn/gina.yaml');
    dev.commit('drop refused grants');
    dev.git('push', '-q', 'origin', 'main');
    const r = await runApply('2026-11-28T20:00:00Z', before);
    expect(r.code).toBe(0);
    expect(gh.repoIssues('acme/access').map((i) => i.state)).toEqual(['closed', 'closed', 'closed']);
    expect(gh.team('acme/oncall').has('alice')).toBe(false);
    expect(vpn()).toEqual([]);
    expect(r.summary).toContain('| revoke | oncall | alice | member | expired |');
    expect(gh.violations).toEqual([]);
  });
});
