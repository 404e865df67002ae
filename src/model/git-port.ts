import type { FileTree } from './file-tree.js';

export type ChangeStatus = 'added' | 'modified' | 'deleted';
export interface PathChange {
  path: string;
  status: ChangeStatus;
}

/** What validation needs from git: read the tree at a ref, and what changed since it. */
export interface RepoHistory {
  resolveCommit(ref: string): Promise<string>;
  mergeBase(a: string, b: string): Promise<string | undefined>;
  changedPaths(base: string, dirs: readonly string[]): Promise<PathChange[]>;
  treeAt(ref: string, label?: string): FileTree;
}
