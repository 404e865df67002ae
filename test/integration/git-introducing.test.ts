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
    expect(
      (await git.introducingCommits(['grants/mallory.yaml'], ['grants'])).get('grants/mallory.yaml'),
    ).toBe(back);
  });
});
