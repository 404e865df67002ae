import { GRANTS_DIR, POLICIES_DIR, grantIdFromPath } from '../model/grant.js';
import { formatTimestamp, parseTimestamp } from '../model/time.js';
import { loadYamlSource } from '../model/yaml-source.js';
import { parseApprovalNote, type ApprovalEvidence, type ApprovalNote } from '../policy/approval.js';
import type { HistoryCommit } from './history-commit.js';

export type AuditEventType = 'requested' | 'modified' | 'approved' | 'revoked' | 'removed';

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

/** Where the fold asks for objects it has not seen: a grant's blob, a policy's blob, a merge's author. */
export interface FoldReads {
  grantBlob(blob: string, version: GrantVersion): void;
  policyBlob(blob: string): void;
  mergeAuthor(commit: string, landed: Landing): void;
}

const PR_MERGE = /^Merge pull request #(\d+)/;
const PR_SQUASH = /\(#(\d+)\)\s*$/;

const isGrantPath = (p: string | undefined): p is string =>
  p !== undefined && p.startsWith(`${GRANTS_DIR}/`) && /\.ya?ml$/.test(p);
const isPolicyPath = (p: string | undefined): p is string =>
  p !== undefined && p.startsWith(`${POLICIES_DIR}/`);

/**
 * Pure: folds main's first-parent history, NEWEST first as git streams it, into grant lifecycles.
 * Nothing of a commit is kept but what the audit answers with, so memory follows the number of
 * grant versions, not the length of history. Going backwards, a deletion opens a lifecycle, changes
 * extend it, and the addition closes it; the policies in force are known at the tip and each
 * commit's policy changes are undone on the way down.
 */
export class HistoryFolder {
  /** Lifecycles whose oldest version seen so far is not their creation, by the id they had before it. */
  private readonly open = new Map<string, GrantLifecycle>();
  private readonly lifecycles: GrantLifecycle[] = [];
  private policies: PolicySnapshot;
  private seq = 0;
  private readonly strings = new Map<string, string>();
  private readonly ids = new Map<string, string>();

  constructor(
    tipPolicies: PolicySnapshot,
    private readonly notes: ReadonlyMap<string, string>,
    private readonly reads: FoldReads,
  ) {
    this.policies = tipPolicies;
  }

  /** Folds the next (older) commit. */
  add(c: HistoryCommit): void {
    const prText = PR_MERGE.exec(c.subject)?.[1] ?? PR_SQUASH.exec(c.subject)?.[1];
    const landed: Landing = {
      seq: this.seq--,
      commit: c.sha,
      time: c.time,
      author: c.author,
      pr: prText ? Number(prText) : undefined,
    };
    if (c.mergeParent) this.reads.mergeAuthor(c.mergeParent, landed);
    let note: ApprovalNote | undefined | null = null;

    // Changes in one commit happen at once: first close what exists after the commit (by the id it
    // has then), then open what existed before it, so `R a -> b` plus a new `a` stay two grants.
    const continues: [GrantLifecycle, string][] = [];
    for (const ch of c.changes) {
      const source = ch.status === 'R' ? ch.from : ch.status === 'A' ? undefined : ch.path;
      const sourceId = isGrantPath(source) ? this.idOf(source) : undefined;
      if (ch.status === 'D' || !isGrantPath(ch.path)) {
        if (sourceId === undefined) continue;
        const type = c.revoked.includes(sourceId) ? 'revoked' : 'removed';
        const life: GrantLifecycle = {
          id: sourceId,
          versions: [],
          ended: { landed, type },
          regranted: false,
        };
        this.lifecycles.push(life);
        continues.push([life, sourceId]);
        continue;
      }
      const id = this.idOf(ch.path);
      let life = this.open.get(id);
      if (life) this.open.delete(id);
      else {
        life = { id, versions: [], ended: undefined, regranted: false };
        this.lifecycles.push(life);
      }
      const newer = life.versions[life.versions.length - 1];
      const version: GrantVersion = {
        id: newer?.id === id ? newer.id : id,
        file: newer?.file === ch.path ? newer.file : ch.path,
        landed,
        user: '',
        target: '',
        role: '',
        reason: '',
        ticket: undefined,
        startsAt: undefined,
        expiresAt: undefined,
        policies: this.policies,
        approval: undefined,
        renamedFrom: sourceId !== undefined && sourceId !== id ? sourceId : undefined,
      };
      if (note === null) note = parseApprovalNote(this.notes.get(c.sha));
      const evidence = note?.grants[id];
      if (evidence && ch.blob && evidence.blob === ch.blob) version.approval = evidence;
      life.versions.push(version);
      if (ch.blob) this.reads.grantBlob(ch.blob, version);
      if (sourceId !== undefined) continues.push([life, sourceId]);
    }
    for (const [life, sourceId] of continues) this.open.set(sourceId, life);

    // Undo the commit's policy changes: what was in force before it.
    let before: Map<string, string> | undefined;
    for (const ch of c.changes) {
      const source = ch.status === 'R' ? ch.from : ch.status === 'A' ? undefined : ch.path;
      const touches = isPolicyPath(ch.path) || isPolicyPath(source);
      if (!touches) continue;
      before ??= new Map(this.policies);
      if (ch.status !== 'D' && isPolicyPath(ch.path)) before.delete(ch.path);
      if (isPolicyPath(source) && ch.oldBlob) {
        before.set(source, ch.oldBlob);
        this.reads.policyBlob(ch.oldBlob);
      }
    }
    if (before) this.policies = before;
  }

  /** Fills a version with what its file said (called when the blob has been read). */
  fill(version: GrantVersion, fields: GrantFields): void {
    version.user = this.intern(fields.user);
    version.target = this.intern(fields.target);
    version.role = this.intern(fields.role);
    version.reason = fields.reason;
    version.ticket = fields.ticket;
    version.startsAt = fields.startsAt;
    version.expiresAt = fields.expiresAt;
  }

  /** The lifecycles, once every commit has been added and every read filled. */
  finish(): AuditHistory {
    const lifecycles = this.lifecycles.filter((l) => l.versions.length > 0).reverse();
    // An id that ended before a grant was requested under it again: a re-grant.
    const endedAt = new Map<string, number>();
    for (const life of lifecycles) {
      if (!life.ended) continue;
      const seen = endedAt.get(life.id);
      if (seen === undefined || life.ended.landed.seq < seen) endedAt.set(life.id, life.ended.landed.seq);
    }
    for (const life of lifecycles) {
      life.versions.reverse();
      const first = life.versions[0]!;
      const ended = endedAt.get(first.id);
      life.regranted = ended !== undefined && ended < first.landed.seq;
    }
    return { lifecycles };
  }

  /** The grant id of a path under grants/ (paths recur: one id string per path). */
  private idOf(path: string): string {
    let id = this.ids.get(path);
    if (id === undefined) {
      const r = grantIdFromPath(path.endsWith('.yml') ? path.replace(/\.yml$/, '.yaml') : path);
      id = r.ok ? r.id : path.slice(GRANTS_DIR.length + 1).replace(/\.ya?ml$/, '');
      this.ids.set(path, id);
    }
    return id;
  }

  private intern(s: string): string {
    const known = this.strings.get(s);
    if (known !== undefined) return known;
    this.strings.set(s, s);
    return s;
  }
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

/** Every event of the history, oldest first (history order where times tie). */
export function auditEvents(history: AuditHistory): HistoryEvent[] {
  const events: HistoryEvent[] = [];
  for (const life of history.lifecycles) {
    let previous: GrantVersion | undefined;
    for (const version of life.versions) {
      const type = previous ? 'modified' : 'requested';
      const { landed } = version;
      const regranted = !previous && life.regranted;
      events.push({ type, time: landed.time, version, previous, landed, regranted });
      if (version.approval) {
        const at = parseTimestamp(version.approval.verifiedAt);
        const time = at.ok ? at.date.getTime() : landed.time;
        events.push({ type: 'approved', time, version, previous: undefined, landed, regranted: false });
      }
      previous = version;
    }
    if (life.ended && previous) {
      const { landed, type } = life.ended;
      events.push({
        type,
        time: landed.time,
        version: previous,
        previous: undefined,
        landed,
        regranted: false,
      });
    }
  }
  const rank = (e: HistoryEvent) => (e.type === 'approved' ? 1 : 0);
  return events.sort(
    (a, b) =>
      a.time - b.time ||
      a.landed.seq - b.landed.seq ||
      (a.version.id < b.version.id ? -1 : a.version.id > b.version.id ? 1 : 0) ||
      rank(a) - rank(b),
  );
}

/** An event spelled out: the contract's fields and what helps an auditor. */
export function describeEvent(e: HistoryEvent): AuditEvent {
  const v = e.version;
  const approved = e.type === 'approved';
  const ended = e.type === 'revoked' || e.type === 'removed';
  const changes = e.previous ? diffFields(e.previous, v) : [];
  // One literal with every key: objects of one shape (a spread here made the garbage of a long
  // audit survive into the old generation and doubled the peak memory).
  return {
    time: new Date(e.time),
    type: e.type,
    grant: v.id,
    user: v.user,
    target: v.target,
    role: v.role,
    commit: e.landed.commit,
    author: e.landed.author,
    pr: approved ? v.approval?.pr : e.landed.pr,
    reason: approved || ended ? undefined : v.reason,
    ticket: approved || ended ? undefined : v.ticket,
    startsAt: approved || ended ? undefined : date(v.startsAt),
    expiresAt: approved ? undefined : date(v.expiresAt),
    approvers: approved ? (v.approval?.approvers ?? []) : undefined,
    changes: changes.length ? changes : undefined,
    renamedFrom: approved || ended ? undefined : v.renamedFrom,
    regranted: e.regranted || undefined,
  };
}

const date = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms));

/** Lenient read of a grant file from history: what it said, even if it was never valid. */
export function readGrantFields(bytes: Uint8Array): GrantFields {
  const doc = loadYamlSource('history.yaml', bytes, { maxBytes: 1 << 20 });
  const v = (doc.ok && doc.doc.value && typeof doc.doc.value === 'object' ? doc.doc.value : {}) as Record<
    string,
    unknown
  >;
  const str = (k: string) => (typeof v[k] === 'string' ? v[k] : '');
  const time = (k: string) => {
    const text = str(k);
    if (!text) return undefined;
    const r = parseTimestamp(text);
    return r.ok ? r.date.getTime() : undefined;
  };
  return {
    user: str('user'),
    target: str('target'),
    role: str('role'),
    reason: str('reason'),
    ticket: str('ticket') || undefined,
    startsAt: time('startsAt'),
    expiresAt: time('expiresAt'),
  };
}

export function diffFields(a: GrantVersion, b: GrantVersion): string[] {
  const out: string[] = [];
  const show = (ms?: number) => (ms === undefined ? '(none)' : formatTimestamp(new Date(ms)));
  for (const k of ['user', 'target', 'role', 'reason', 'ticket'] as const)
    if ((a[k] ?? '') !== (b[k] ?? '')) out.push(`${k}: ${a[k] ?? '(none)'} -> ${b[k] ?? '(none)'}`);
  for (const k of ['startsAt', 'expiresAt'] as const)
    if (a[k] !== b[k]) out.push(`${k}: ${show(a[k])} -> ${show(b[k])}`);
  return out;
}
