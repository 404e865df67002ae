import { GRANTS_DIR, POLICIES_DIR, grantIdFromPath } from '../model/grant.js';
import { parseTimestamp } from '../model/time.js';
import { loadYamlSource } from '../model/yaml-source.js';
import { parseApprovalNote, type ApprovalNote } from '../policy/approval.js';
import type { HistoryCommit } from './history-commit.js';
import type {
  AuditHistory,
  FoldReads,
  GrantFields,
  GrantLifecycle,
  GrantVersion,
  Landing,
  PartialFold,
  PolicySnapshot,
} from './lifecycle-model.js';

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
  private readonly firstTouch = new Map<string, GrantLifecycle | null>();
  private commits = 0;

  constructor(
    tipPolicies: PolicySnapshot,
    private readonly notes: ReadonlyMap<string, string>,
    private readonly reads: FoldReads,
  ) {
    this.policies = inPathOrder(tipPolicies);
  }

  /** Folds the next (older) commit. */
  add(c: HistoryCommit): void {
    this.commits++;
    const prText = PR_MERGE.exec(c.subject)?.[1] ?? PR_SQUASH.exec(c.subject)?.[1];
    const landed: Landing = {
      seq: this.seq--,
      commit: c.sha,
      time: c.time,
      author: c.author,
      // A number no pull request has (the subject is anyone's text) would not fit the cache's int32.
      pr: prText && prText.length < 10 ? Number(prText) : undefined,
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
        if (!this.firstTouch.has(id)) this.firstTouch.set(id, life);
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
        extension: undefined,
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
    for (const [life, sourceId] of continues) {
      if (!this.firstTouch.has(sourceId)) this.firstTouch.set(sourceId, null);
      this.open.set(sourceId, life);
    }

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
    if (before) this.policies = inPathOrder(before);
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
    version.extension = fields.extension;
  }

  /**
   * Where the fold stands (before `finish`), for folding older history onto a newer stretch
   * (lifecycle-join.ts): the lifecycles as opened (versions newest first, empty ones too), those
   * still open below the oldest commit by the id they had before it, and per id whether a change to
   * it opened a lifecycle or a removal or rename away from it came first.
   */
  partial(): PartialFold {
    return {
      lifecycles: this.lifecycles,
      open: this.open,
      firstTouch: this.firstTouch,
      commits: this.commits,
    };
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
 * A policy snapshot in path order, whatever order its changes were undone in: which file is asked
 * first about a target (two files may name the same one in history) must not depend on the tip the
 * history is read from, nor on whether the part below it came from the history cache.
 */
function inPathOrder(policies: PolicySnapshot): PolicySnapshot {
  return new Map([...policies].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * A YAML escape can make a lone surrogate, which UTF-8 (the history cache's string table) cannot
 * hold: read as U+FFFD, so a version reads the same from the cache as from git.
 */
const SURROGATE = /[\ud800-\udfff]/;
const wellFormed = (s: string) =>
  // The cheap test first: 100,000 versions' fields are read on a cold load.
  SURROGATE.test(s)
    ? s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd')
    : s;

/** Lenient read of a grant file from history: what it said, even if it was never valid. */
export function readGrantFields(bytes: Uint8Array): GrantFields {
  const doc = loadYamlSource('history.yaml', bytes, { maxBytes: 1 << 20 });
  const v = (doc.ok && doc.doc.value && typeof doc.doc.value === 'object' ? doc.doc.value : {}) as Record<
    string,
    unknown
  >;
  const str = (k: string) => (typeof v[k] === 'string' ? wellFormed(v[k]) : '');
  const time = (text: unknown) => {
    if (typeof text !== 'string' || !text) return undefined;
    const r = parseTimestamp(text);
    return r.ok ? r.date.getTime() : undefined;
  };
  const list = Array.isArray(v.extensions) ? (v.extensions as unknown[]) : [];
  const last = (list.length > 0 && list[list.length - 1]) || {};
  const ext = (typeof last === 'object' ? last : {}) as Record<string, unknown>;
  return {
    user: str('user'),
    target: str('target'),
    role: str('role'),
    reason: str('reason'),
    ticket: str('ticket') || undefined,
    startsAt: time(v.startsAt),
    expiresAt: time(v.expiresAt),
    extension:
      list.length === 0
        ? undefined
        : {
            count: list.length,
            from: time(ext.from),
            to: time(ext.to),
            reason: typeof ext.reason === 'string' ? ext.reason : '',
            ticket: typeof ext.ticket === 'string' ? ext.ticket : undefined,
          },
  };
}
