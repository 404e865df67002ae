import type { FileTree, TreeEntry } from '../../model/file-tree.js';
import type { GitRunner } from './runner.js';

/** The files of the repository as of commit `ref`, read with git (never the work tree). */
export function gitFileTree(git: GitRunner, ref: string, label = ref): FileTree {
  const sizes = new Map<string, { oid: string; size: number }>();
  return {
    label,
    async list(dir) {
      const raw = await git.text(['ls-tree', '-r', '-l', '-z', '--full-tree', ref, '--', dir]);
      const entries: TreeEntry[] = [];
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
          const target = (await git.run(['cat-file', 'blob', oid])).toString('utf8');
          entries.push({ path, kind: 'symlink', linkTarget: target });
        } else entries.push({ path, kind: 'file' });
      }
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
      return new Uint8Array(await git.run(['cat-file', 'blob', info.oid]));
    },
  };
}
