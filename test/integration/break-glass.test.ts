import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { retroReviewKey } from '../../src/policy/break-glass.js';
import { aGrant } from '../support/builders.js';
import { cliIn, STATE_FILE_SCRIPT } from '../support/cli.js';
import { FakeGitHub } from '../support/github-server.js';
import { mergePullRequest } from '../support/merge.js';
import { tempRepo, type TempRepo } from '../support/repo.js';

/**
 * Break-glass (issue 16.4) on real repositories: `apply` and `reap` in-process against the local
 * GitHub server (checked against the OpenAPI description), an exec target run as a child process,
 * commits at pinned times (the PR lands at 2026-11-28T09:00:0xZ; reviewWithin 1h: due ~10:00).
 */
const POLICY = `target: { name: vpn, type: exec, command: [./scripts/vpn.cjs] }
roles:
  ops:
    maxDuration: 8h
    approvals: 1
    approvers: [bob, "@acme/sre"]
    breakGlass: { maxDuration: 4h, reviewWithin: 1h, allowed: [alice, "@acme/oncall"] }
  plain: { maxDuration: 8h, approvals: 1, approvers: [bob] }
`;
const REASON = 'INC-9 <b>@carol</b> [x](http://evil) | db down';
const bg = (user: string, expiresAt = '2026-11-28T13:00:00Z', role = 'ops') =>
  aGrant()
    .for(user)
    .on('vpn', role)
    .with('reason', REASON)
    .with('breakGlass', true)
    .without('ticket')
    .expiresAt(expiresAt)
    .yaml();

let gh: FakeGitHub;
let hook: Server;
const posts: string[] = [];
const repos: TempRepo[] = [];

beforeAll(async () => {
  gh = await FakeGitHub.start({ token: 'tok' });
  gh.team('acme/sre').set('dora', { login: 'dora', role: 'member' });
  gh.team('acme/oncall').set('olga', { login: 'olga', role: 'member' });
  hook = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      posts.push(body);
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
});
afterEach(() => {
  expect(gh.violations).toEqual([]);
  gh.clearFaults();
  gh.pulls.clear();
  gh.issues.clear();
  gh.comments.clear();
  posts.length = 0;
});
afterAll(async () => {
  await gh?.stop();
  await new Promise<void>((r) => hook.close(() => r()));
  for (const r of repos) r.cleanup();
});

function accessRepo(policy = POLICY): TempRepo {
  const repo = tempRepo(
    { 'policies/vpn.yaml': policy, 'scripts/vpn.cjs': STATE_FILE_SCRIPT, '.gitignore': '.state.json\n' },
    { git: true },
  );
  chmodSync(join(repo.dir, 'scripts/vpn.cjs'), 0o755);
  repo.commit('vpn policy');
  repos.push(repo);
  return repo;
}

const env = () => ({
  GITHUB_TOKEN: 'tok',
  GITHUB_REPOSITORY: 'acme/access',
  GITHUB_API_URL: gh.url,
  GRANTOPS_WEBHOOK_URL: `http://127.0.0.1:${(hook.address() as { port: number }).port}/hook`,
});
/** Runs grantops; GitHub stamps the issues it opens with the run's `--now` (the clock is pinned). */
const grantops = (repo: TempRepo, ...argv: string[]) => {
  const at = argv[argv.indexOf('--now') + 1];
  gh.issueClock = argv.includes('--now') && at ? () => at : undefined;
  return cliIn(repo.dir, argv, { env: env() });
};
/** A pull request merged without review (what break-glass is for): its merge commit. */
const mergeUnreviewed = (repo: TempRepo, number: number, author: string, files: Record<string, string>) =>
  mergePullRequest(repo, gh, { number, author, files, reviews: [] }).mergeSha;
/** alice's own break-glass use, pull request #7, merged without review. */
const mergeAliceUse = (repo: TempRepo, expiresAt?: string) =>
  mergeUnreviewed(repo, 7, 'alice', { 'grants/alice-bg.yaml': bg('alice', expiresAt) });
const holders = (repo: TempRepo) =>
  existsSync(join(repo.dir, '.state.json'))
    ? (JSON.parse(readFileSync(join(repo.dir, '.state.json'), 'utf8')) as { user: string }[]).map(
        (e) => e.user,
      )
    : [];
const issues = () => gh.repoIssues('acme/access');
/** A comment as a person writes it on GitHub, at a pinned time. */
function comment(issue: number, user: string, body: string, at: string, editedAt = at) {
  gh.commentsOn('acme/access', issue).push({
    id: 5000 + gh.commentsOn('acme/access', issue).length,
    body,
    user,
    userType: 'User',
    created_at: at,
    updated_at: editedAt,
  });
}

interface VerifyDoc {
  violations: { kind: string; grant: string; message: string }[];
  breakGlass: {
    grant: string;
    reviewBy: string;
    reviewedBy: string;
    author: string;
    evidence: string;
    inTime: string;
    revokedEarly: boolean;
  }[];
}
async function verify(repo: TempRepo, now: string): Promise<VerifyDoc> {
  const r = await grantops(repo, 'audit', '--verify', '--format', 'json', '--now', now);
  return JSON.parse(r.stdout) as VerifyDoc;
}

/** alice's own break-glass PR, merged without reviews, then applied at 09:30. */
async function appliedUse(): Promise<{ repo: TempRepo; merge: string }> {
  const repo = accessRepo();
  const mergeSha = mergeAliceUse(repo);
  const r = await grantops(repo, 'apply', '--now', '2026-11-28T09:30:00Z');
  expect(r.stderr).toContain('0 grant(s) refused');
  expect(r.stderr).toContain('break-glass: 1 retro-review issue(s) opened');
  expect(r.code).toBe(0);
  return { repo, merge: mergeSha };
}

describe('break-glass on apply', () => {
  it('applies an allowed user’s own grant without approval, records it, and opens a retro-review issue at once', async () => {
    const { repo, merge } = await appliedUse();
    expect(holders(repo)).toEqual(['alice']);
    const note = JSON.parse(repo.git('notes', '--ref', 'grantops', 'show', merge)) as {
      grants: Record<string, { approvers: string[]; breakGlass?: { author: string; landedAt: number } }>;
    };
    expect(note.grants['alice-bg']).toMatchObject({ approvers: [], breakGlass: { author: 'alice' } });
    expect(issues()).toHaveLength(1);
    const issue = issues()[0]!;
    expect(issue.title).toMatch(
      /^grantops: break-glass use of alice-bg by alice needs review by 2026-11-28T10:00:\d\dZ$/,
    );
    expect(issue.body).toContain('<!-- grantops:break-glass:alice-bg@');
    expect(issue.body).toContain('`/grantops approve`');
    // The reason is the requester's text: shown literally, no HTML, no mention, no link.
    expect(issue.body).not.toContain('<b>');
    expect(issue.body).not.toContain('@carol');
    expect(issue.body).toContain('&lt;b&gt;');
    // A second apply neither re-opens nor duplicates it.
    expect((await grantops(repo, 'apply', '--now', '2026-11-28T09:40:00Z')).code).toBe(0);
    expect(issues()).toHaveLength(1);
  });

  it('allows a member of an allowed team', async () => {
    const repo = accessRepo();
    mergeUnreviewed(repo, 8, 'olga', { 'grants/olga.yaml': bg('olga') });
    const r = await grantops(repo, 'apply', '--now', '2026-11-28T09:30:00Z');
    expect(r.code).toBe(0);
    expect(holders(repo)).toEqual(['olga']);
  });

  it.each([
    ['a user not allowed', 'mallory', 'mallory', 'mallory (author of PR #9) is not allowed'],
    [
      'an allowed user granting someone else',
      'alice',
      'mallory',
      'opened by alice, not by the grant’s user mallory'.replace('’', "'"),
    ],
  ])('refuses %s like a grant without approval (exit 1, never applied)', async (_what, author, user, why) => {
    const repo = accessRepo();
    mergeUnreviewed(repo, 9, author, { [`grants/${user}.yaml`]: bg(user) });
    const r = await grantops(repo, 'apply', '--now', '2026-11-28T09:30:00Z', '--json');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(why);
    expect(holders(repo)).toEqual([]);
    expect(issues()).toEqual([]);
  });

  it('refuses a grant over breakGlass.maxDuration, though within the role’s maxDuration', async () => {
    const repo = accessRepo();
    mergeUnreviewed(repo, 10, 'alice', { 'grants/alice.yaml': bg('alice', '2026-11-28T14:00:00Z') });
    const r = await grantops(repo, 'apply', '--now', '2026-11-28T09:30:00Z', '--json');
    expect(r.code).toBe(1);
    // Judged at apply time too, by the break-glass maximum (4h), not the role's (8h).
    expect(r.stdout).toContain('over the 4h break-glass maximum of role');
    expect(holders(repo)).toEqual([]);
  });

  it('judges by the base: a PR that adds breakGlass to the role together with the grant is refused', async () => {
    const repo = accessRepo();
    mergePullRequest(repo, gh, {
      number: 11,
      author: 'alice',
      files: {
        'policies/vpn.yaml': POLICY.replace(
          'plain: { maxDuration: 8h, approvals: 1, approvers: [bob] }',
          'plain: { maxDuration: 8h, approvals: 1, approvers: [bob], breakGlass: { maxDuration: 4h, reviewWithin: 1h, allowed: [alice] } }',
        ),
        'grants/alice.yaml': bg('alice', '2026-11-28T13:00:00Z', 'plain'),
      },
      reviews: [],
    });
    const r = await grantops(repo, 'apply', '--now', '2026-11-28T09:30:00Z', '--json');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('break-glass: the policy at the base');
    expect(holders(repo)).toEqual([]);
  });

  it('validate: break-glass on a role without it is an error at its line; the break-glass maximum bounds it', async () => {
    const repo = accessRepo();
    repo.write({
      'grants/a.yaml': bg('alice', '2026-11-28T13:00:00Z', 'plain'),
      'grants/b.yaml': bg('alice', '2026-11-28T15:00:00Z'),
    });
    const r = await grantops(repo, 'validate', '--now', '2026-11-28T09:30:00Z', '--json');
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout) as {
      errors: { file: string; line: number; column: number; message: string }[];
    };
    expect(doc.errors.map((e) => [e.file, e.line, e.column])).toEqual([
      ['grants/a.yaml', 6, 13],
      ['grants/b.yaml', 5, 12],
    ]);
    expect(doc.errors[0]!.message).toContain('role "plain" on "vpn" does not allow break-glass');
    expect(doc.errors[1]!.message).toContain('over the 4h break-glass maximum of role "ops"');
  });
});

describe('break-glass in a policy', () => {
  it.each([
    [
      'no approvers to review it',
      'plain: { maxDuration: 8h, approvals: 0, breakGlass: { maxDuration: 1h, reviewWithin: 4h, allowed: [alice] } }',
      'lists no approvers to review its uses',
    ],
    [
      'an unknown key (strict)',
      'plain: { maxDuration: 8h, approvals: 1, approvers: [bob], breakGlass: { maxDuration: 1h, reviewWithin: 4h, allowed: [alice], approvals: 0 } }',
      'approvals',
    ],
    [
      'a bad duration',
      'plain: { maxDuration: 8h, approvals: 1, approvers: [bob], breakGlass: { maxDuration: 1h, reviewWithin: 4 hours, allowed: [alice] } }',
      'reviewWithin',
    ],
    [
      'nobody allowed',
      'plain: { maxDuration: 8h, approvals: 1, approvers: [bob], breakGlass: { maxDuration: 1h, reviewWithin: 4h, allowed: [] } }',
      'allowed',
    ],
  ])('refuses %s: a configuration error at its line (exit 2)', async (_what, line, why) => {
    const repo = accessRepo(
      POLICY.replace('plain: { maxDuration: 8h, approvals: 1, approvers: [bob] }', line),
    );
    const r = await grantops(repo, 'validate', '--now', '2026-11-28T09:30:00Z');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/policies\/vpn\.yaml:8:\d+: /);
    expect(r.stderr).toContain(why);
  });
});

describe('break-glass retro review, by the reaper', () => {
  it('a review in time keeps the grant to its expiry; the review is recorded and the issue closed', async () => {
    const { repo, merge } = await appliedUse();
    const n = issues()[0]!.number;
    comment(n, 'alice', '/grantops approve', '2026-11-28T09:31:00Z'); // the grant's user (and author)
    comment(n, 'mallory', '/grantops approve', '2026-11-28T09:32:00Z'); // not an approver
    comment(n, 'dora', 'looks fine\n/grantops approve', '2026-11-28T09:33:00Z'); // not the first line
    comment(n, 'dora', '/grantops approve', '2026-11-28T09:45:00Z'); // @acme/sre: counts
    const r = await grantops(repo, 'reap', '--now', '2026-11-28T10:30:00Z');
    expect(r.code).toBe(0);
    expect(holders(repo)).toEqual(['alice']);
    expect(existsSync(join(repo.dir, 'grants/alice-bg.yaml'))).toBe(true);
    const note = repo.git('notes', '--ref', 'grantops', 'show', merge);
    expect(JSON.parse(note)).toMatchObject({
      grants: { 'alice-bg': { breakGlass: { review: { by: 'dora', at: '2026-11-28T09:45:00Z' } } } },
    });
    expect(issues()[0]!.state).toBe('closed');
    const said = gh.commentsOn('acme/access', n).filter((c) => c.userType === 'Bot');
    expect(said.map((c) => c.body)).toEqual([expect.stringContaining('Reviewed in time: dora approved')]);
    // A closed issue still shows the review: the next run keeps the grant, and says nothing again.
    expect((await grantops(repo, 'reap', '--now', '2026-11-28T11:30:00Z')).code).toBe(0);
    expect(holders(repo)).toEqual(['alice']);
    expect(gh.commentsOn('acme/access', n).filter((c) => c.userType === 'Bot')).toHaveLength(1);
    // At its expiry it is reaped like any grant, with no break-glass trailer.
    expect((await grantops(repo, 'reap', '--now', '2026-11-28T13:30:00Z')).code).toBe(0);
    expect(holders(repo)).toEqual([]);
    expect(repo.git('log', '-1', '--format=%B')).not.toContain('Break-Glass-Unreviewed');
    expect(posts).toEqual([]);
    const audit = await verify(repo, '2026-11-28T14:00:00Z');
    expect(audit.breakGlass).toEqual([
      expect.objectContaining({
        grant: 'alice-bg',
        user: 'alice',
        pr: 7,
        author: 'alice',
        reviewedBy: 'dora',
        reviewedAt: '2026-11-28T09:45:00Z',
        inTime: 'unverified', // no evidence key: the recorded review cannot be checked
        review: 'unsigned',
        revokedEarly: false,
        evidence: 'unsigned',
      }),
    ]);
    expect(audit.violations.map((v) => v.kind)).not.toContain('break-glass-unreviewed');
  });

  it('without an eligible review it is revoked early at the deadline, its file removed, and an alert sent', async () => {
    const { repo } = await appliedUse();
    const n = issues()[0]!.number;
    comment(n, 'alice', '/grantops approve', '2026-11-28T09:31:00Z'); // the grant's user and PR author
    comment(n, 'bob', '/grantops approve', '2026-11-28T10:05:00Z'); // too late
    comment(n, 'dora', 'lgtm', '2026-11-28T09:40:00Z', '2026-11-28T10:10:00Z'); // edited after the deadline
    gh.commentsOn('acme/access', n)[2]!.body = '/grantops approve';
    const before = await grantops(repo, 'reap', '--now', '2026-11-28T09:50:00Z');
    expect(before.code).toBe(0);
    expect(holders(repo)).toEqual(['alice']); // not yet due
    const r = await grantops(repo, 'reap', '--now', '2026-11-28T10:30:00Z');
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('break-glass: 1 revoked early (not reviewed in time)');
    expect(holders(repo)).toEqual([]);
    expect(existsSync(join(repo.dir, 'grants/alice-bg.yaml'))).toBe(false);
    const message = repo.git('log', '-1', '--format=%B');
    expect(message).toMatch(/^grantops: revoke 1 expired grant\(s\)\n/);
    expect(message).toContain('break-glass not reviewed by 2026-11-28T10:00:');
    expect(message).toMatch(/\nRevoked-Grant: alice-bg\nBreak-Glass-Unreviewed: alice-bg\s*$/);
    expect(posts).toHaveLength(1);
    expect((JSON.parse(posts[0]!) as { text: string }).text).toContain(
      'break-glass access of alice (ops on vpn, grant alice-bg) in acme/access was not reviewed in time',
    );
    expect(issues()[0]!.state).toBe('closed');
    const said = gh.commentsOn('acme/access', n).filter((c) => c.userType === 'Bot');
    expect(said.map((c) => c.body)).toEqual([expect.stringContaining('Not reviewed in time')]);
    const audit = await verify(repo, '2026-11-28T12:00:00Z');
    expect(audit.breakGlass.map((u) => [u.grant, u.reviewedBy, u.inTime, u.revokedEarly])).toEqual([
      ['alice-bg', '', 'no', true],
    ]);
    expect(audit.breakGlass[0]!.reviewBy).toMatch(/^2026-11-28T10:00:\d\dZ$/);
    // Revoked within the tolerance of its deadline: the control acted, no finding.
    expect(audit.violations.map((v) => v.kind)).not.toContain('break-glass-unreviewed');
    // Kept past its deadline without a review (no reaper ran): a finding.
    // Another repository (pinned dates: the same commit ids), whose issue tracker starts empty.
    gh.issues.clear();
    const late = await appliedUse();
    const stale = await verify(late.repo, '2026-11-28T12:00:00Z');
    expect(stale.breakGlass.map((u) => [u.inTime, u.revokedEarly])).toEqual([['no', false]]);
    const finding = stale.violations.filter((v) => v.kind === 'break-glass-unreviewed');
    expect(finding.map((v) => v.grant)).toEqual(['alice-bg']);
    expect(finding[0]!.message).toContain('not reviewed by');
  });

  it('a sharded reap revokes it in its shard and the merge job removes its file with the trailer', async () => {
    const { repo } = await appliedUse();
    const shard = join(repo.dir, '..', `${repo.dir.split('/').pop()!}-shard.json`);
    const s = await grantops(
      repo,
      'reap',
      '--target',
      'vpn',
      '--shard-out',
      shard,
      '--now',
      '2026-11-28T10:30:00Z',
    );
    expect(s.code, s.stderr).toBe(0);
    expect(holders(repo)).toEqual([]);
    expect(existsSync(join(repo.dir, 'grants/alice-bg.yaml'))).toBe(true);
    const m = await grantops(repo, 'reap', '--merge-shards', shard, '--now', '2026-11-28T10:31:00Z');
    expect(m.code, m.stderr).toBe(0);
    expect(existsSync(join(repo.dir, 'grants/alice-bg.yaml'))).toBe(false);
    expect(repo.git('log', '-1', '--format=%B')).toMatch(
      /\nRevoked-Grant: alice-bg\nBreak-Glass-Unreviewed: alice-bg\s*$/,
    );
    rmSync(shard, { force: true });
  });

  it('audit --verify tells a signed use from one whose record was tampered with', async () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const key = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const repo = accessRepo();
    const mergeSha = mergeAliceUse(repo);
    const signed = { env: { ...env(), GRANTOPS_EVIDENCE_KEY: key } };
    expect((await cliIn(repo.dir, ['apply', '--now', '2026-11-28T09:30:00Z'], signed)).code).toBe(0);
    const audit = async () => {
      const r = await cliIn(
        repo.dir,
        ['audit', '--verify', '--format', 'json', '--now', '2026-11-28T09:40:00Z'],
        signed,
      );
      return (JSON.parse(r.stdout) as VerifyDoc).breakGlass;
    };
    expect((await audit()).map((u) => [u.grant, u.inTime, u.evidence])).toEqual([
      ['alice-bg', 'pending', 'signed'],
    ]);
    // A writer claims someone else opened the PR: the signature no longer holds.
    const note = repo
      .git('notes', '--ref', 'grantops', 'show', mergeSha)
      .replace('"author": "alice"', '"author": "olga"');
    repo.git('notes', '--ref', 'grantops', 'add', '-f', '-m', note, mergeSha);
    expect((await audit()).map((u) => [u.author, u.evidence])).toEqual([['olga', 'forged']]);
    const table = await cliIn(repo.dir, ['audit', '--verify', '--now', '2026-11-28T09:40:00Z'], signed);
    expect(table.stdout).toContain('Break-glass uses');
  });

  it('audit --verify counts a review only when the reaper signed it (red team finding 6)', async () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const key = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const signed = { env: { ...env(), GRANTOPS_EVIDENCE_KEY: key } };
    const run = (...argv: string[]) => {
      gh.issueClock = () => argv[argv.length - 1]!;
      return cliIn(repo.dir, argv, signed);
    };
    const repo = accessRepo();
    const mergeSha = mergeAliceUse(repo);
    expect((await run('apply', '--now', '2026-11-28T09:30:00Z')).code).toBe(0);
    const audit = async (now: string) =>
      (JSON.parse((await run('audit', '--verify', '--format', 'json', '--now', now)).stdout) as VerifyDoc)
        .breakGlass as unknown as { inTime: string; evidence: string; review: string }[];
    // A writer adds "reviewed by bob" to the signed note: the use still verifies, the review does not.
    const note = JSON.parse(repo.git('notes', '--ref', 'grantops', 'show', mergeSha)) as {
      grants: Record<string, { breakGlass: Record<string, unknown> }>;
    };
    note.grants['alice-bg']!.breakGlass.review = { by: 'bob', at: '2026-11-28T09:35:00Z' };
    repo.git('notes', '--ref', 'grantops', 'add', '-f', '-m', JSON.stringify(note), mergeSha);
    expect((await audit('2026-11-28T09:40:00Z')).map((u) => [u.inTime, u.evidence, u.review])).toEqual([
      ['pending', 'signed', 'forged'],
    ]);
    // The genuine review, read from GitHub and signed by the reaper, counts.
    comment(issues()[0]!.number, 'bob', '/grantops approve', '2026-11-28T09:45:00Z');
    expect((await run('reap', '--now', '2026-11-28T10:30:00Z')).code).toBe(0);
    expect(holders(repo)).toEqual(['alice']);
    expect((await audit('2026-11-28T10:40:00Z')).map((u) => [u.inTime, u.evidence, u.review])).toEqual([
      ['yes', 'signed', 'signed'],
    ]);
  });

  it('a review written into the note by a repo writer counts for nothing', async () => {
    const repo = accessRepo();
    const mergeSha = mergeAliceUse(repo);
    const blob = repo.git('rev-parse', `${mergeSha}:grants/alice-bg.yaml`);
    const forged = {
      grantops: 1,
      grants: {
        'alice-bg': {
          pr: 7,
          headSha: mergeSha,
          approvers: [],
          commit: mergeSha,
          blob,
          verifiedAt: '2026-11-28T09:01:00Z',
          breakGlass: { author: 'alice', landedAt: 0, review: { by: 'bob', at: '2026-11-28T09:02:00Z' } },
        },
      },
    };
    repo.git('notes', '--ref', 'grantops', 'add', '-m', JSON.stringify(forged), mergeSha);
    expect((await grantops(repo, 'apply', '--now', '2026-11-28T09:30:00Z')).code).toBe(0);
    expect(issues()).toHaveLength(1); // opened all the same
    const r = await grantops(repo, 'reap', '--now', '2026-11-28T10:30:00Z');
    expect(r.code).toBe(0);
    expect(holders(repo)).toEqual([]);
    expect(repo.git('log', '-1', '--format=%B')).toContain('Break-Glass-Unreviewed: alice-bg');
  });

  it('a GitHub failure after the deadline leaves it undecided (exit 1, kept, not revoked); a later run decides', async () => {
    const { repo } = await appliedUse();
    comment(issues()[0]!.number, 'bob', '/grantops approve', '2026-11-28T09:45:00Z');
    gh.failNext({
      operationId: 'issues/list-for-repo',
      status: 403,
      body: {
        message: 'Resource not accessible by integration',
        documentation_url: 'https://docs.github.com/rest',
      },
      times: 10,
    });
    const r = await grantops(repo, 'reap', '--now', '2026-11-28T10:30:00Z');
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toContain('could not be read from GitHub');
    expect(holders(repo)).toEqual(['alice']);
    expect(repo.git('log', '-1', '--format=%B')).not.toContain('Break-Glass-Unreviewed');
    // Undecided is alerted (the webhook: GitHub is what fails), naming the grant and its deadline.
    expect(posts).toHaveLength(1);
    const text = (JSON.parse(posts[0]!) as { text: string }).text;
    expect(text).toContain('alice-bg (alice, ops on vpn, review due 2026-11-28T10:00:');
    expect(text).toMatch(/review due 2026-11-28T10:00:\d\dZ, 29m ago/);
    // Every run while it lasts, and still nothing is revoked.
    expect((await grantops(repo, 'reap', '--now', '2026-11-28T10:45:00Z')).code).toBe(1);
    expect(posts).toHaveLength(2);
    expect(holders(repo)).toEqual(['alice']);
    gh.clearFaults();
    // GitHub answers but the review cannot be read (the comments fail): the alert is an issue too.
    gh.failNext({
      operationId: 'issues/list-comments',
      status: 502,
      body: { message: 'Bad Gateway', documentation_url: 'https://docs.github.com/rest' },
      times: 10,
    });
    expect((await grantops(repo, 'reap', '--now', '2026-11-28T10:50:00Z')).code).toBe(1);
    const tracked = issues().filter((i) => i.title.includes('could not be read'));
    expect(tracked.map((i) => [i.title, i.state])).toEqual([
      ['grantops: retro review of break-glass grant alice-bg could not be read', 'open'],
    ]);
    gh.clearFaults();
    // GitHub is back: the review made in time (GitHub's own timestamp) keeps the grant.
    const later = await grantops(repo, 'reap', '--now', '2026-11-28T11:00:00Z');
    expect(later.code).toBe(0);
    expect(holders(repo)).toEqual(['alice']);
    expect(issues().find((i) => i.title.includes('could not be read'))?.state).toBe('closed');
    expect(posts).toHaveLength(3);
  });

  it('a later run after a GitHub failure still revokes a use nobody reviewed', async () => {
    const { repo } = await appliedUse();
    gh.failNext({
      operationId: 'issues/list-for-repo',
      status: 403,
      body: {
        message: 'Resource not accessible by integration',
        documentation_url: 'https://docs.github.com/rest',
      },
      times: 10,
    });
    expect((await grantops(repo, 'reap', '--now', '2026-11-28T10:30:00Z')).code).toBe(1);
    expect(holders(repo)).toEqual(['alice']);
    gh.clearFaults();
    await grantops(repo, 'reap', '--now', '2026-11-28T11:00:00Z');
    expect(holders(repo)).toEqual([]);
    expect(repo.git('log', '-1', '--format=%B')).toContain('Break-Glass-Unreviewed: alice-bg');
  });

  it('before the deadline a GitHub failure changes nothing', async () => {
    const { repo } = await appliedUse();
    gh.failNext({
      operationId: 'issues/list-for-repo',
      status: 403,
      body: {
        message: 'Resource not accessible by integration',
        documentation_url: 'https://docs.github.com/rest',
      },
      times: 5,
    });
    const r = await grantops(repo, 'reap', '--now', '2026-11-28T09:50:00Z');
    expect(r.code).toBe(0);
    expect(holders(repo)).toEqual(['alice']);
  });
});

/** A use shorter than its review window: it reaches its own expiresAt before the review is due. */
const SHORT_USE = POLICY.replace(
  'breakGlass: { maxDuration: 4h, reviewWithin: 1h,',
  'breakGlass: { maxDuration: 1h, reviewWithin: 4h,',
);
/** A 20-minute use, merged without review; applied by `apply` (default: grantops with no key). */
async function shortUse(
  apply: (repo: TempRepo) => Promise<{ code: number }> = (repo) =>
    grantops(repo, 'apply', '--now', '2026-11-28T09:30:00Z'),
): Promise<{ repo: TempRepo; merge: string }> {
  const repo = accessRepo(SHORT_USE);
  const mergeSha = mergeAliceUse(repo, '2026-11-28T09:50:00Z');
  expect((await apply(repo)).code).toBe(0);
  return { repo, merge: mergeSha };
}

describe('break-glass use that ends before its review is due', () => {
  it('is reaped at expiresAt and said once to be used and never reviewed; audit --verify flags it once due', async () => {
    const { repo } = await shortUse();
    const n = issues()[0]!.number;
    comment(n, 'alice', '/grantops approve', '2026-11-28T09:31:00Z'); // the user: does not count
    const r = await grantops(repo, 'reap', '--now', '2026-11-28T10:00:00Z');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('break-glass: 1 ended at expiry, used and never reviewed');
    expect(holders(repo)).toEqual([]);
    const message = repo.git('log', '-1', '--format=%B');
    expect(message).toContain('break-glass, never reviewed');
    expect(message).toMatch(/\nRevoked-Grant: alice-bg\nBreak-Glass-Never-Reviewed: alice-bg\s*$/);
    expect(message).not.toContain('Break-Glass-Unreviewed');
    expect(posts).toHaveLength(1);
    expect((JSON.parse(posts[0]!) as { text: string }).text).toMatch(
      /^grantops: break-glass access of alice \(ops on vpn, grant alice-bg\) in acme\/access ended at 2026-11-28T09:50:00Z, used and never reviewed \(review due by 2026-11-28T13:00:\d\dZ\)$/,
    );
    const said = gh.commentsOn('acme/access', n).filter((c) => c.userType === 'Bot');
    expect(said.map((c) => c.body)).toEqual([expect.stringContaining('Used and never reviewed')]);
    expect(issues()[0]!.state).toBe('closed');
    // Once: a later run says nothing again.
    expect((await grantops(repo, 'reap', '--now', '2026-11-28T10:30:00Z')).code).toBe(0);
    expect(posts).toHaveLength(1);
    expect(gh.commentsOn('acme/access', n).filter((c) => c.userType === 'Bot')).toHaveLength(1);
    // Reviewers had until the deadline: no finding before it, one after it.
    const early = await verify(repo, '2026-11-28T12:00:00Z');
    expect(early.violations.map((v) => v.kind)).not.toContain('break-glass-never-reviewed');
    const due = await verify(repo, '2026-11-28T13:30:00Z');
    const finding = due.violations.filter((v) => v.kind === 'break-glass-never-reviewed');
    expect(finding.map((v) => v.grant)).toEqual(['alice-bg']);
    expect(finding[0]!.message).toContain('used and never reviewed');
    expect(due.violations.map((v) => v.kind)).not.toContain('break-glass-unreviewed');
  });

  it("another bot's comment carrying the never-reviewed marker does not silence it (red team)", async () => {
    const { repo, merge } = await shortUse();
    const n = issues()[0]!.number;
    // A writer's workflow (its token is a bot too) plants the marker grantops looks for.
    gh.commentsOn('acme/access', n).push({
      id: 9000,
      body: `<!-- grantops:break-glass-never-reviewed:${retroReviewKey('alice-bg', merge)} -->\nall good`,
      user: 'mallory-ci[bot]',
      userType: 'Bot',
      created_at: '2026-11-28T09:40:00Z',
      updated_at: '2026-11-28T09:40:00Z',
    });
    const r = await grantops(repo, 'reap', '--now', '2026-11-28T10:00:00Z');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('break-glass: 1 ended at expiry, used and never reviewed');
    expect(posts).toHaveLength(1);
    const said = gh.commentsOn('acme/access', n).filter((c) => c.user !== 'mallory-ci[bot]');
    expect(said.map((c) => c.body)).toEqual([expect.stringContaining('Used and never reviewed')]);
  });

  it('a sharded reap says it in its shard, and the merge job writes the trailer', async () => {
    const { repo } = await shortUse();
    const shard = join(repo.dir, '..', `${repo.dir.split('/').pop()!}-shard.json`);
    const now = ['--now', '2026-11-28T10:00:00Z'];
    const s = await grantops(repo, 'reap', '--target', 'vpn', '--shard-out', shard, ...now);
    expect(s.code, s.stderr).toBe(0);
    expect(posts).toHaveLength(1);
    const m = await grantops(repo, 'reap', '--merge-shards', shard, '--now', '2026-11-28T10:01:00Z');
    expect(m.code, m.stderr).toBe(0);
    expect(existsSync(join(repo.dir, 'grants/alice-bg.yaml'))).toBe(false);
    expect(repo.git('log', '-1', '--format=%B')).toMatch(
      /\nRevoked-Grant: alice-bg\nBreak-Glass-Never-Reviewed: alice-bg\s*$/,
    );
    rmSync(shard, { force: true });
  });

  it('reviewed before it ended: the review is recorded as it is reaped, no alert, no finding', async () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const key = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const signed = { env: { ...env(), GRANTOPS_EVIDENCE_KEY: key } };
    const runIn = (dir: string, ...argv: string[]) => {
      gh.issueClock = () => argv[argv.length - 1]!;
      return cliIn(dir, argv, signed);
    };
    const { repo, merge: mergeSha } = await shortUse((r) =>
      runIn(r.dir, 'apply', '--now', '2026-11-28T09:30:00Z'),
    );
    const run = (...argv: string[]) => runIn(repo.dir, ...argv);
    comment(issues()[0]!.number, 'dora', '/grantops approve', '2026-11-28T09:45:00Z');
    const r = await run('reap', '--now', '2026-11-28T10:00:00Z');
    expect(r.code, r.stderr).toBe(0);
    expect(holders(repo)).toEqual([]);
    expect(repo.git('log', '-1', '--format=%B')).not.toContain('Break-Glass-');
    expect(posts).toEqual([]);
    expect(JSON.parse(repo.git('notes', '--ref', 'grantops', 'show', mergeSha))).toMatchObject({
      grants: { 'alice-bg': { breakGlass: { review: { by: 'dora', at: '2026-11-28T09:45:00Z' } } } },
    });
    const audit = JSON.parse(
      (await run('audit', '--verify', '--format', 'json', '--now', '2026-11-28T13:30:00Z')).stdout,
    ) as VerifyDoc;
    expect(audit.breakGlass.map((u) => [u.reviewedBy, u.inTime])).toEqual([['dora', 'yes']]);
    expect(audit.violations).toEqual([]);
  });
});
