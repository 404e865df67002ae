import { isAscii } from 'node:buffer';
import type {
  ExtensionFields,
  GrantLifecycle,
  GrantVersion,
  Landing,
  PolicySnapshot,
} from '../../audit/lifecycle-model.js';
import type { ApprovalEvidence } from '../../policy/approval.js';
import type { GrantFileHistory, PastVersion } from '../../ports/git.js';
import {
  type ChunkMeta,
  type Column,
  COLUMNS,
  elementSize,
  F64,
  L,
  LA,
  pad8,
  U8,
  V,
} from './history-cache-chunk.js';

/** Which lifecycles a query needs: those with a version of this user, target and role. */
export interface Selection {
  user?: string;
  target?: string;
  role?: string;
}

/** What a role conferred under the policies in force at some point (LoadedAudit.entitlementsAt). */
export type Conferred = (
  policies: PolicySnapshot,
  target: string,
  role: string,
) => readonly string[] | undefined;

/**
 * n empty slots, in a packed array: pushed one by one (`new Array(n).fill()` leaves a holey array,
 * which made every lifecycle ~25 ms slower to make on the 100,000-commit benchmark).
 */
function slots<T>(n: number): (T | undefined)[] {
  const out: (T | undefined)[] = [];
  for (let i = 0; i < n; i++) out.push(undefined);
  return out;
}

/**
 * A chunk read back, lazily: the columns are typed arrays over its bytes; strings, landings,
 * versions and lifecycles are made when asked for, once. Throws on a chunk of the wrong shape.
 */
export class ChunkView {
  readonly meta: ChunkMeta;
  readonly lifecycleCount: number;
  private readonly cols = new Map<Column, Int32Array | Float64Array | Buffer>();
  private readonly strOff: Int32Array;
  private readonly strData: Buffer;
  private whole: string | null | undefined;
  private decoded = 0;
  private readonly la: Int32Array;
  private readonly lt: Float64Array;
  private readonly vs: Int32Array;
  private readonly vt: Float64Array;
  private readonly ls: Int32Array;
  private readonly strs: (string | undefined)[];
  private readonly landingObjs: (Landing | undefined)[];
  private readonly snapshots: (PolicySnapshot | undefined)[];
  /** Index of each lifecycle's first version. */
  private readonly firstVersion: Int32Array;
  private extensionsByVersion: Map<number, ExtensionFields> | undefined;
  /** snapshot -> target -> role -> what it conferred (null: nothing known). */
  private readonly conferredMemo = new Map<number, Map<number, Map<number, readonly string[] | null>>>();
  private lastConferred: [number, number, number, readonly string[] | undefined] | undefined;

  constructor(bytes: Buffer) {
    const len = bytes.readUInt32LE(0);
    this.meta = JSON.parse(bytes.toString('utf8', 4, 4 + len)) as ChunkMeta;
    const m = this.meta;
    if (
      typeof m.tip !== 'string' ||
      typeof m.from !== 'string' ||
      typeof m.notesCommit !== 'string' ||
      !Number.isSafeInteger(m.topSeq) ||
      !Number.isSafeInteger(m.serialStart) ||
      !Array.isArray(m.policies) ||
      !Array.isArray(m.approvals) ||
      !Array.isArray(m.policyTexts) ||
      !Array.isArray(m.extensions) ||
      !Array.isArray(m.columns) ||
      m.columns.length !== COLUMNS.length
    )
      throw new Error('chunk header');
    let at = pad8(4 + len);
    m.columns.forEach(([name, count], i) => {
      if (name !== COLUMNS[i] || !Number.isSafeInteger(count) || count < 0) throw new Error('chunk columns');
      const size = count * elementSize(name);
      if (at + size > bytes.length) throw new Error('chunk size');
      const slice = bytes.subarray(at, at + size);
      // A typed array view must be aligned: the file keeps columns at multiples of 8 (else copied).
      const [buffer, offset] =
        slice.byteOffset % 8 === 0 ? [slice.buffer, slice.byteOffset] : [new Uint8Array(slice).buffer, 0];
      this.cols.set(
        name,
        F64.has(name)
          ? new Float64Array(buffer, offset, count)
          : U8.has(name)
            ? slice
            : new Int32Array(buffer, offset, count),
      );
      at += pad8(size);
    });
    const strOff = (this.strOff = this.i32('strOff'));
    const strData = (this.strData = this.cols.get('strData') as Buffer);
    this.la = this.i32('landings');
    this.lt = this.f64('landingTimes');
    this.vs = this.i32('versions');
    this.vt = this.f64('versionTimes');
    this.ls = this.i32('lifecycles');
    if (strOff.length < 1 || strOff[strOff.length - 1] !== strData.length) throw new Error('strings');
    this.strs = slots<string>(strOff.length - 1);
    const landingTimes = this.f64('landingTimes');
    if (this.i32('landings').length !== landingTimes.length * LA) throw new Error('landings');
    this.landingObjs = slots<Landing>(landingTimes.length);
    const vs = this.i32('versions');
    if (vs.length % V !== 0 || this.f64('versionTimes').length !== (vs.length / V) * 2)
      throw new Error('versions');
    this.snapshots = slots<PolicySnapshot>(m.policies.length);
    const ls = this.i32('lifecycles');
    if (ls.length % L !== 0) throw new Error('lifecycles');
    this.lifecycleCount = ls.length / L;
    this.firstVersion = new Int32Array(this.lifecycleCount + 1);
    for (let i = 0; i < this.lifecycleCount; i++) {
      const n = ls[i * L + 1]!;
      // A lifecycle has a version (the fold keeps none without).
      if (n < 1) throw new Error('lifecycles');
      this.firstVersion[i + 1] = this.firstVersion[i]! + n;
    }
    if (this.firstVersion[this.lifecycleCount] !== vs.length / V) throw new Error('versions left over');
    if (this.i32('heads').length % 2 !== 0 || this.i32('patches').length % 3 !== 0) throw new Error('heads');
  }

  i32(name: Column): Int32Array {
    return this.cols.get(name) as Int32Array;
  }
  private f64(name: Column): Float64Array {
    return this.cols.get(name) as Float64Array;
  }

  str(i: number): string | undefined {
    if (i < 0) return undefined;
    if (i >= this.strs.length) throw new Error('string out of range');
    let s = this.strs[i];
    if (s === undefined) {
      // Past a few, an ASCII table is decoded at once and cut (slices of one string: no copies).
      if (this.whole === undefined && ++this.decoded > 1024)
        this.whole = isAscii(this.strData) ? this.strData.toString('latin1') : null;
      s = this.strs[i] = this.whole
        ? this.whole.slice(this.strOff[i], this.strOff[i + 1])
        : this.strData.toString('utf8', this.strOff[i], this.strOff[i + 1]);
    }
    return s;
  }

  /**
   * Which lifecycles have a version that matches (the filter of query.ts, on the columns): each
   * distinct string is compared once, and nothing is made.
   */
  selected(sel: Selection): Uint8Array {
    const { vs } = this;
    const strings = this.strOff.length - 1;
    const want = sel.user?.toLowerCase();
    // Per string and column: 0 not asked yet, 1 no, 2 yes.
    const memo = [new Uint8Array(strings), new Uint8Array(strings), new Uint8Array(strings)];
    const test = (at: number, id: number): boolean => {
      const m = memo[at - 3]!;
      if (m[id] === 0) {
        const s = this.str(id) ?? '';
        m[id] = (at === 3 ? s.toLowerCase() === want : s === (at === 4 ? sel.target : sel.role)) ? 2 : 1;
      }
      return m[id] === 2;
    };
    const out = new Uint8Array(this.lifecycleCount);
    for (let i = 0; i < this.lifecycleCount; i++) {
      for (let n = this.firstVersion[i]!; n < this.firstVersion[i + 1]!; n++) {
        const v = n * V;
        if (
          (want === undefined || test(3, vs[v + 3]!)) &&
          (sel.target === undefined || test(4, vs[v + 4]!)) &&
          (sel.role === undefined || test(5, vs[v + 5]!))
        ) {
          out[i] = 1;
          break;
        }
      }
    }
    return out;
  }

  /** Lifecycle `i`. */
  lifecycle(i: number): GrantLifecycle {
    const { ls, vs, vt } = this;
    const approvals = this.meta.approvals;
    const versions: GrantVersion[] = [];
    for (let n = this.firstVersion[i]!; n < this.firstVersion[i + 1]!; n++) {
      const v = n * V;
      const approval = vs[v + 9]!;
      if (approval >= approvals.length) throw new Error('approval out of range');
      const startsAt = vt[n * 2]!;
      const expiresAt = vt[n * 2 + 1]!;
      versions.push({
        id: this.req(vs[v]!),
        file: this.req(vs[v + 1]!),
        landed: this.landing(vs[v + 2]!),
        user: this.req(vs[v + 3]!),
        target: this.req(vs[v + 4]!),
        role: this.req(vs[v + 5]!),
        reason: this.req(vs[v + 6]!),
        ticket: this.str(vs[v + 7]!),
        startsAt: startsAt === startsAt ? startsAt : undefined,
        expiresAt: expiresAt === expiresAt ? expiresAt : undefined,
        policies: this.snapshot(vs[v + 8]!),
        approval: approval < 0 ? undefined : approvals[approval],
        renamedFrom: this.str(vs[v + 10]!),
        extension: (this.extensionsByVersion ??= new Map(this.meta.extensions)).get(n),
      });
    }
    const ended = ls[i * L + 2]!;
    return {
      id: this.req(ls[i * L]!),
      versions,
      ended:
        ended < 0
          ? undefined
          : { landed: this.landing(ended), type: ls[i * L + 3] === 0 ? 'revoked' : 'removed' },
      regranted: ls[i * L + 4] === 1,
    };
  }

  /**
   * Lifecycle `i` as state-based revocation reads it (ports/git.ts), from the columns: no version,
   * landing or policy snapshot object is made, and only ids, files, users, targets and roles are
   * decoded. What a role conferred is asked once per policy snapshot, target and role.
   */
  grantFile(i: number, conferred: Conferred): GrantFileHistory {
    const { ls, vs, vt } = this;
    const from = this.firstVersion[i]!;
    const to = this.firstVersion[i + 1]!;
    const versions: PastVersion[] = [];
    for (let n = from; n < to; n++) {
      const v = n * V;
      const expiresAt = vt[n * 2 + 1]!;
      const user = this.req(vs[v + 3]!);
      const target = this.req(vs[v + 4]!);
      const role = this.req(vs[v + 5]!);
      const entitlements = this.conferred(vs[v + 8]!, vs[v + 4]!, vs[v + 5]!, target, role, conferred);
      versions.push(
        entitlements
          ? { user, target, role, expiresAt: expiresAt === expiresAt ? expiresAt : undefined, entitlements }
          : { user, target, role, expiresAt: expiresAt === expiresAt ? expiresAt : undefined },
      );
    }
    const ended = ls[i * L + 2]!;
    const last = (to - 1) * V;
    const file: GrantFileHistory = {
      id: to > from ? this.req(vs[last]!) : '',
      file: to > from ? this.req(vs[last + 1]!) : '',
      versions,
      onMain: ended < 0,
    };
    if (ended >= 0) {
      if (ended >= this.landingObjs.length) throw new Error('landing out of range');
      file.endedBy = ls[i * L + 3] === 0 ? 'cleanup' : 'removal';
    }
    return file;
  }

  private conferred(
    snapshot: number,
    targetId: number,
    roleId: number,
    target: string,
    role: string,
    ask: Conferred,
  ): readonly string[] | undefined {
    // Consecutive versions mostly share all three: the last answer first, then by snapshot and ids.
    const last = this.lastConferred;
    if (last && last[0] === snapshot && last[1] === targetId && last[2] === roleId) return last[3];
    let bySnapshot = this.conferredMemo.get(snapshot);
    if (!bySnapshot)
      this.conferredMemo.set(
        snapshot,
        (bySnapshot = new Map<number, Map<number, readonly string[] | null>>()),
      );
    let byTarget = bySnapshot.get(targetId);
    if (!byTarget) bySnapshot.set(targetId, (byTarget = new Map<number, readonly string[] | null>()));
    let e = byTarget.get(roleId);
    if (e === undefined) byTarget.set(roleId, (e = ask(this.snapshot(snapshot), target, role) ?? null));
    this.lastConferred = [snapshot, targetId, roleId, e ?? undefined];
    return e ?? undefined;
  }

  /** The blob of each version of lifecycle `i`. */
  blobs(i: number): (string | undefined)[] {
    const out: (string | undefined)[] = [];
    for (let n = this.firstVersion[i]!; n < this.firstVersion[i + 1]!; n++)
      out.push(this.str(this.vs[n * V + 11]!));
    return out;
  }

  private req(i: number): string {
    return this.str(i) ?? '';
  }

  /** The last id and end (seq) of lifecycle `i`, without making it. */
  end(i: number): { id: string; seq: number } | undefined {
    const ls = this.i32('lifecycles');
    const ended = ls[i * L + 2]!;
    if (ended < 0) return undefined;
    return { id: this.str(ls[i * L]!) ?? '', seq: this.landingSeq(ended) };
  }

  /** Lifecycles whose versions landed at `commits`: [lifecycle, version index, version's id, blob]. */
  versionsAt(commits: ReadonlySet<string>): [number, number, string, string | undefined][] {
    const la = this.i32('landings');
    const hit = new Set<number>();
    for (let l = 0; l * LA < la.length; l++) if (commits.has(this.str(la[l * LA + 1]!) ?? '')) hit.add(l);
    const out: [number, number, string, string | undefined][] = [];
    if (hit.size === 0) return out;
    const vs = this.i32('versions');
    for (let i = 0; i < this.lifecycleCount; i++)
      for (let n = this.firstVersion[i]!; n < this.firstVersion[i + 1]!; n++)
        if (hit.has(vs[n * V + 2]!))
          out.push([i, n - this.firstVersion[i]!, this.str(vs[n * V]!) ?? '', this.str(vs[n * V + 11]!)]);
    return out;
  }

  /** The approval patches of this chunk: serial, version index, approval (undefined: none). */
  patches(): [number, number, ApprovalEvidence | undefined][] {
    const p = this.i32('patches');
    const out: [number, number, ApprovalEvidence | undefined][] = [];
    for (let i = 0; i < p.length; i += 3) {
      const a = p[i + 2]!;
      if (a >= this.meta.approvals.length) throw new Error('approval out of range');
      out.push([p[i]!, p[i + 1]!, a < 0 ? undefined : this.meta.approvals[a]]);
    }
    return out;
  }

  /** The first touch of each id this chunk's stretch touched: id -> serial (-1: a removal). */
  heads(): [string, number][] {
    const h = this.i32('heads');
    const out: [string, number][] = [];
    for (let i = 0; i < h.length; i += 2) out.push([this.str(h[i]!) ?? '', h[i + 1]!]);
    return out;
  }

  private landingSeq(i: number): number {
    if (i >= this.landingObjs.length) throw new Error('landing out of range');
    return this.i32('landings')[i * LA]!;
  }

  private landing(i: number): Landing {
    let l = this.landingObjs[i];
    if (!l) {
      if (i < 0 || i >= this.landingObjs.length) throw new Error('landing out of range');
      const { la } = this;
      const pr = la[i * LA + 3]!;
      l = this.landingObjs[i] = {
        seq: la[i * LA]!,
        commit: this.req(la[i * LA + 1]!),
        time: this.lt[i]!,
        author: this.req(la[i * LA + 2]!),
        pr: pr < 0 ? undefined : pr,
      };
    }
    return l;
  }

  private snapshot(i: number): PolicySnapshot {
    let s = this.snapshots[i];
    if (!s) {
      const entries = this.meta.policies[i];
      if (!entries) throw new Error('policies out of range');
      s = this.snapshots[i] = new Map(entries);
    }
    return s;
  }
}
