import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createOctokit, OctokitAccessRepo } from '../../src/adapters/github-client.js';
import { GitRepo } from '../../src/adapters/git/repo.js';
import type { Grant } from '../../src/model/grant.js';
import { fixedClock } from '../../src/ports/clock.js';
import { SchemaRegistry } from '../../src/policy/schema-registry.js';
import { ApprovalFinder } from '../../src/usecases/find-approvals.js';
import { aGrant, NOW, POLICIES } from '../support/builders.js';
import { FakeGitHub } from '../support/github-server.js';
import { mergePullRequest } from '../support/merge.js';
import { tempRepo, type TempRepo } from '../support/repo.js';

/**
 * Red team finding 2, approval laundering: a pull request grantops opened (its author is a bot, so
 * "the PR's author never counts" excludes nobody) gets a grant pushed onto its branch by a writer who
 * is an approver, and that writer approves it. The authors and committers of the PR's commits, as
 * GitHub lists them (pulls/list-commits on the local OpenAPI-checked server), never count.
 */
let gh: FakeGitHub;
let repo: TempRepo;
beforeAll(async () => {
  gh = await FakeGitHub.start();
});
afterAll(async () => {
  await gh.stop();
});
beforeEach(() => {
  gh.pulls.clear();
  gh.trees.clear();
  gh.requests.length = 0;
  gh.violations.length = 0;
  repo = tempRepo({ ...POLICIES, 'scripts/vpn.sh': '#!/bin/sh\n' }, { git: true });
});
afterEach(() => repo.cleanup());

const grant = (user: string, file: string): Grant => ({
  id: file.slice('grants/'.length, -'.yaml'.length),
  file,
  user,
  target: 'vpn',
  role: 'ops',
  reason: 'x',
  expiresAt: new Date('2026-11-28T18:00:00Z'),
});
const VICTIM = 'grants/vpn/carol-ops.yaml';
const PLANTED = 'grants/vpn/mallory-ops.yaml';

/** The bot's PR for carol; bob (an approver of vpn/ops) pushes mallory's grant onto it and approves. */
async function laundered(bobsCommit: { author: string | null; committer: string | null }) {
  const { headSha } = mergePullRequest(repo, gh, {
    number: 41,
    author: 'github-actions[bot]',
    files: { [VICTIM]: aGrant().for('carol').on('vpn', 'ops').yaml() },
    pushAfterReview: { [PLANTED]: aGrant().for('mallory').on('vpn', 'ops').yaml() },
    reviews: [{ user: 'bob', onCommit: 'head' }],
  });
  const pr = gh.repoPulls('acme/access').find((p) => p.number === 41)!;
  pr.commitAuthors = { [headSha]: bobsCommit };
  const finder = new ApprovalFinder(
    await GitRepo.open(repo.dir),
    new OctokitAccessRepo(createOctokit({ token: gh.token, baseUrl: gh.url }), 'acme', 'access'),
    fixedClock(new Date(NOW)),
    new SchemaRegistry(),
  );
  const verdicts = await finder.verify([grant('carol', VICTIM), grant('mallory', PLANTED)]);
  expect(gh.violations).toEqual([]);
  return verdicts;
}

describe('approval: whoever wrote a commit of the pull request never approves it', () => {
  it('a writer who pushed a grant onto the bot-opened PR and approved it is refused', async () => {
    const v = await laundered({ author: 'bob', committer: 'bob' });
    for (const id of ['vpn/carol-ops', 'vpn/mallory-ops']) {
      expect(v.get(id)).toMatchObject({ approved: false, approvers: [], pr: 41 });
      expect(v.get(id)).not.toHaveProperty('undecided');
    }
    expect(v.get('vpn/mallory-ops')).toMatchObject({
      reason: expect.stringContaining('the authors and committers of its commits do not count') as unknown,
    });
    // One listing of the PR's commits, fetched with its other facts.
    expect(gh.requests.filter((r) => r.operationId === 'pulls/list-commits')).toHaveLength(1);
  });

  it("committing someone else's commit counts as writing it", async () => {
    const v = await laundered({ author: 'github-actions[bot]', committer: 'bob' });
    expect(v.get('vpn/mallory-ops')).toMatchObject({ approved: false, approvers: [] });
  });

  it("a commit whose author GitHub maps to no account makes nobody's approval count", async () => {
    const v = await laundered({ author: null, committer: 'web-flow' });
    expect(v.get('vpn/mallory-ops')).toMatchObject({
      approved: false,
      reason: expect.stringContaining("has an author whose email is no GitHub account's") as unknown,
    });
  });

  it('the same approval counts when bob wrote none of the commits', async () => {
    const v = await laundered({ author: 'github-actions[bot]', committer: 'github-actions[bot]' });
    expect(v.get('vpn/mallory-ops')).toMatchObject({ approved: true, evidence: { approvers: ['bob'] } });
  });
});
