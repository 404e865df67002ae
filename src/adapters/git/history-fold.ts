import type { HistoryCommit } from '../../audit/history-commit.js';
import { HistoryFolder, readGrantFields } from '../../audit/lifecycle-fold.js';
import type { GrantVersion, Landing } from '../../audit/lifecycle-model.js';
import { ObjectReader } from './objects.js';

type Sink =
  | { kind: 'grant'; version: GrantVersion }
  | { kind: 'policy'; blob: string }
  | { kind: 'author'; landed: Landing };

/**
 * Folds commits of main's first-parent line, newest first, as `feed` hands them over (while git
 * log streams them, or from memory), with one `git cat-file --batch` fed at the same time for the
 * grant and policy versions and merge authors. `policyTexts` gets the text of every policy blob the
 * fold meets that it does not have; `blobs` each version's blob.
 */
export async function foldCommits(
  root: string,
  tipPolicies: ReadonlyMap<string, string>,
  notes: ReadonlyMap<string, string>,
  policyTexts: Map<string, string>,
  /** Gets the blob of each version. */
  blobs: Map<GrantVersion, string>,
  feed: (add: (c: HistoryCommit) => void) => Promise<void>,
): Promise<HistoryFolder> {
  const askPolicy = (blob: string) => {
    if (policyTexts.has(blob)) return;
    policyTexts.set(blob, '');
    objects().ask(blob, { kind: 'policy', blob });
  };
  const folder: HistoryFolder = new HistoryFolder(tipPolicies, notes, {
    grantBlob: (blob, version) => {
      blobs.set(version, blob);
      objects().ask(blob, { kind: 'grant', version });
    },
    policyBlob: askPolicy,
    mergeAuthor: (commit, landed) => objects().ask(commit, { kind: 'author', landed }),
  });
  // Objects are read while git log is still streaming, and parsed as they arrive: only the few
  // fields the audit needs are kept, never the texts of 100,000 versions. Started at the first ask:
  // a fold with nothing to read asks for nothing.
  let reader: ObjectReader<Sink> | undefined;
  const objects = () =>
    (reader ??= new ObjectReader<Sink>(root, (sink, body) => {
      if (sink.kind === 'grant') folder.fill(sink.version, readGrantFields(body));
      else if (sink.kind === 'policy') policyTexts.set(sink.blob, body.toString('utf8'));
      else {
        const author = /^author (.+) <([^>]*)> \d+ [+-]\d{4}$/m.exec(body.toString('utf8'));
        if (author) sink.landed.author = `${author[1]} <${author[2]}>`;
      }
    }));
  for (const blob of tipPolicies.values()) askPolicy(blob);
  try {
    await feed((c) => folder.add(c));
  } finally {
    await reader?.finish();
  }
  return folder;
}
