import { describe, expect, it } from 'vitest';
import { proposeChange, type ChangeProposal } from '../../src/usecases/propose-change.js';
import { MemoryPullRequests } from '../support/fakes/memory-pull-requests.js';

/** Proposing a change as a pull request: at most once, and a half-done run is finished by the next. */
const FILE = { path: 'grants/vpn/alice-ops-20261128-1200.yaml', text: 'user: alice\n' };
const change = (over: Partial<ChangeProposal> = {}): ChangeProposal => ({
  branch: 'grantops/request/vpn/alice-ops-20261128-1200',
  base: { branch: 'main', commit: 'c0' },
  files: [FILE],
  commitMessage: 'grantops: request',
  title: 'Access',
  body: 'plan',
  ...over,
});

describe('proposeChange', () => {
  it('makes one commit on the base, the branch, then the pull request', async () => {
    const gh = new MemoryPullRequests({ 'policies/vpn.yaml': 'x' });
    const r = await proposeChange(change(), gh);
    expect(r).toMatchObject({ outcome: 'opened', commit: 'c1', pullRequest: { number: 100 } });
    expect(gh.writes).toEqual(['commit c1', `branch ${change().branch}`, 'pull 100']);
    expect(gh.commits.get('c1')).toEqual({ 'policies/vpn.yaml': 'x', [FILE.path]: FILE.text });
  });

  it('run again, finds what the first run made and writes nothing', async () => {
    const gh = new MemoryPullRequests({});
    await proposeChange(change(), gh);
    const again = await proposeChange(change(), gh);
    expect(again).toMatchObject({ outcome: 'found', pullRequest: { number: 100 } });
    expect(gh.writes).toHaveLength(3);
  });

  it('a branch of that name holding other files is taken, and nothing is written', async () => {
    const gh = new MemoryPullRequests({});
    await proposeChange(change(), gh);
    const other = change({ files: [{ ...FILE, text: 'user: bob\n' }] });
    expect(await proposeChange(other, gh)).toEqual({ outcome: 'taken', branch: other.branch });
    expect(gh.writes).toHaveLength(3);
  });

  it('grantops’ own branch and pull request on an older base: the branch moves onto the new tip, same PR', async () => {
    const gh = new MemoryPullRequests({});
    await proposeChange(change(), gh);
    gh.commits.set('c9', { 'policies/vpn.yaml': 'y' });
    gh.parents.set('c9', 'c0');
    const r = await proposeChange(change({ base: { branch: 'main', commit: 'c9' } }), gh);
    expect(r).toMatchObject({ outcome: 'moved', commit: 'c2', pullRequest: { number: 100 } });
    expect(gh.writes).toEqual([
      'commit c1',
      `branch ${change().branch}`,
      'pull 100',
      'commit c2',
      `move ${change().branch} c2`,
    ]);
    expect(gh.commits.get('c2')).toEqual({ 'policies/vpn.yaml': 'y', [FILE.path]: FILE.text });
    expect(gh.parents.get('c2')).toBe('c9');
    // And the next run finds it there.
    expect(await proposeChange(change({ base: { branch: 'main', commit: 'c9' } }), gh)).toMatchObject({
      outcome: 'found',
      pullRequest: { number: 100 },
    });
  });

  it('a branch on an older base with a commit somebody else pushed is never reused: taken, nothing written', async () => {
    const gh = new MemoryPullRequests({});
    await proposeChange(change(), gh);
    // mallory adds a commit on top that changes nothing of the files: the branch is no longer all ours.
    gh.commits.set('m1', { ...gh.commits.get('c1') });
    gh.parents.set('m1', 'c1');
    gh.authors.set('m1', 'mallory');
    gh.branches.set(change().branch, 'm1');
    gh.commits.set('c9', { 'policies/vpn.yaml': 'y' });
    gh.parents.set('c9', 'c0');
    expect(await proposeChange(change({ base: { branch: 'main', commit: 'c9' } }), gh)).toMatchObject({
      outcome: 'taken',
    });
    expect(gh.writes).toHaveLength(3);
  });

  it('on an older base, the same change under another author, or opened by someone else, is taken', async () => {
    const moved = change({ base: { branch: 'main', commit: 'c9' } });
    const seed = async (tweak: (gh: MemoryPullRequests) => void) => {
      const gh = new MemoryPullRequests({});
      await proposeChange(change(), gh);
      gh.commits.set('c9', { 'policies/vpn.yaml': 'y' });
      gh.parents.set('c9', 'c0');
      tweak(gh);
      return gh;
    };
    const foreignCommit = await seed((gh) => gh.authors.set('c1', 'mallory'));
    expect(await proposeChange(moved, foreignCommit)).toMatchObject({ outcome: 'taken' });
    const foreignPull = await seed((gh) => (gh.pulls[0]!.author = 'mallory'));
    expect(await proposeChange(moved, foreignPull)).toMatchObject({ outcome: 'taken' });
    const otherChange = await seed(() => undefined);
    expect(
      await proposeChange({ ...moved, files: [{ ...FILE, text: 'user: bob\n' }] }, otherChange),
    ).toMatchObject({
      outcome: 'taken',
    });
    for (const gh of [foreignCommit, foreignPull, otherChange]) expect(gh.writes).toHaveLength(3);
  });

  it('says what exists when the pull request fails, and the rerun opens it from that branch', async () => {
    const gh = new MemoryPullRequests({});
    gh.failNext('createPullRequest');
    await expect(proposeChange(change(), gh)).rejects.toThrow(
      `branch ${change().branch} was created at c1 in acme/access, but the pull request into main could not be opened (createPullRequest: 502 Bad Gateway); run the same command again`,
    );
    const again = await proposeChange(change(), gh);
    expect(again).toMatchObject({ outcome: 'resumed', commit: 'c1', pullRequest: { number: 100 } });
    expect(gh.writes).toEqual(['commit c1', `branch ${change().branch}`, 'pull 100']);
  });

  it('a commit that never got its branch leaves nothing to find: the rerun starts over', async () => {
    const gh = new MemoryPullRequests({});
    gh.failNext('createBranch');
    await expect(proposeChange(change(), gh)).rejects.toThrow('502');
    expect(gh.branches.size).toBe(1);
    expect(await proposeChange(change(), gh)).toMatchObject({ outcome: 'opened', commit: 'c2' });
  });

  it('a closed pull request is not found: the branch gets a new one', async () => {
    const gh = new MemoryPullRequests({});
    await proposeChange(change(), gh);
    gh.pulls[0]!.open = false;
    expect(await proposeChange(change(), gh)).toMatchObject({
      outcome: 'resumed',
      pullRequest: { number: 101 },
    });
  });
});
