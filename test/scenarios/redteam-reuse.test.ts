import { describe, expect, it } from 'vitest';
import { proposeChange, type ChangeProposal } from '../../src/usecases/propose-change.js';
import { MemoryPullRequests } from '../support/fakes/memory-pull-requests.js';

/**
 * Red team finding 2 (and 9): a writer pushes `grantops/request/issue-<N>` ahead of the issue (issue
 * numbers are predictable), or opens their own pull request from it. grantops must not vouch for
 * either: the branch is not reused, the writer's PR is not "found", and the victim's title and plan
 * never describe the writer's content.
 */
const VICTIM = { path: 'grants/vpn/victim-ops.yaml', text: 'user: victim\nrole: ops\n' };
const change: ChangeProposal = {
  branch: 'grantops/request/issue-7',
  base: { branch: 'main', commit: 'c0' },
  files: [VICTIM],
  commitMessage: 'm',
  title: 'Access: victim → vpn/ops',
  body: 'plan: victim vpn/ops',
};

describe('red team: a branch or pull request someone else made is never taken for the proposal', () => {
  it("a pre-pushed branch holding another grant is taken: no pull request describes it as the victim's", async () => {
    const gh = new MemoryPullRequests({ 'policies/vpn.yaml': 'x' });
    gh.commits.set('evil', {
      'policies/vpn.yaml': 'x',
      'grants/vpn/carol-admin.yaml': 'user: carol\nrole: admin\n',
    });
    gh.parents.set('evil', 'c0');
    gh.branches.set(change.branch, 'evil');
    expect(await proposeChange(change, gh)).toEqual({ outcome: 'taken', branch: change.branch });
    expect(gh.pulls).toEqual([]);
    expect(gh.writes).toEqual([]);
  });

  it("a pre-pushed branch holding the victim's file and one more is taken too", async () => {
    const gh = new MemoryPullRequests({ 'policies/vpn.yaml': 'x' });
    gh.commits.set('evil', {
      'policies/vpn.yaml': 'x',
      [VICTIM.path]: VICTIM.text,
      'grants/vpn/carol-admin.yaml': 'user: carol\nrole: admin\n',
    });
    gh.parents.set('evil', 'c0');
    gh.branches.set(change.branch, 'evil');
    expect(await proposeChange(change, gh)).toMatchObject({ outcome: 'taken' });
    expect(gh.pulls).toEqual([]);
  });

  it("exactly the victim's file on a base that is not main's tip is taken (the PR would carry the rest)", async () => {
    const gh = new MemoryPullRequests({ 'policies/vpn.yaml': 'x' });
    gh.commits.set('side', { 'policies/vpn.yaml': 'x', 'grants/vpn/carol-admin.yaml': 'user: carol\n' });
    gh.commits.set('evil', { ...gh.commits.get('side'), [VICTIM.path]: VICTIM.text });
    gh.parents.set('evil', 'side');
    gh.branches.set(change.branch, 'evil');
    expect(await proposeChange(change, gh)).toMatchObject({ outcome: 'taken' });
  });

  it("a writer's own pull request from the proposal's branch is not found: the name is taken", async () => {
    const gh = new MemoryPullRequests({ 'policies/vpn.yaml': 'x' });
    const first = await proposeChange(change, gh);
    expect(first).toMatchObject({ outcome: 'opened' });
    // The bot's PR is closed; the writer opens their own from the same (exact) branch.
    gh.pulls[0]!.open = false;
    gh.pulls.push({
      number: 666,
      head: change.branch,
      base: 'main',
      title: 't',
      body: 'b',
      open: true,
      author: 'mallory',
    });
    expect(await proposeChange(change, gh)).toEqual({ outcome: 'taken', branch: change.branch });
  });
});
