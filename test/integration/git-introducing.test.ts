import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GitRepo } from '../../src/adapters/git/repo.js';
import { tempRepo, type TempRepo } from '../support/repo.js';

/**
 * The commit that "brought" a grant decides whose approval counts. Found by the red-team review:
 * a grant file turned into a symlink and back (git calls it a type change, T) was not seen as
 * changed, so an old approval was replayed for new content.
 */
let repo: TempRepo;
beforeAll(() => {
  repo = tempRepo({ 'policies/x.yaml': 'x' }, { git: true });
});
afterAll(() => repo.cleanup());

describe('introducingCommits', () => {
  it('says whether the commit added the file or changed it', async () => {
    repo.write({ 'grants/new.yaml': 'user: a\n' });
    const added = repo.commit('add');
    const git = await GitRepo.open(repo.dir);
    const at = async () =>
      (await git.introducingCommits(['grants/new.yaml'], ['grants'])).get('grants/new.yaml');
    expect(await at()).toMatchObject({ commit: added, added: true });
    repo.write({ 'grants/new.yaml': 'user: a\nreason: more\n' });
    const edited = repo.commit('edit');
    expect(await at()).toMatchObject({ commit: edited, added: false });
    repo.git('rm', '-q', 'grants/new.yaml');
    repo.commit('remove');
  });

  it('names the last commit that changed a file, type changes included', async () => {
    repo.write({ 'grants/mallory.yaml': 'expiresAt: 18:00' });
    const approved = repo.commit('approved PR');
    repo.git('rm', '-q', 'grants/mallory.yaml');
    repo.write({ 'grants/mallory.yaml': { symlink: 'elsewhere' } });
    const toLink = repo.commit('to a symlink');
    repo.git('rm', '-q', 'grants/mallory.yaml');
    repo.write({ 'grants/mallory.yaml': 'expiresAt: 05:00 tomorrow' });
    const back = repo.commit('back to a file, new content, no review');
    expect([approved, toLink]).not.toContain(back);
    const git = await GitRepo.open(repo.dir);
    const blob = repo.git('rev-parse', `${back}:grants/mallory.yaml`);
    expect(
      (await git.introducingCommits(['grants/mallory.yaml'], ['grants'])).get('grants/mallory.yaml'),
    ).toEqual({
      commit: back,
      blob,
      landedAt: 1000 * Number(repo.git('log', '-1', '--format=%ct', back)),
      added: false, // a change of an existing path: never a break-glass use
    });
    expect((await git.blobsAt('HEAD', 'grants')).get('grants/mallory.yaml')).toBe(blob);
  });

  it('names the blob a merge brought, for every file of a bulk import and a rename', async () => {
    repo.git('checkout', '-q', '-b', 'bulk');
    const files: Record<string, string> = {};
    for (let i = 0; i < 50; i++) files[`grants/team/u${i}.yaml`] = `user: u${i}\n`;
    repo.write(files);
    repo.commit('import');
    repo.git('mv', 'grants/mallory.yaml', 'grants/team/mallory.yaml');
    repo.commit('move');
    repo.git('checkout', '-q', 'main');
    repo.git('merge', '-q', '--no-ff', '-m', 'Merge bulk', 'bulk');
    const merge = repo.git('rev-parse', 'HEAD');
    const git = await GitRepo.open(repo.dir);
    const paths = [...Object.keys(files), 'grants/team/mallory.yaml'];
    const found = await git.introducingCommits(paths, ['grants']);
    const listed = await git.blobsAt(merge, 'grants');
    expect(listed.size).toBe(51);
    for (const path of paths) {
      expect(found.get(path)).toEqual({
        commit: merge,
        blob: repo.git('rev-parse', `${merge}:${path}`),
        // When it landed on main: a break-glass grant's review is due from there.
        landedAt: 1000 * Number(repo.git('log', '-1', '--format=%ct', merge)),
        // Added by the merge, except the renamed file (an old grant under a new name).
        added: path !== 'grants/team/mallory.yaml',
      });
      expect(listed.get(path)).toBe(found.get(path)?.blob);
    }
  });
});
