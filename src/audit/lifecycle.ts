import { GRANTS_DIR, POLICIES_DIR, grantIdFromPath } from '../model/grant.js';
import { parseTimestamp } from '../model/time.js';
import { loadYamlSource } from '../model/yaml-source.js';
import { parseApprovalNote, type ApprovalEvidence } from '../policy/approval.js';
import type { CommitRecord } from './git-history.js';

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

export interface GrantVersion {
  /** The grant id this version had (a rename changes it). */
  id: string;
  commit: string;
  time: Date;
  author: string;
  pr?: number;
  file: string;
  blob: string;
  user: string;
  target: string;
  role: string;
  reason: string;
  ticket?: string;
  startsAt?: Date;
  expiresAt?: Date;
  /** Which policy snapshot was in force when this version landed. */
  policySnapshot: number;
  approval?: ApprovalEvidence;
}

/** A grant from the commit that added its file to the one that removed it. */
export interface GrantLifecycle {
  id: string;
  versions: GrantVersion[];
  ended?: { time: Date; commit: string; type: 'revoked' | 'removed'; author: string };
}

export interface AuditHistory {
  events: AuditEvent[];
  lifecycles: GrantLifecycle[];
  /** Policy file blobs by snapshot number (path -> blob). */
  policySnapshots: Map<string, string>[];
}

const PR_MERGE = /^Merge pull request #(\d+)/;
const PR_SQUASH = /\(#(\d+)\)\s*$/;
const TRAILER = /^Revoked-Grant: (.+)$/gm;

/** Pure: folds main's first-parent history (oldest first) into grant lifecycles and events. */
export type GrantFields = Pick<
  GrantVersion,
  'user' | 'target' | 'role' | 'reason' | 'ticket' | 'startsAt' | 'expiresAt'
>;

export function buildAuditHistory(
  commits: readonly CommitRecord[],
  blobs: ReadonlyMap<string, GrantFields>,
  notes: ReadonlyMap<string, string>,
  mergeAuthors: ReadonlyMap<string, string>,
): AuditHistory {
  const events: AuditEvent[] = [];
  const open = new Map<string, GrantLifecycle>();
  const lifecycles: GrantLifecycle[] = [];
  const everEnded = new Set<string>();
  const policySnapshots: Map<string, string>[] = [new Map<string, string>()];

  for (const c of commits) {
    const subject = c.message.split('\n')[0] ?? '';
    const prText = PR_MERGE.exec(subject)?.[1] ?? PR_SQUASH.exec(subject)?.[1];
    const pr = prText ? Number(prText) : undefined;
    // For a merge, the change's author is whoever wrote the PR's commits, not who clicked merge.
    const author = c.parents.length > 1 ? (mergeAuthors.get(c.parents[1]!) ?? c.author) : c.author;
    const revokedIds = new Set([...c.message.matchAll(TRAILER)].map((m) => m[1]!.trim()));
    const note = parseApprovalNote(notes.get(c.sha));

    const policyChanges = c.changes.filter(
      (ch) => ch.path.startsWith(`${POLICIES_DIR}/`) || ch.from?.startsWith(`${POLICIES_DIR}/`),
    );
    if (policyChanges.length > 0) {
      const next = new Map(policySnapshots[policySnapshots.length - 1]);
      for (const ch of policyChanges) {
        if (ch.from) next.delete(ch.from);
        if (ch.status === 'D') next.delete(ch.path);
        else if (ch.blob) next.set(ch.path, ch.blob);
      }
      policySnapshots.push(next);
    }
    const snapshot = policySnapshots.length - 1;

    for (const ch of c.changes) {
      if (!ch.path.startsWith(`${GRANTS_DIR}/`) || !/\.ya?ml$/.test(ch.path)) continue;
      const id = idOf(ch.path);
      if (ch.status === 'D') {
        const life = open.get(id);
        if (!life) continue;
        const last = life.versions[life.versions.length - 1]!;
        const type = revokedIds.has(id) ? 'revoked' : 'removed';
        life.ended = { time: c.time, commit: c.sha, type, author };
        open.delete(id);
        everEnded.add(id);
        events.push(event(c.time, type, id, last, c.sha, author, pr, { expiresAt: last.expiresAt }));
        continue;
      }
      const fields = blobs.get(ch.blob ?? '') ?? EMPTY;
      // Every object of a kind is built with the same keys in the same order: one hidden class for
      // 100,000 versions instead of one per object (V8 spends ~200 bytes on each).
      const version: GrantVersion = {
        id,
        commit: c.sha,
        time: c.time,
        author,
        pr,
        file: ch.path,
        blob: ch.blob ?? '',
        user: fields.user,
        target: fields.target,
        role: fields.role,
        reason: fields.reason,
        ticket: fields.ticket,
        startsAt: fields.startsAt,
        expiresAt: fields.expiresAt,
        policySnapshot: snapshot,
        approval: undefined,
      };
      const evidence = note?.grants[id];
      if (evidence && evidence.blob === version.blob) version.approval = evidence;
      let life: GrantLifecycle | undefined;
      let type: AuditEventType = 'modified';
      let changes: string[] | undefined;
      let renamedFrom: string | undefined;
      if (ch.status === 'R' && ch.from) {
        const oldId = idOf(ch.from);
        life = open.get(oldId);
        if (life) {
          open.delete(oldId);
          life.id = id;
          renamedFrom = oldId;
        }
      } else life = open.get(id);
      if (!life) {
        life = { id, versions: [] };
        lifecycles.push(life);
        type = 'requested';
      } else {
        changes = diffFields(life.versions[life.versions.length - 1]!, version);
      }
      life.versions.push(version);
      open.set(id, life);
      events.push(
        event(c.time, type, id, version, c.sha, author, pr, {
          reason: version.reason,
          ticket: version.ticket,
          startsAt: version.startsAt,
          expiresAt: version.expiresAt,
          changes: changes && changes.length ? changes : undefined,
          renamedFrom,
          regranted: type === 'requested' && everEnded.has(id) ? true : undefined,
        }),
      );
      if (version.approval) {
        const at = parseTimestamp(version.approval.verifiedAt);
        events.push(
          event(at.ok ? at.date : c.time, 'approved', id, version, c.sha, author, version.approval.pr, {
            approvers: version.approval.approvers,
          }),
        );
      }
    }
  }
  events.sort((a, b) => a.time.getTime() - b.time.getTime());
  return { events, lifecycles, policySnapshots };
}

function idOf(path: string): string {
  const r = grantIdFromPath(path.endsWith('.yml') ? path.replace(/\.yml$/, '.yaml') : path);
  return r.ok ? r.id : path.slice(GRANTS_DIR.length + 1).replace(/\.ya?ml$/, '');
}

/** An event with every key present, in one order (see the note on versions). */
function event(
  time: Date,
  type: AuditEventType,
  grant: string,
  who: { user: string; target: string; role: string },
  commit: string,
  author: string,
  pr: number | undefined,
  extra: Partial<
    Pick<
      AuditEvent,
      'reason' | 'ticket' | 'startsAt' | 'expiresAt' | 'approvers' | 'changes' | 'renamedFrom' | 'regranted'
    >
  >,
): AuditEvent {
  return {
    time,
    type,
    grant,
    user: who.user,
    target: who.target,
    role: who.role,
    commit,
    author,
    pr,
    reason: extra.reason,
    ticket: extra.ticket,
    startsAt: extra.startsAt,
    expiresAt: extra.expiresAt,
    approvers: extra.approvers,
    changes: extra.changes,
    renamedFrom: extra.renamedFrom,
    regranted: extra.regranted,
  };
}

const EMPTY: GrantFields = {
  user: '',
  target: '',
  role: '',
  reason: '',
  ticket: undefined,
  startsAt: undefined,
  expiresAt: undefined,
};

/** Lenient read of a grant file from history: what it said, even if it was never valid. */
export function readGrantFields(bytes: Uint8Array): GrantFields {
  const doc = loadYamlSource('history.yaml', bytes, { maxBytes: 1 << 20 });
  const v = (doc.ok && doc.doc.value && typeof doc.doc.value === 'object' ? doc.doc.value : {}) as Record<
    string,
    unknown
  >;
  const str = (k: string) => (typeof v[k] === 'string' ? v[k] : '');
  const date = (k: string) => {
    const r = parseTimestamp(str(k));
    return r.ok ? r.date : undefined;
  };
  return {
    user: str('user'),
    target: str('target'),
    role: str('role'),
    reason: str('reason'),
    ticket: str('ticket') || undefined,
    startsAt: date('startsAt'),
    expiresAt: date('expiresAt'),
  };
}

function diffFields(a: GrantVersion, b: GrantVersion): string[] {
  const out: string[] = [];
  const show = (d?: Date) => (d ? d.toISOString().replace(/\.000Z$/, 'Z') : '(none)');
  for (const k of ['user', 'target', 'role', 'reason', 'ticket'] as const)
    if ((a[k] ?? '') !== (b[k] ?? '')) out.push(`${k}: ${a[k] ?? '(none)'} -> ${b[k] ?? '(none)'}`);
  for (const k of ['startsAt', 'expiresAt'] as const)
    if (a[k]?.getTime() !== b[k]?.getTime()) out.push(`${k}: ${show(a[k])} -> ${show(b[k])}`);
  return out;
}
