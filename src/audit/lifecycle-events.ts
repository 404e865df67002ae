import { formatTimestamp, parseTimestamp } from '../model/time.js';
import type { AuditEvent, AuditHistory, GrantVersion, HistoryEvent } from './lifecycle-model.js';

/** Every event of the history, oldest first (history order where times tie). */
export function auditEvents(history: AuditHistory): HistoryEvent[] {
  const events: HistoryEvent[] = [];
  for (const life of history.lifecycles) {
    let previous: GrantVersion | undefined;
    for (const version of life.versions) {
      const type = !previous ? 'requested' : extends_(previous, version) ? 'extended' : 'modified';
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

/** A version that adds to its file's `extensions` list: the change `grantops extend` makes. */
function extends_(previous: GrantVersion, version: GrantVersion): boolean {
  return (version.extension?.count ?? 0) > (previous.extension?.count ?? 0);
}

/** An event spelled out: the contract's fields and what helps an auditor. */
export function describeEvent(e: HistoryEvent): AuditEvent {
  const v = e.version;
  const approved = e.type === 'approved';
  const ended = e.type === 'revoked' || e.type === 'removed';
  const changes = e.previous ? diffFields(e.previous, v) : [];
  const ext = e.type === 'extended' ? v.extension : undefined;
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
    reason: ext ? ext.reason : approved || ended ? undefined : v.reason,
    ticket: ext ? ext.ticket : approved || ended ? undefined : v.ticket,
    startsAt: approved || ended ? undefined : date(v.startsAt),
    expiresAt: approved ? undefined : date(v.expiresAt),
    approvers: approved ? (v.approval?.approvers ?? []) : undefined,
    changes: changes.length ? changes : undefined,
    renamedFrom: approved || ended ? undefined : v.renamedFrom,
    from: ext ? date(ext.from ?? e.previous?.expiresAt) : undefined,
    to: ext ? date(ext.to ?? v.expiresAt) : undefined,
    regranted: e.regranted || undefined,
  };
}

const date = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms));

export function diffFields(a: GrantVersion, b: GrantVersion): string[] {
  const out: string[] = [];
  const show = (ms?: number) => (ms === undefined ? '(none)' : formatTimestamp(new Date(ms)));
  for (const k of ['user', 'target', 'role', 'reason', 'ticket'] as const)
    if ((a[k] ?? '') !== (b[k] ?? '')) out.push(`${k}: ${a[k] ?? '(none)'} -> ${b[k] ?? '(none)'}`);
  for (const k of ['startsAt', 'expiresAt'] as const)
    if (a[k] !== b[k]) out.push(`${k}: ${show(a[k])} -> ${show(b[k])}`);
  return out;
}
