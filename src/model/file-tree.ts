/** One entry of a repository tree, repo-relative with forward slashes. */
export interface TreeEntry {
  path: string;
  kind: 'file' | 'symlink' | 'other';
  /** For symlinks: what the link points to, as stored. */
  linkTarget?: string;
}

/**
 * Read access to the files of an access repo at one point in time: the work tree, or a git ref
 * (so that a pull request is judged by the policies of its base, not by its own).
 */
export interface FileTree {
  /** Where the files come from, for messages: `work tree`, `origin/main`. */
  readonly label: string;
  /** Every entry below `dir`, recursively, sorted by path; empty when `dir` does not exist. */
  list(dir: string): Promise<TreeEntry[]>;
  /**
   * The bytes of a regular file, or its size alone when it is larger than `maxBytes`, so that an
   * oversized file is refused without being loaded.
   */
  read(path: string, maxBytes: number): Promise<Uint8Array | { tooLarge: number }>;
}
