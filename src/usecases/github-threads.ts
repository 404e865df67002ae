import type { AccessRepoGitHub } from '../ports/access-repo.js';

/** A tracked problem that wants a human: one issue per key, updated in place, closed once gone. */
export interface TrackedIssue {
  key: string;
  title: string;
  body: string;
}

export const ISSUE_LABEL = 'grantops';

/**
 * Whether a comment is grantops' own: written by `me`, the login grantops acts as. A person
 * quoting one of its markers, or another bot (a writer's workflow) posting one, is not grantops.
 */
export function writtenBy(me: string): (c: { author: string }) => boolean {
  const login = me.toLowerCase();
  return (c) => c.author.toLowerCase() === login;
}

/**
 * Creates the comment carrying `marker`, or edits it in place if grantops wrote one already: one
 * comment per PR, never one per push. Only grantops' own comment is ours to edit: by `me` (the
 * login grantops acts as) when known, else by any bot; a person quoting the marker, or another
 * bot (a writer's workflow) posting it, must not get overwritten.
 */
export async function upsertStickyComment(
  gh: AccessRepoGitHub,
  issue: number,
  marker: string,
  body: string,
  me?: string,
): Promise<{ id: number; created: boolean }> {
  const text = `${marker}\n${body}`;
  const ours = me !== undefined ? writtenBy(me) : (c: { byBot: boolean }) => c.byBot;
  const mine = (await gh.comments(issue)).find((c) => ours(c) && c.body.includes(marker));
  if (mine) {
    await gh.updateComment(mine.id, text);
    return { id: mine.id, created: false };
  }
  return { id: await gh.createComment(issue, text), created: true };
}

/**
 * Makes the open issues of `kind` match `wanted`: creates missing ones, updates changed ones,
 * closes those whose problem is gone. Issues are found by a hidden marker, never by title alone,
 * and only in issues grantops' own login opened: a writer can open a labelled issue carrying a
 * marker, which would otherwise stand for grantops' own and silence the alert its creation sends.
 */
export async function syncIssues(
  gh: AccessRepoGitHub,
  kind: string,
  wanted: readonly TrackedIssue[],
): Promise<{ created: number; updated: number; closed: number; createdKeys: string[] }> {
  const marker = (key: string) => `<!-- grantops:${kind}:${key} -->`;
  const prefix = `<!-- grantops:${kind}:`;
  const byKey = new Map<string, { number: number; body: string; title: string }>();
  const me = (await gh.selfLogin()).toLowerCase();
  for (const i of await gh.openIssues(ISSUE_LABEL)) {
    if (i.author?.toLowerCase() !== me) continue;
    const at = i.body.indexOf(prefix);
    if (at < 0) continue;
    const key = i.body.slice(at + prefix.length, i.body.indexOf(' -->', at));
    byKey.set(key, i);
  }
  const counts = { created: 0, updated: 0, closed: 0, createdKeys: [] as string[] };
  for (const w of wanted) {
    const body = `${marker(w.key)}\n${w.body}`;
    const existing = byKey.get(w.key);
    byKey.delete(w.key);
    if (!existing) {
      await gh.createIssue(w.title, body, [ISSUE_LABEL]);
      counts.created++;
      counts.createdKeys.push(w.key);
    } else if (existing.body !== body || existing.title !== w.title) {
      await gh.updateIssue(existing.number, { title: w.title, body });
      counts.updated++;
    }
  }
  for (const gone of byKey.values()) {
    await gh.updateIssue(gone.number, { state: 'closed' });
    counts.closed++;
  }
  return counts;
}

/** The cleanup pull request the reaper opens when main is protected: one, updated in place. */
export async function upsertPullRequest(
  gh: AccessRepoGitHub,
  head: string,
  base: string,
  title: string,
  body: string,
): Promise<{ number: number; created: boolean }> {
  const [existing] = await gh.openPullRequests(head, base);
  if (existing !== undefined) {
    await gh.updatePullRequest(existing, title, body);
    return { number: existing, created: false };
  }
  return { number: await gh.createPullRequest(head, base, title, body), created: true };
}
