import { GitError } from '../../model/errors.js';
import { readObjects } from './objects.js';
import { GitRunner } from './runner.js';

/** The ref grantops keeps approval evidence in, as git notes: the one place it is named. */
export const NOTES_REF = 'refs/notes/grantops';

/** The grantops notes (commit -> text) of the repository, in two processes. */
export async function readAllNotes(root: string, ref = NOTES_REF): Promise<Map<string, string>> {
  const list = await new GitRunner(root).text(['notes', `--ref=${ref}`, 'list']);
  const byNote = new Map<string, string[]>();
  for (const line of list.split('\n')) {
    const [note, commit] = line.trim().split(' ');
    if (note && commit) byNote.set(note, [...(byNote.get(note) ?? []), commit]);
  }
  const texts = await readObjects(root, [...byNote.keys()]);
  const out = new Map<string, string>();
  for (const [note, text] of texts) for (const commit of byNote.get(note) ?? []) out.set(commit, text);
  return out;
}

/** The grantops notes of many commits (those without one are absent), with two git processes in all. */
export async function readNotesOf(git: GitRunner, commits: readonly string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  let list: string;
  try {
    list = await git.text(['notes', `--ref=${NOTES_REF}`, 'list']);
  } catch {
    return out; // no notes yet
  }
  const noteOf = new Map<string, string>();
  for (const line of list.split('\n')) {
    const [note, commit] = line.trim().split(' ');
    if (note && commit) noteOf.set(commit, note);
  }
  const wanted = commits.filter((c) => noteOf.has(c));
  if (wanted.length === 0) return out;
  const raw = await git.run(['cat-file', '--batch'], {
    input: `${wanted.map((c) => noteOf.get(c)).join('\n')}\n`,
  });
  let pos = 0;
  for (const commit of wanted) {
    const nl = raw.indexOf(0x0a, pos);
    const header = raw.subarray(pos, nl).toString('utf8').split(' ');
    const size = Number(header[2]);
    if (header[1] !== 'blob' || !Number.isFinite(size)) break;
    out.set(commit, raw.subarray(nl + 1, nl + 1 + size).toString('utf8'));
    pos = nl + 1 + size + 1;
  }
  return out;
}

/**
 * Sets the grantops notes of many commits in one commit on refs/notes/grantops, with one
 * `git fast-import` process (`git notes add` costs a process per commit).
 */
export async function writeNotes(
  git: GitRunner,
  notes: ReadonlyMap<string, string>,
  now: Date,
): Promise<void> {
  if (notes.size === 0) return;
  const ref = NOTES_REF;
  let parent: string | undefined;
  try {
    parent = (await git.text(['rev-parse', '--verify', '--quiet', ref])).trim() || undefined;
  } catch {
    parent = undefined;
  }
  const data = (text: string) => `data ${Buffer.byteLength(text)}\n${text}\n`;
  const when = `${Math.floor(now.getTime() / 1000)} +0000`;
  let script = `commit ${ref}\ncommitter grantops <grantops@users.noreply.github.com> ${when}\n`;
  script += data(`grantops: approval evidence for ${notes.size} commit(s)`);
  if (parent) script += `from ${parent}\n`;
  for (const [commit, text] of notes) script += `N inline ${commit}\n${data(text)}`;
  script += 'done\n';
  await git.run(['fast-import', '--quiet', '--done'], { input: script });
}

/** Brings the remote's notes in, replacing ours: call before adding notes, then push. */
export async function fetchNotes(git: GitRunner, remote: string): Promise<void> {
  try {
    await git.text(['fetch', '--no-tags', remote, `+${NOTES_REF}:${NOTES_REF}`]);
  } catch (err) {
    // A remote without notes yet is fine; any other failure is real.
    if (!(err instanceof GitError && /couldn't find remote ref/i.test(err.stderr))) throw err;
  }
}

export async function pushNotes(git: GitRunner, remote: string): Promise<void> {
  await git.text(['push', remote, NOTES_REF]);
}
