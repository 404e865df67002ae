import type {
  AuditHistory,
  ExtensionFields,
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
  /** Int32 per landing: seq, author, pr (-1: none); base64. */
  landings: string;
  /** Float64 per landing: time; base64. */
  landingTimes: string;
  policies: [string, string][][];
  approvals: ApprovalEvidence[];
  /**
   * Int32 per version: id, file, landing, user, target, role, reason, ticket, policies, approval,
   * renamedFrom (-1: undefined); base64.
   */
  versions: string;
  /** Float64 per version: startsAt, expiresAt (NaN: undefined); base64. */
  versionTimes: string;
  /** The versions with extensions: [version index, its last extension]. */
  extensions: [number, ExtensionFields][];
  /** Int32 per lifecycle: id, versions, ended landing, ended type (0 revoked, 1 removed), regranted. */
  lifecycles: string;
}

const V = 11;
const L = 5;

// Numbers travel as typed arrays in base64: JSON numbers past 2^30 (every time in ms) would each
// be a heap object to parse and collect, and the columns hold hundreds of thousands.
const pack = (xs: number[], Kind: Int32ArrayConstructor | Float64ArrayConstructor) => {
  const a = new Kind(xs);
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
};
function unpack<K extends Int32ArrayConstructor | Float64ArrayConstructor>(
  text: string,
  Kind: K,
): InstanceType<K> {
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length % Kind.BYTES_PER_ELEMENT !== 0) throw new Error('column of the wrong size');
  // Copied: a Buffer may start at any offset of its pool, a typed array view must be aligned.
  return new Kind(new Uint8Array(bytes).buffer) as InstanceType<K>;
}

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
  const landingTimes: number[] = [];
  const landingIds = new Map<Landing, number>();
  const landing = (l: Landing) => {
    let id = landingIds.get(l);
    if (id === undefined) {
      landingIds.set(l, (id = commits.push(l.commit) - 1));
      landings.push(l.seq, str(l.author), l.pr ?? -1);
      landingTimes.push(l.time);
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
  const versions: number[] = [];
  const versionTimes: number[] = [];
  const lifecycles: number[] = [];
  const extensions: [number, ExtensionFields][] = [];
  for (const life of history.lifecycles) {
    for (const v of life.versions) {
      if (v.extension) extensions.push([versionTimes.length / 2, v.extension]);
      versions.push(
        str(v.id),
        str(v.file),
        landing(v.landed),
        str(v.user),
        str(v.target),
        str(v.role),
        str(v.reason),
        str(v.ticket),
        policy(v.policies),
        v.approval ? approvals.push(v.approval) - 1 : -1,
        str(v.renamedFrom),
      );
      versionTimes.push(v.startsAt ?? NaN, v.expiresAt ?? NaN);
    }
    lifecycles.push(
      str(life.id),
      life.versions.length,
      life.ended ? landing(life.ended.landed) : -1,
      life.ended ? (life.ended.type === 'revoked' ? 0 : 1) : -1,
      life.regranted ? 1 : 0,
    );
  }
  return {
    strings,
    commits,
    landings: pack(landings, Int32Array),
    landingTimes: pack(landingTimes, Float64Array),
    policies,
    approvals,
    versions: pack(versions, Int32Array),
    versionTimes: pack(versionTimes, Float64Array),
    extensions,
    lifecycles: pack(lifecycles, Int32Array),
  };
}

/** The folded history the columns describe; throws on columns of the wrong shape. */
export function foldedFromColumns(c: FoldedColumns): AuditHistory {
  const { strings, commits } = c;
  const ints = unpack(c.landings, Int32Array);
  const times = unpack(c.landingTimes, Float64Array);
  const vs = unpack(c.versions, Int32Array);
  const vt = unpack(c.versionTimes, Float64Array);
  const ls = unpack(c.lifecycles, Int32Array);
  if (ints.length !== commits.length * 3 || times.length !== commits.length) throw new Error('landings');
  if (vt.length * V !== vs.length * 2) throw new Error('versions');
  const str = (i: number) => {
    if (i < 0) return undefined;
    const s = strings[i];
    if (s === undefined) throw new Error('string out of range');
    return s;
  };
  const req = (i: number) => str(i) ?? '';
  const time = (t: number) => (Number.isNaN(t) ? undefined : t);
  const landings: Landing[] = commits.map((commit, i) => {
    const pr = ints[i * 3 + 2]!;
    return {
      seq: ints[i * 3]!,
      commit,
      time: times[i]!,
      author: req(ints[i * 3 + 1]!),
      pr: pr < 0 ? undefined : pr,
    };
  });
  const landingAt = (i: number) => {
    const l = landings[i];
    if (!l) throw new Error('landing out of range');
    return l;
  };
  const policies: PolicySnapshot[] = c.policies.map((p) => new Map(p));
  const extensions = new Map(c.extensions);
  const lifecycles: GrantLifecycle[] = [];
  let v = 0;
  for (let i = 0; i < ls.length; i += L) {
    const versions: GrantVersion[] = [];
    for (let n = ls[i + 1]!; n > 0; n--, v += V) {
      const approval = vs[v + 9]!;
      const snapshot = policies[vs[v + 8]!];
      if (!snapshot) throw new Error('policies out of range');
      const t = (v / V) * 2;
      versions.push({
        id: req(vs[v]!),
        file: req(vs[v + 1]!),
        landed: landingAt(vs[v + 2]!),
        user: req(vs[v + 3]!),
        target: req(vs[v + 4]!),
        role: req(vs[v + 5]!),
        reason: req(vs[v + 6]!),
        ticket: str(vs[v + 7]!),
        startsAt: time(vt[t]!),
        expiresAt: time(vt[t + 1]!),
        extension: extensions.get(v / V),
        policies: snapshot,
        approval: approval < 0 ? undefined : c.approvals[approval],
        renamedFrom: str(vs[v + 10]!),
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
