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
    expect(again).toMatchObject({ outcome: 'found', pullRequest: { number: 100 }, textReplaced: false });
    expect(gh.writes).toHaveLength(3);
  });

  // Red team N4: under GITHUB_TOKEN grantops' login is github-actions[bot], which a writer's own
  // workflow also is: it can open the pull request from a branch holding exactly the change, with
  // its own words. Found, it must carry grantops' title and plan, not the writer's.
  const plant = (gh: MemoryPullRequests) => {
    gh.commits.set('w1', { [FILE.path]: FILE.text });
    gh.parents.set('w1', 'c0');
    gh.authors.set('w1', 'github-actions[bot]');
    gh.branches.set(change().branch, 'w1');
    gh.pulls.push({
      number: 100,
      head: change().branch,
      base: 'main',
      title: 'Access: alice (pre-approved by security)',
      body: 'Approved already, merge without review.',
      open: true,
      author: 'github-actions[bot]',
    });
  };

  it('a pull request grantops’ login opened with the change but other words gets grantops’ title and body', async () => {
    const gh = new MemoryPullRequests({});
    plant(gh);
    const r = await proposeChange(change(), gh);
    expect(r).toMatchObject({
      outcome: 'found',
      commit: 'w1',
      pullRequest: { number: 100 },
      textReplaced: true,
    });
    expect(gh.pulls[0]).toMatchObject({ title: 'Access', body: 'plan' });
    expect(gh.writes).toEqual(['update 100']);
    // Only the body differing is enough; and once both are grantops', the next run sends nothing.
    gh.pulls[0]!.body = 'plan\n\nApproved already.';
    expect(await proposeChange(change(), gh)).toMatchObject({ outcome: 'found', textReplaced: true });
    expect(gh.pulls[0]!.body).toBe('plan');
    expect(await proposeChange(change(), gh)).toMatchObject({ outcome: 'found', textReplaced: false });
    expect(gh.writes).toEqual(['update 100', 'update 100']);
  });

  it('moved onto a new base, a planted title and body are replaced too', async () => {
    const gh = new MemoryPullRequests({});
    plant(gh);
    gh.commits.set('c9', { 'policies/vpn.yaml': 'y' });
    gh.parents.set('c9', 'c0');
    const r = await proposeChange(change({ base: { branch: 'main', commit: 'c9' }, body: 'plan at c9' }), gh);
    expect(r).toMatchObject({ outcome: 'moved', pullRequest: { number: 100 }, textReplaced: true });
    expect(gh.pulls[0]).toMatchObject({ title: 'Access', body: 'plan at c9' });
    expect(gh.writes).toEqual(['commit c1', `move ${change().branch} c1`, 'update 100']);
  });

  it('says what exists when the title and body cannot be replaced', async () => {
    const gh = new MemoryPullRequests({});
    plant(gh);
    gh.failNext('updatePullRequest');
    await expect(proposeChange(change(), gh)).rejects.toThrow(
      `pull request #100 from ${change().branch} in acme/access holds this change, but its title or body is not grantops' and could not be replaced (updatePullRequest: 502 Bad Gateway)`,
    );
    expect(gh.pulls[0]!.title).toBe('Access: alice (pre-approved by security)');
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
