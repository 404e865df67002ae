import type { FileTree, TreeEntry } from '../../src/model/file-tree.js';
import type { Files } from './repo.js';

/** An in-memory FileTree for use-case tests that need no disk. */
export function memoryTree(files: Files, label = 'memory'): FileTree {
  return {
    label,
    list(dir) {
      const entries: TreeEntry[] = Object.entries(files)
        .filter(([p]) => p.startsWith(`${dir}/`))
        .map(([path, c]) =>
          typeof c === 'object' && 'symlink' in c
            ? { path, kind: 'symlink' as const, linkTarget: c.symlink }
            : { path, kind: 'file' as const },
        );
      return Promise.resolve(entries.sort((a, b) => (a.path < b.path ? -1 : 1)));
    },
    read(path, maxBytes) {
      const c = files[path];
      if (c === undefined || (typeof c === 'object' && 'symlink' in c))
        return Promise.reject(new Error(`no file ${path}`));
      const bytes = typeof c === 'string' ? new TextEncoder().encode(c) : c;
      return Promise.resolve(bytes.byteLength > maxBytes ? { tooLarge: bytes.byteLength } : bytes);
    },
  };
}
