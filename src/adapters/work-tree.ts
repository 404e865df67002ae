import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join, posix, relative, resolve, sep } from 'node:path';
import type { FileTree, TreeEntry } from '../model/file-tree.js';

/** The access repo's files as they are on disk. Symlinks are listed, never followed. */
export class WorkTree implements FileTree {
  readonly label = 'work tree';
  constructor(readonly root: string) {}

  async list(dir: string): Promise<TreeEntry[]> {
    const out: TreeEntry[] = [];
    await this.walk(dir, out);
    return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  private async walk(dir: string, out: TreeEntry[]): Promise<void> {
    let entries;
    try {
      entries = await readdir(join(this.root, dir), { withFileTypes: true });
    } catch (err) {
      if (
        (err as NodeJS.ErrnoException).code === 'ENOENT' ||
        (err as NodeJS.ErrnoException).code === 'ENOTDIR'
      )
        return;
      throw err;
    }
    const subdirs: string[] = [];
    for (const e of entries) {
      const path = posix.join(dir, e.name);
      if (e.isDirectory()) subdirs.push(path);
      else if (e.isSymbolicLink()) {
        const linkTarget = await readlink(join(this.root, path));
        out.push({ path, kind: 'symlink', linkTarget });
      } else if (e.isFile()) {
        out.push({ path, kind: 'file' });
      } else out.push({ path, kind: 'other' });
    }
    for (const d of subdirs) await this.walk(d, out);
  }

  async read(path: string, maxBytes: number): Promise<Uint8Array | { tooLarge: number }> {
    const abs = resolve(this.root, path);
    const rel = relative(this.root, abs);
    if (rel.startsWith('..') || rel.split(sep).includes('..'))
      throw new Error(`${path} is outside the repository`);
    // lstat again at read time: a file swapped for a link between list and read is still refused.
    const st = await lstat(abs);
    if (!st.isFile()) throw new Error(`${path} is not a regular file`);
    if (st.size > maxBytes) return { tooLarge: st.size };
    return readFile(abs);
  }
}
