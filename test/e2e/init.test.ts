import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isMap, isScalar, isSeq, parseDocument } from 'yaml';
import { DIST_CLI } from '../support/cli.js';
import { FakeGitHub } from '../support/github-server.js';
import { mergeBranch } from '../support/merge.js';
import { run } from '../support/process.js';
import { tempRepo, type TempRepo } from '../support/repo.js';

/**
 * `grantops init` with the bundled CLI, then the whole loop in the repository it wrote: validate,
 * request on a branch, validate --base, merge, apply through the exec example, reap after expiry.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const SHA = '0123456789abcdef0123456789abcdef01234567';
const NOW = '2026-11-28T12:00:00Z';
const PINNED = /^[A-Za-z0-9-]+\/[A-Za-z0-9._-]+(?:\/[^@\s]+)?@([0-9a-f]{40})$/;
const WORKFLOWS = ['validate', 'apply', 'reap', 'audit', 'report', 'request-from-issue'].map(
  (n) => `.github/workflows/${n}.yml`,
);

let scratch: string;
let gh: FakeGitHub;

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'grantops-init-'));
  gh = await FakeGitHub.start({ token: 'tok' });
});
afterAll(async () => {
  await gh?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

const grantops = (cwd: string, args: string[], env: Record<string, string> = {}) =>
  run(process.execPath, [DIST_CLI, ...args], {
    cwd,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, GIT_CONFIG_NOSYSTEM: '1', ...env },
  });

const listAll = (dir: string): string[] =>
  readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((p) => p.split('\\').join('/'))
    .sort();

describe('grantops init', () => {
  let repo: TempRepo;
  const vpnState = () => join(scratch, 'vpn-state.json');
  const vpnProfiles = () =>
    existsSync(vpnState()) ? (JSON.parse(readFileSync(vpnState(), 'utf8')) as { user: string }[]) : [];

  beforeAll(() => {
    repo = tempRepo();
  });
  afterAll(() => repo?.cleanup());

  it('scaffolds a git repository with the workflows pinned to --action-ref, and commits nothing', async () => {
    const r = await grantops(repo.dir, ['init', '.', '--action-ref', `acme/grantops@${SHA}`]);
    expect(r.stderr).toContain('@OWNER/access-admins');
    expect(r.code).toBe(0);
    const written = r.stdout.trim().split('\n').sort();
    expect(written).toEqual(
      [
        '.github/CODEOWNERS',
        '.github/ISSUE_TEMPLATE/access-request.yml',
        ...WORKFLOWS,
        'grants/README.md',
        'policies/payments-repo.yaml',
        'policies/platform-team.yaml',
        'policies/prod-db.yaml',
        'policies/vpn.yaml',
        'schemas/grant.schema.json',
        'schemas/policy.schema.json',
        'scripts/vpn-access.mjs',
      ].sort(),
    );
    expect(repo.git('symbolic-ref', 'HEAD')).toBe('refs/heads/main');
    expect(() => repo.git('rev-parse', '--verify', '-q', 'HEAD')).toThrow(); // no commit
    expect(statSync(join(repo.dir, 'scripts/vpn-access.mjs')).mode & 0o100).toBe(0o100);
    for (const wf of WORKFLOWS) {
      expect(readFileSync(join(repo.dir, wf), 'utf8')).toContain(
        `uses: acme/grantops@${SHA} # v${VERSION}\n`,
      );
    }
    const owners = readFileSync(join(repo.dir, '.github/CODEOWNERS'), 'utf8');
    for (const dir of ['policies', 'scripts', '.github', 'schemas', 'templates'])
      expect(owners).toMatch(new RegExp(`^/${dir.replace('.', '\\.')}/\\s+@OWNER/access-admins$`, 'm'));
    // Every example policy's editor schema comment resolves from policies/.
    for (const p of readdirSync(join(repo.dir, 'policies'))) {
      const ref = /\$schema=(\S+)/.exec(readFileSync(join(repo.dir, 'policies', p), 'utf8'))?.[1] ?? '';
      expect(existsSync(join(repo.dir, 'policies', ref)), p).toBe(true);
    }
  });

  it('writes the access-request issue form for the example policies', () => {
    const form = parseDocument(
      readFileSync(join(repo.dir, '.github/ISSUE_TEMPLATE/access-request.yml'), 'utf8'),
    ).toJS() as { labels: string[]; body: { id?: string; attributes: { options?: string[] } }[] };
    expect(form.labels).toEqual(['access-request']);
    const options = (id: string) => form.body.find((b) => b.id === id)?.attributes.options;
    expect(options('target')).toEqual(['payments-repo', 'platform-team', 'prod-db', 'vpn']);
    expect(options('role')).toEqual(expect.arrayContaining(['user', 'admin', 'readonly', 'member', 'pull']));
  });

  it('validates as written, one policy per target type', async () => {
    const r = await grantops(repo.dir, ['validate', '--json', '--now', NOW]);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, errors: [] });
    expect(r.code).toBe(0);
    const types = readdirSync(join(repo.dir, 'policies')).map(
      (p) => /type: (\S+)/.exec(readFileSync(join(repo.dir, 'policies', p), 'utf8'))?.[1],
    );
    expect(types.sort()).toEqual(['exec', 'github-repo', 'github-team', 'postgres']);
    repo.commit('access repo from grantops init');
  });

  let grantPath = '';
  it('takes a request on a branch, judged by main with validate --base', async () => {
    repo.git('checkout', '-q', '-b', 'alice-vpn');
    const r = await grantops(repo.dir, [
      'request',
      '--user',
      'alice',
      '--target',
      'vpn',
      '--role',
      'user',
      '--for',
      '2h',
      '--reason',
      'CHG-1190 rotate the bastion keys',
      '--now',
      NOW,
    ]);
    expect(r.code, r.stderr).toBe(0);
    grantPath = r.stdout.trim();
    expect(grantPath).toMatch(/^grants\/vpn\/alice-user-20261128-1200\.yaml$/);
    const text = readFileSync(join(repo.dir, grantPath), 'utf8');
    const ref = /\$schema=(\S+)/.exec(text)?.[1] ?? '';
    expect(existsSync(join(repo.dir, dirname(grantPath), ref))).toBe(true);
    repo.commit('alice: vpn user 2h');
    const v = await grantops(repo.dir, ['validate', '--base', 'main', '--now', NOW]);
    expect(v.code, v.stderr).toBe(0);
    expect(`${v.stdout}${v.stderr}`).toMatch(/alice/);
    expect(`${v.stdout}${v.stderr}`).toMatch(/vpn/);
  });

  it('applies the merged grant through the exec example, and the reaper revokes it at expiry', async () => {
    const head = repo.git('rev-parse', 'HEAD');
    mergeBranch(repo, gh, {
      number: 1,
      author: 'alice',
      branch: 'alice-vpn',
      mergedAt: '2026-11-28T11:59:00Z',
      commits: [head],
      reviews: [], // the vpn user role asks for no approval: the merge grants
    });

    const env = { VPN_STATE_FILE: vpnState() };
    const a = await grantops(repo.dir, ['apply', '--target', 'vpn', '--now', NOW], {
      ...env,
      GITHUB_TOKEN: 'tok',
      GITHUB_REPOSITORY: 'acme/access',
      GITHUB_API_URL: gh.url,
    });
    expect(a.code, `${a.stdout}${a.stderr}`).toBe(0);
    expect(vpnProfiles().map((p) => p.user)).toEqual(['alice']);

    const r = await grantops(repo.dir, ['reap', '--now', '2026-11-28T14:30:00Z', '--json'], env);
    // The other examples name systems this test has no credentials for: reported, and the run is
    // red until they are configured or deleted; vpn's revocation and the cleanup commit happen anyway.
    const doc = JSON.parse(r.stdout) as { problems: string[] };
    expect(doc.problems.map((p) => /target (\S+) could not be read/.exec(p)?.[1]).sort()).toEqual([
      'payments-repo',
      'platform-team',
      'prod-db',
    ]);
    expect(r.code).toBe(1);
    expect(vpnProfiles()).toEqual([]);
    expect(existsSync(join(repo.dir, grantPath))).toBe(false);
    const id = grantPath.slice('grants/'.length, -'.yaml'.length);
    expect(repo.git('log', '-1', '--format=%B')).toContain(`Revoked-Grant: ${id}`);
    expect(repo.git('status', '--porcelain')).toBe('');
  });
});

describe('grantops init refuses', () => {
  it('to write over anything: it lists what is in the way and writes nothing', async () => {
    const dir = join(scratch, 'taken');
    const outside = join(scratch, 'outside');
    mkdirSync(join(dir, 'policies'), { recursive: true });
    mkdirSync(outside);
    writeFileSync(join(dir, 'policies/vpn.yaml'), 'mine\n');
    writeFileSync(join(dir, 'notes.txt'), 'unrelated\n');
    symlinkSync(outside, join(dir, 'scripts'));
    const before = listAll(dir);
    const r = await grantops(scratch, ['init', 'taken', '--action-ref', `acme/grantops@${SHA}`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('policies/vpn.yaml');
    expect(r.stderr).toContain('scripts');
    expect(listAll(dir)).toEqual(before);
    expect(readdirSync(outside)).toEqual([]);
    expect(readFileSync(join(dir, 'policies/vpn.yaml'), 'utf8')).toBe('mine\n');
  });

  it('a DIR that is a symbolic link', async () => {
    const target = join(scratch, 'link-target');
    mkdirSync(target);
    symlinkSync(target, join(scratch, 'link'));
    const r = await grantops(scratch, ['init', 'link', '--action-ref', `acme/grantops@${SHA}`]);
    expect(r.code).toBe(2);
    expect(readdirSync(target)).toEqual([]);
  });

  it('to pin anything but a full commit sha', async () => {
    for (const ref of ['acme/grantops@v1', 'acme/grantops@0123456', `acme@${SHA}`, `../x@${SHA}`]) {
      const r = await grantops(scratch, ['init', 'bad-ref', '--action-ref', ref]);
      expect(r.code, ref).toBe(2);
      expect(r.stderr, ref).toContain('OWNER/REPO@SHA');
    }
    expect(existsSync(join(scratch, 'bad-ref'))).toBe(false);
  });

  it('to guess a pin in a development build: it asks for --action-ref', async () => {
    const r = await grantops(scratch, ['init', 'dev']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--action-ref OWNER/REPO@SHA');
    expect(existsSync(join(scratch, 'dev'))).toBe(false);
  });

  it('to run git init with --no-git', async () => {
    const r = await grantops(scratch, ['init', 'plain', '--no-git', '--action-ref', `acme/grantops@${SHA}`]);
    expect(r.code).toBe(0);
    expect(existsSync(join(scratch, 'plain', '.git'))).toBe(false);
    expect(existsSync(join(scratch, 'plain', 'policies/vpn.yaml'))).toBe(true);
  });
});

interface Step {
  uses?: string;
  comment?: string;
  with?: Record<string, unknown>;
}

/** The checks test/integration/workflows.test.ts holds the shipped examples to, on what init writes. */
describe('the workflows init writes', () => {
  let dir: string;
  const load = (file: string) => {
    const doc = parseDocument(readFileSync(join(dir, file), 'utf8'));
    expect(doc.errors, file).toEqual([]);
    const js = doc.toJS() as {
      on: Record<string, unknown>;
      permissions: unknown;
      concurrency?: { group: string };
      jobs: Record<string, { permissions: unknown; environment?: string }>;
    };
    const steps: Step[] = [];
    const jobs = doc.get('jobs');
    if (isMap(jobs))
      for (const pair of jobs.items) {
        const s = isMap(pair.value) ? pair.value.get('steps') : undefined;
        if (!isSeq(s)) continue;
        for (const item of s.items) {
          if (!isMap(item)) continue;
          const uses = item.get('uses', true);
          const w = item.get('with');
          steps.push({
            ...(isScalar(uses) ? { uses: String(uses.value), comment: uses.comment ?? '' } : {}),
            ...(isMap(w) ? { with: w.toJSON() as Record<string, unknown> } : {}),
          });
        }
      }
    return { js, steps, text: readFileSync(join(dir, file), 'utf8') };
  };

  beforeAll(async () => {
    dir = join(scratch, 'wf');
    const r = await grantops(scratch, ['init', 'wf', '--no-git', '--action-ref', `acme/grantops@${SHA}`]);
    expect(r.code).toBe(0);
  });

  it.each(WORKFLOWS)('%s: least privilege, every action pinned by sha with a # vX.Y.Z comment', (file) => {
    const { js, steps, text } = load(file);
    expect(Object.keys(js.on)).not.toContain('pull_request_target');
    expect(js.permissions).toEqual({});
    for (const job of Object.values(js.jobs)) {
      expect(job.permissions).toBeTypeOf('object');
      const writes = (job.permissions as Record<string, string>).contents === 'write';
      for (const s of steps.filter((x) => x.uses?.startsWith('actions/checkout@')))
        if (!writes) expect(s.with?.['persist-credentials']).toBe(false);
    }
    for (const s of steps.filter((x) => x.uses !== undefined)) {
      expect(s.uses).toMatch(PINNED);
      expect(s.comment, s.uses).toMatch(/^\s*v\d+\.\d+\.\d+\s*$/);
    }
    expect(steps.filter((s) => s.uses?.startsWith('acme/grantops@')).length).toBeGreaterThan(0);
    if (Object.keys(js.on).some((e) => e.startsWith('pull_request'))) expect(text).not.toMatch(/secrets\./);
  });

  it('apply and reap share grantops-main, the grantops environment and a GitHub App token', () => {
    for (const file of ['.github/workflows/apply.yml', '.github/workflows/reap.yml']) {
      const { js, steps } = load(file);
      expect(js.concurrency?.group).toBe('grantops-main');
      expect(Object.values(js.jobs).map((j) => j.environment)).toEqual(['grantops']);
      const token = steps.find((s) => s.uses?.startsWith('actions/create-github-app-token@'));
      expect(token?.with).toMatchObject({
        'app-id': '${{ secrets.GRANTOPS_APP_ID }}',
        'private-key': '${{ secrets.GRANTOPS_APP_PRIVATE_KEY }}',
      });
      for (const s of steps.filter((x) => x.uses?.startsWith('acme/grantops@')))
        expect(s.with?.['admin-token']).toBe('${{ steps.app-token.outputs.token }}');
    }
    for (const file of ['.github/workflows/validate.yml', '.github/workflows/audit.yml']) {
      expect(load(file).text).not.toContain('create-github-app-token');
      expect(load(file).text).not.toContain('environment:');
    }
  });

  it('reap and audit restore the history cache before grantops and save it only from main', () => {
    for (const file of ['.github/workflows/reap.yml', '.github/workflows/audit.yml']) {
      const { steps, text } = load(file);
      const at = (prefix: string) => steps.findIndex((s) => s.uses?.startsWith(prefix));
      const grantops = steps.flatMap((s, i) => (s.uses?.startsWith('acme/grantops@') ? [i] : []));
      expect(at('actions/cache/restore@'), file).toBeGreaterThanOrEqual(0);
      expect(at('actions/cache/restore@')).toBeLessThan(Math.min(...grantops));
      expect(at('actions/cache/save@')).toBeGreaterThan(Math.max(...grantops));
      expect(steps[at('actions/cache/save@')]?.with?.path).toBe('.git/grantops');
      expect(text).toContain("if: ${{ !cancelled() && github.ref == 'refs/heads/main' }}");
    }
    for (const file of ['.github/workflows/validate.yml', '.github/workflows/apply.yml'])
      expect(load(file).text).not.toContain('actions/cache');
  });
});
