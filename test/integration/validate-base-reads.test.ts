import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { GitRepo } from '../../src/adapters/git/repo.js';
import { WorkTree } from '../../src/adapters/work-tree.js';
import type { FileTree } from '../../src/model/file-tree.js';
import { SchemaRegistry } from '../../src/policy/schema-registry.js';
import { validateAccessRepo } from '../../src/usecases/validate-repo.js';
import { aGrant, NOW, POLICIES } from '../support/builders.js';
import { cli } from '../support/cli.js';
import { tempRepo, type TempRepo } from '../support/repo.js';

/**
 * `validate --base` reads what a change brings and no more (issue 15): the changed grants from the
 * work tree, the base's policies with one `git cat-file --batch`, and of the base's other grants
 * only their names (for ids that differ in letter case alone).
 */
let repo: TempRepo;
afterEach(() => repo.cleanup());

const CORRUPT = {
  'grants/broken.yaml': 'user: [unclosed\n',
  'grants/Not An Id.yaml': aGrant().for('dora').yaml(),
};

function mainWithCorruptGrants(): TempRepo {
  repo = tempRepo(
    { ...POLICIES, 'grants/existing.yaml': aGrant().for('erin').yaml(), ...CORRUPT },
    { git: true },
  );
  repo.git('checkout', '-q', '-b', 'pr');
  repo.write({ 'grants/new.yaml': aGrant().for('frank').yaml() });
  repo.commit('one more grant');
  return repo;
}

/** The work tree, recording what is listed and read. */
function spyTree(root: string): { tree: FileTree; listed: string[]; read: string[]; asked: string[] } {
  const work = new WorkTree(root);
  const seen = { listed: [] as string[], read: [] as string[], asked: [] as string[] };
  const tree: FileTree = {
    label: work.label,
    list: (dir) => (seen.listed.push(dir), work.list(dir)),
    read: (path, max) => (seen.read.push(path), work.read(path, max)),
    entriesAt: (dir, paths) => (seen.asked.push(...paths), work.entriesAt(dir, paths)),
  };
  return { tree, ...seen };
}

describe('validate --base reads only what the change brings', () => {
  it('does not read the unchanged grants, not even corrupt ones', async () => {
    mainWithCorruptGrants();
    const all = await cli(repo.dir, 'validate', '--now', NOW);
    expect(all.code).toBe(1); // without a base, the corrupt files are found

    const r = await cli(repo.dir, 'validate', '--now', NOW, '--json', '--base', 'main');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { grants: number; errors: unknown[] };
    expect(doc.grants).toBe(1);
    expect(doc.errors).toEqual([]);
  });

  it('reads the changed grant from the work tree, and lists none of the others', async () => {
    mainWithCorruptGrants();
    const spy = spyTree(repo.dir);
    const report = await validateAccessRepo(
      { now: new Date(NOW), base: 'main' },
      { work: spy.tree, registry: new SchemaRegistry(), history: await GitRepo.open(repo.dir) },
    );
    expect(report.ok).toBe(true);
    expect(report.grantsChecked).toBe(1);
    expect(spy.listed).toEqual([]);
    expect(spy.asked).toEqual(['grants/new.yaml']);
    expect(spy.read).toEqual(['grants/new.yaml']);
  });

  it('reads the base with a handful of git processes: one cat-file --batch for all its policies', async () => {
    mainWithCorruptGrants();
    const trace = join(tmpdir(), `grantops-trace-${process.pid}-${Date.now()}`);
    const before = process.env.GIT_TRACE;
    process.env.GIT_TRACE = trace; // inherited by every git the run starts
    try {
      expect((await cli(repo.dir, 'validate', '--now', NOW, '--base', 'main')).code).toBe(0);
    } finally {
      if (before === undefined) delete process.env.GIT_TRACE;
      else process.env.GIT_TRACE = before;
    }
    const commands = readFileSync(trace, 'utf8')
      .split('\n')
      .filter((l) => l.includes('trace: built-in: git'))
      .map((l) => l.replace(/.*built-in: git /, ''));
    rmSync(trace, { force: true });
    expect(commands.filter((c) => c.startsWith('cat-file'))).toEqual(['cat-file --batch']);
    // One listing of the policies with their sizes; one of the grants' paths alone (for duplicate
    // ids), not held up by or holding up the policies: with sizes, 10,000 grants cost 80 ms more.
    const listings = commands.filter((c) => c.startsWith('ls-tree')).sort();
    expect(listings).toHaveLength(2);
    expect(listings[0]).toMatch(/^ls-tree -r -l .* -- policies/);
    expect(listings[1]).toMatch(/^ls-tree -r -z .* -- grants\/$/);
    expect(commands.length).toBeLessThanOrEqual(8);
  });
});

describe("a base policy's grantSchema, compiled when a changed grant needs it", () => {
  const brokenSchema = POLICIES['policies/prod-db.yaml'].replace('required: [ticket]', 'requird: [ticket]');

  it('is reported at the policy, exit 2, when a changed grant is validated against it', async () => {
    repo = tempRepo({ ...POLICIES, 'policies/prod-db.yaml': brokenSchema }, { git: true });
    repo.git('checkout', '-q', '-b', 'pr');
    repo.write({ 'grants/new.yaml': aGrant().for('frank').yaml() });
    repo.commit('a grant on prod-db');
    const r = await cli(repo.dir, 'validate', '--now', NOW, '--base', 'main');
    expect(r.code).toBe(2);
    expect(r.stdout + r.stderr).toContain(
      'policies/prod-db.yaml:9:3: error: grantSchema is not a valid JSON Schema: strict mode: unknown keyword: "requird"',
    );
  });

  it('is not compiled for a change that brings no grant on its target', async () => {
    repo = tempRepo({ ...POLICIES, 'policies/prod-db.yaml': brokenSchema }, { git: true });
    repo.git('checkout', '-q', '-b', 'pr');
    repo.write({ 'grants/new.yaml': aGrant().for('frank').on('platform-team', 'member').yaml() });
    repo.commit('a grant on the team');
    expect((await cli(repo.dir, 'validate', '--now', NOW, '--base', 'main')).code).toBe(0);
    // Without a base every policy is compiled, and the broken one reported at the same place.
    const all = await cli(repo.dir, 'validate', '--now', NOW);
    expect(all.code).toBe(2);
    expect(all.stdout + all.stderr).toContain('policies/prod-db.yaml:9:3: error: grantSchema is not a valid');
  });
});
