import type { FileChangeBytes } from '../../ports/git.js';
import type { GitRunner } from './runner.js';

const ABSENT = /^0+$/;

/**
 * The changes to `path` on `rev`'s first-parent line since `since`, newest first: one streaming
 * `git log` (`--since` stops the walk at older commits, so its cost is bounded by the window, not by
 * the repository's age), then every version's bytes from one `git cat-file --batch`.
 * `--no-renames`: a renamed file is deleted and added, as a grant id is its path.
 */
export async function fileChanges(
  git: GitRunner,
  rev: string,
  path: string,
  since: Date,
  maxBytes: number,
): Promise<FileChangeBytes[]> {
  const found: { commit: string; time: Date; status: FileChangeBytes['status']; old: string; new: string }[] =
    [];
  let commit = '';
  let time = new Date(0);
  await git.lines(
    [
      '--literal-pathspecs',
      'log',
      '--first-parent',
      '-m',
      '--no-renames',
      '--raw',
      '--no-abbrev',
      `--since=${since.toISOString()}`,
      '--format=%x00%H %ct',
      rev,
      '--',
      path,
    ],
    (line) => {
      if (line.startsWith('\0')) {
        const [sha, seconds] = line.slice(1).split(' ');
        commit = sha ?? '';
        time = new Date(Number(seconds) * 1000);
        return true;
      }
      // `:<old mode> <new mode> <old blob> <new blob> <status>\t<path>`
      const tab = line.indexOf('\t');
      if (!line.startsWith(':') || tab < 0 || line.slice(tab + 1) !== path) return true;
      const [oldMode, newMode, oldBlob, newBlob, letter] = line.slice(1, tab).split(' ');
      const status = letter === 'A' ? 'added' : letter === 'D' ? 'deleted' : 'modified';
      // Only a regular file is a grant: a symlink's blob is a path, not its content.
      const regular = (mode: string | undefined, blob: string | undefined) =>
        mode?.startsWith('100') && blob && !ABSENT.test(blob) ? blob : '';
      found.push({ commit, time, status, old: regular(oldMode, oldBlob), new: regular(newMode, newBlob) });
      return true;
    },
  );
  const ids = [...new Set(found.flatMap((c) => [c.old, c.new]).filter((id) => id !== ''))];
  const bytes = await readBlobs(git, ids, maxBytes);
  return found.map((c) => ({
    commit: c.commit,
    time: c.time,
    status: c.status,
    before: bytes.get(c.old),
    after: bytes.get(c.new),
  }));
}

/** Blobs by id from one `git cat-file --batch` (`<oid> blob <size>\n<bytes>\n`); larger than `maxBytes`: left out. */
async function readBlobs(
  git: GitRunner,
  ids: readonly string[],
  maxBytes: number,
): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  if (ids.length === 0) return out;
  const raw = await git.run(['cat-file', '--batch'], { input: ids.map((id) => `${id}\n`).join('') });
  let pos = 0;
  for (const id of ids) {
    const nl = raw.indexOf(0x0a, pos);
    if (nl < 0) break;
    const header = raw.toString('latin1', pos, nl).split(' ');
    pos = nl + 1;
    if (header[1] !== 'blob') continue;
    const size = Number(header[2]);
    if (size <= maxBytes) out.set(id, raw.subarray(pos, pos + size));
    pos += size + 1;
  }
  return out;
}
