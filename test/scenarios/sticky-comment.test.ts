import { describe, expect, it } from 'vitest';
import { upsertStickyComment } from '../../src/usecases/github-threads.js';
import { MemoryGitHub } from '../support/fakes/memory-github.js';

/** The one comment grantops keeps per PR or issue: only its own is ever edited. */
const MARKER = '<!-- grantops:test -->';

describe('upsertStickyComment', () => {
  it("knows grantops' comment by its login when given: another bot's copy of the marker is left alone", async () => {
    const gh = new MemoryGitHub();
    gh.commentsByIssue.set(5, [{ id: 1, body: `${MARKER}\nsee #666`, byBot: true, author: 'evil[bot]' }]);
    const r = await upsertStickyComment(gh, 5, MARKER, 'plan', 'grantops[bot]');
    expect(r.created).toBe(true);
    expect(gh.commentsByIssue.get(5)![0]!.body).toBe(`${MARKER}\nsee #666`);
    const again = await upsertStickyComment(gh, 5, MARKER, 'plan 2', 'GrantOps[bot]');
    expect(again).toEqual({ id: r.id, created: false });
    expect(gh.commentsByIssue.get(5)).toHaveLength(2);
  });

  it("without a login, any bot's comment is taken for grantops' (never a person's)", async () => {
    const gh = new MemoryGitHub();
    gh.addHumanComment(5, 'alice', `${MARKER}\nquoted`);
    gh.commentsByIssue.get(5)!.push({ id: 7, body: `${MARKER}\nold`, byBot: true, author: 'other[bot]' });
    expect(await upsertStickyComment(gh, 5, MARKER, 'plan')).toEqual({ id: 7, created: false });
    expect(gh.commentsByIssue.get(5)![0]!.body).toBe(`${MARKER}\nquoted`);
  });
});
