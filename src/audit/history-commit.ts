/**
 * One commit of main's first-parent line as `git log` streams it, newest first. Transient: the
 * fold keeps what it needs and drops the record, so a long history is never held in memory.
 */
export interface HistoryCommit {
  sha: string;
  /** The merged branch's tip for a merge commit (its author wrote the change), else undefined. */
  mergeParent: string | undefined;
  /** Committer time in ms: when it landed on main. */
  time: number;
  author: string;
  subject: string;
  /** The ids of the commit's `Revoked-Grant:` trailers. */
  revoked: readonly string[];
  changes: FileChange[];
}

export interface FileChange {
  status: 'A' | 'M' | 'D' | 'R';
  path: string;
  /** For renames, the path before; else undefined. */
  from: string | undefined;
  /** Blob before the change (undefined for additions). */
  oldBlob: string | undefined;
  /** Blob after the change (undefined for deletions). */
  blob: string | undefined;
}
