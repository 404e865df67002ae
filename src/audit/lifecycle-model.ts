import type { ApprovalEvidence } from '../policy/approval.js';

export type AuditEventType = 'requested' | 'modified' | 'extended' | 'approved' | 'revoked' | 'removed';

/** One line of the audit log: the contract's event shape plus what helps an auditor. */
export interface AuditEvent {
  time: Date;
  type: AuditEventType;
  grant: string;
  user: string;
  target: string;
  role: string;
  commit: string;
  author: string;
  pr?: number;
  reason?: string;
  ticket?: string;
  startsAt?: Date;
  expiresAt?: Date;
  approvers?: string[];
  changes?: string[];
  renamedFrom?: string;
  /** For `extended`: expiresAt before and after (`reason` and `ticket` are the extension's). */
  from?: Date;
  to?: Date;
  /** Requested again under an id that had been revoked or removed before. */
  regranted?: boolean;
}

/** Main's first-parent commit that brought a change: shared by every version and end it brought. */
export interface Landing {
  /** Position on main's first-parent line: larger is newer. */
  seq: number;
  commit: string;
  /** Committer time (ms): when it landed on main. */
  time: number;
  /** Author of the change (for a merge, of the pull request's commits). */
  author: string;
  pr: number | undefined;
}

/** `path -> blob` of the policy files in force after a commit. */
export type PolicySnapshot = ReadonlyMap<string, string>;

/** What a grant file said, read leniently from history (even if it was never valid). */
export interface GrantFields {
  user: string;
  target: string;
  role: string;
  reason: string;
  ticket: string | undefined;
  /** ms */
  startsAt: number | undefined;
  /** ms */
  expiresAt: number | undefined;
  /** The last item of the file's `extensions` list, and how many it has; undefined: none. */
  extension?: ExtensionFields | undefined;
}

/** What a grant file's last extension said, read leniently. */
export interface ExtensionFields {
  count: number;
  /** ms */
  from: number | undefined;
  /** ms */
  to: number | undefined;
  reason: string;
  ticket: string | undefined;
}

export interface GrantVersion extends GrantFields {
  /** The grant id this version had (a rename changes it). */
  id: string;
  file: string;
  landed: Landing;
  /** The policies in force when this version landed. */
  policies: PolicySnapshot;
  approval: ApprovalEvidence | undefined;
  /** The id before, when this version renamed the file. */
  renamedFrom: string | undefined;
}

export interface GrantEnd {
  landed: Landing;
  type: 'revoked' | 'removed';
}

/** A grant from the commit that added its file to the one that removed it. */
export interface GrantLifecycle {
  /** The id it had last. */
  id: string;
  /** Oldest first. */
  versions: GrantVersion[];
  ended: GrantEnd | undefined;
  /** Requested under an id that an earlier grant had ended under. */
  regranted: boolean;
}

export interface AuditHistory {
  lifecycles: readonly GrantLifecycle[];
}

/** An unfinished fold of the newest stretch of history (HistoryFolder.partial). */
export interface PartialFold {
  /** In the order the fold opened them; versions newest first; empty ones (a removal only) too. */
  lifecycles: readonly GrantLifecycle[];
  /** Lifecycles whose oldest version is not their creation, by the id they had before it. */
  open: ReadonlyMap<string, GrantLifecycle>;
  /** Per id, the first the fold met of it: the lifecycle a change to it opened, or null for a removal. */
  firstTouch: ReadonlyMap<string, GrantLifecycle | null>;
  /** Commits folded. */
  commits: number;
}

/** Where the fold asks for objects it has not seen: a grant's blob, a policy's blob, a merge's author. */
export interface FoldReads {
  grantBlob(blob: string, version: GrantVersion): void;
  policyBlob(blob: string): void;
  mergeAuthor(commit: string, landed: Landing): void;
}

/**
 * One event of the audit log, as references into the history (a few words each, however many there
 * are); `describeEvent` spells it out for output.
 */
export interface HistoryEvent {
  type: AuditEventType;
  /** ms */
  time: number;
  /** The version the event is about (for an end, the last one). */
  version: GrantVersion;
  /** For `modified`: the version before. */
  previous: GrantVersion | undefined;
  /** The commit that brought the event. */
  landed: Landing;
  regranted: boolean;
}
