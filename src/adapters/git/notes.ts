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
