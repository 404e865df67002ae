import type {
  AuditHistory,
  GrantLifecycle,
  GrantVersion,
  Landing,
  PolicySnapshot,
} from '../../audit/lifecycle-model.js';
import type { ApprovalEvidence } from '../../policy/approval.js';

/**
 * The folded history itself, for a load whose tip and notes are those it was folded at: read back
 * without folding (the fold's Map lookups on 100,000 fresh strings are most of a warm load). Flat
 * columns of numbers into one string table, so loading makes the objects the audit uses and
 * little else; every object is built with the keys in the fold's order.
 */
export interface FoldedColumns {
  strings: string[];
  commits: string[];
  /** Per landing: seq, time, author, pr (-1: none). */
  landings: number[];
  policies: [string, string][][];
  approvals: ApprovalEvidence[];
  /**
   * Per version: id, file, landing, user, target, role, reason, ticket, startsAt, expiresAt,
   * policies, approval, renamedFrom (-1 / null: undefined).
   */
  versions: (number | null)[];
  /** Per lifecycle: id, versions, ended landing, ended type (0 revoked, 1 removed), regranted. */
  lifecycles: number[];
}

const V = 13;
const L = 5;

/** The columns of a folded history. */
export function foldedToColumns(history: AuditHistory): FoldedColumns {
  const strings: string[] = [];
  const stringIds = new Map<string, number>();
  const str = (s: string | undefined) => {
    if (s === undefined) return -1;
    let id = stringIds.get(s);
    if (id === undefined) stringIds.set(s, (id = strings.push(s) - 1));
    return id;
  };
  const commits: string[] = [];
  const landings: number[] = [];
  const landingIds = new Map<Landing, number>();
  const landing = (l: Landing) => {
    let id = landingIds.get(l);
    if (id === undefined) {
      landingIds.set(l, (id = commits.push(l.commit) - 1));
      landings.push(l.seq, l.time, str(l.author), l.pr ?? -1);
    }
    return id;
  };
  const policies: [string, string][][] = [];
  const policyIds = new Map<PolicySnapshot, number>();
  const policy = (p: PolicySnapshot) => {
    let id = policyIds.get(p);
    if (id === undefined) policyIds.set(p, (id = policies.push([...p]) - 1));
    return id;
  };
  const approvals: ApprovalEvidence[] = [];
  const versions: (number | null)[] = [];
  const lifecycles: number[] = [];
  for (const life of history.lifecycles) {
    for (const v of life.versions) {
      versions.push(
        str(v.id),
        str(v.file),
        landing(v.landed),
        str(v.user),
        str(v.target),
        str(v.role),
        str(v.reason),
        str(v.ticket),
        v.startsAt ?? null,
        v.expiresAt ?? null,
        policy(v.policies),
        v.approval ? approvals.push(v.approval) - 1 : -1,
        str(v.renamedFrom),
      );
    }
    lifecycles.push(
      str(life.id),
      life.versions.length,
      life.ended ? landing(life.ended.landed) : -1,
      life.ended ? (life.ended.type === 'revoked' ? 0 : 1) : -1,
      life.regranted ? 1 : 0,
    );
  }
  return { strings, commits, landings, policies, approvals, versions, lifecycles };
}

/** The folded history the columns describe; throws on columns of the wrong shape. */
export function foldedFromColumns(c: FoldedColumns): AuditHistory {
  const { strings, commits, versions: vs, lifecycles: ls } = c;
  const str = (i: number | null) => {
    if (i === null || i < 0) return undefined;
    const s = strings[i];
    if (s === undefined) throw new Error('string out of range');
    return s;
  };
  const req = (i: number | null) => str(i) ?? '';
  const landings: Landing[] = commits.map((commit, i) => {
    const pr = c.landings[i * 4 + 3]!;
    return {
      seq: c.landings[i * 4]!,
      commit,
      time: c.landings[i * 4 + 1]!,
      author: req(c.landings[i * 4 + 2]!),
      pr: pr < 0 ? undefined : pr,
    };
  });
  const landingAt = (i: number | null) => {
    const l = i === null ? undefined : landings[i];
    if (!l) throw new Error('landing out of range');
    return l;
  };
  const policies: PolicySnapshot[] = c.policies.map((p) => new Map(p));
  const lifecycles: GrantLifecycle[] = [];
  let v = 0;
  for (let i = 0; i < ls.length; i += L) {
    const versions: GrantVersion[] = [];
    for (let n = ls[i + 1]!; n > 0; n--, v += V) {
      const approval = vs[v + 11]!;
      const snapshot = policies[vs[v + 10]!];
      if (!snapshot) throw new Error('policies out of range');
      versions.push({
        id: req(vs[v]!),
        file: req(vs[v + 1]!),
        landed: landingAt(vs[v + 2]!),
        user: req(vs[v + 3]!),
        target: req(vs[v + 4]!),
        role: req(vs[v + 5]!),
        reason: req(vs[v + 6]!),
        ticket: str(vs[v + 7]!),
        startsAt: vs[v + 8] ?? undefined,
        expiresAt: vs[v + 9] ?? undefined,
        policies: snapshot,
        approval: approval === null || approval < 0 ? undefined : c.approvals[approval],
        renamedFrom: str(vs[v + 12]!),
      });
    }
    const ended = ls[i + 2]!;
    lifecycles.push({
      id: req(ls[i]!),
      versions,
      ended:
        ended < 0 ? undefined : { landed: landingAt(ended), type: ls[i + 3] === 0 ? 'revoked' : 'removed' },
      regranted: ls[i + 4] === 1,
    });
  }
  if (v !== vs.length) throw new Error('versions left over');
  return { lifecycles };
}
