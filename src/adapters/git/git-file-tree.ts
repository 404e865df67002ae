import type { FileTree, TreeEntry } from '../../model/file-tree.js';
import { gatherTurn } from './gather.js';
import type { GitRunner } from './runner.js';

/**
 * The files of the repository as of commit `ref`, read with git (never the work tree). Reads asked
 * for together (a `Promise.all`, as loadPolicies does) are answered by one `git cat-file --batch`:
 * a process per file made `validate --base` wait on 20 sequential git processes (issue 15).
 */
export function gitFileTree(git: GitRunner, ref: string, label = ref): FileTree {
  const sizes = new Map<string, { oid: string; size: number }>();
  const blob = blobBatcher(git);
  const listing = listingBatcher(git, ref);
  return {
    label,
    async list(dir) {
      const entries: TreeEntry[] = [];
      const links: Promise<void>[] = [];
      for (const { path, mode, type, oid, size } of await listing(dir)) {
        if (type !== 'blob' || !oid) {
          entries.push({ path, kind: 'other' });
          continue;
        }
        sizes.set(path, { oid, size });
        if (mode === '120000') {
          const entry: TreeEntry = { path, kind: 'symlink' };
          entries.push(entry);
          links.push(blob(oid).then((target) => void (entry.linkTarget = target.toString('utf8'))));
        } else entries.push({ path, kind: 'file' });
      }
      await Promise.all(links);
      return entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    },
    async read(path, maxBytes) {
      let info = sizes.get(path);
      if (!info) {
        const raw = await git.text(['ls-tree', '-l', '--full-tree', ref, '--', path]);
        const [, , oid, size] = raw.split('\t')[0]?.split(/\s+/) ?? [];
        if (!oid) throw new Error(`${path} does not exist at ${label}`);
        info = { oid, size: Number(size) };
      }
      if (info.size > maxBytes) return { tooLarge: info.size };
      return new Uint8Array(await blob(info.oid));
    },
  };
}

interface LsTreeRecord {
  path: string;
  mode: string;
  type: string;
  oid: string;
  size: number;
}

/** Every folder asked for within one turn, with one `git ls-tree -r -l` (policies/ and grants/: one process). */
function listingBatcher(git: GitRunner, ref: string): (dir: string) => Promise<LsTreeRecord[]> {
  return gatherTurn(async (dirs: string[]) => {
    const raw = await git.text(['ls-tree', '-r', '-l', '-z', '--full-tree', ref, '--', ...dirs]);
    const records: LsTreeRecord[] = [];
    for (const record of raw.split('\0')) {
      // `<mode> SP <type> SP <oid> SP+ <size> TAB <path>`; split(/\s+/) on 10,000 records cost ~10 ms.
      const tab = record.indexOf('\t');
      if (tab < 0) continue;
      const s1 = record.indexOf(' ');
      const s2 = record.indexOf(' ', s1 + 1);
      const s3 = record.indexOf(' ', s2 + 1);
      records.push({
        path: record.slice(tab + 1),
        mode: record.slice(0, s1),
        type: record.slice(s1 + 1, s2),
        oid: record.slice(s2 + 1, s3),
        size: Number(record.slice(s3 + 1, tab).trim()),
      });
    }
    return dirs.map((dir) => records.filter((r) => r.path === dir || r.path.startsWith(`${dir}/`)));
  });
}

/**
 * Every blob asked for within one turn, with one `git cat-file --batch` (ids on stdin; each answer
 * is `<oid> blob <size>\n<bytes>\n`, or `<oid> missing\n`).
 */
function blobBatcher(git: GitRunner): (oid: string) => Promise<Buffer> {
  return gatherTurn(async (oids: string[]) => {
    const out = await git.run(['cat-file', '--batch'], { input: oids.map((oid) => `${oid}\n`).join('') });
    const answers: (Buffer | Error)[] = [];
    let pos = 0;
    for (const oid of oids) {
      const nl = out.indexOf(0x0a, pos);
      const header = out.toString('latin1', pos, nl < 0 ? out.length : nl).split(' ');
      if (nl < 0 || header[1] !== 'blob') {
        answers.push(new Error(`git object ${oid} is not a readable blob`));
        if (nl < 0) break;
        pos = nl + 1;
        continue;
      }
      const size = Number(header[2]);
      answers.push(out.subarray(nl + 1, nl + 1 + size));
      pos = nl + 1 + size + 1;
    }
    return answers;
  });
}
