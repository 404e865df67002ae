import type { FileTree, TreeEntry } from '../../model/file-tree.js';
import type { GitRunner } from './runner.js';

/**
 * The files of the repository as of commit `ref`, read with git (never the work tree). Reads asked
 * for together (a `Promise.all`, as loadPolicies does) are answered by one `git cat-file --batch`:
 * a process per file made `validate --base` wait on 20 sequential git processes (issue 15).
 */
export function gitFileTree(git: GitRunner, ref: string, label = ref): FileTree {
  const sizes = new Map<string, { oid: string; size: number }>();
  const blobs = blobBatcher(git);
  return {
    label,
    async list(dir) {
      const raw = await git.text(['ls-tree', '-r', '-l', '-z', '--full-tree', ref, '--', dir]);
      const entries: TreeEntry[] = [];
      const links: Promise<void>[] = [];
      for (const record of raw.split('\0')) {
        if (!record) continue;
        const tab = record.indexOf('\t');
        const [mode, type, oid, size] = record.slice(0, tab).split(/\s+/);
        const path = record.slice(tab + 1);
        if (type !== 'blob' || !oid) {
          entries.push({ path, kind: 'other' });
          continue;
        }
        sizes.set(path, { oid, size: Number(size) });
        if (mode === '120000') {
          const entry: TreeEntry = { path, kind: 'symlink' };
          entries.push(entry);
          links.push(blobs.read(oid).then((target) => void (entry.linkTarget = target.toString('utf8'))));
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
      return new Uint8Array(await blobs.read(info.oid));
    },
  };
}

/**
 * Collects the blob ids asked for within one turn of the event loop and reads them with one
 * `git cat-file --batch` (ids on stdin; each answer is `<oid> blob <size>\n<bytes>\n`).
 */
function blobBatcher(git: GitRunner): { read(oid: string): Promise<Buffer> } {
  let queue: { oid: string; resolve: (b: Buffer) => void; reject: (e: unknown) => void }[] = [];
  const flush = async () => {
    const asked = queue;
    queue = [];
    try {
      const out = await git.run(['cat-file', '--batch'], { input: asked.map((a) => `${a.oid}\n`).join('') });
      let pos = 0;
      for (const a of asked) {
        const nl = out.indexOf(0x0a, pos);
        const header = out.toString('latin1', pos, nl).split(' ');
        if (nl < 0 || header[1] !== 'blob') {
          a.reject(new Error(`git object ${a.oid} is not a readable blob`));
          pos = nl + 1;
          continue;
        }
        const size = Number(header[2]);
        a.resolve(out.subarray(nl + 1, nl + 1 + size));
        pos = nl + 1 + size + 1;
      }
    } catch (err) {
      for (const a of asked) a.reject(err);
    }
  };
  return {
    read(oid) {
      return new Promise<Buffer>((resolve, reject) => {
        if (queue.length === 0) setImmediate(() => void flush());
        queue.push({ oid, resolve, reject });
      });
    },
  };
}
