import type {
  ExtensionFields,
  GrantLifecycle,
  GrantVersion,
  Landing,
  PolicySnapshot,
} from '../../audit/lifecycle-model.js';
import type { ApprovalEvidence } from '../../policy/approval.js';

/**
 * One chunk of the history cache: lifecycles of the folded history as flat binary columns (numbers
 * into one string table) plus a small JSON part, so that reading it back makes only the objects a
 * query asks for. The first chunk holds the whole folded history; each later one what a stretch of
 * newer commits added (history-cache.ts appends it): the lifecycles that follow, those of before
 * that the stretch continued (they leave their place: `removed`), approvals that notes added later
 * changed (`patches`), and the first touch of every id it touched (`heads`). Lifecycles are named by
 * a serial number that never changes: `serialStart` + their index in the chunk.
 */
export interface ChunkMeta {
  /** The commit of main the history goes down from once this chunk is read. */
  tip: string;
  /** The tip before it ('' for the first chunk): chunks must follow each other. */
  from: string;
  notesCommit: string;
  /** seq of `tip`. */
  topSeq: number;
  serialStart: number;
  policies: [string, string][][];
  approvals: ApprovalEvidence[];
  /** Policy texts by blob, that the chunks before did not have. */
  policyTexts: [string, string][];
  /** The last extension of the versions that have one: [version index in the chunk, extension]. */
  extensions: [number, ExtensionFields][];
  columns: [Column, number][];
}

export type Column = (typeof COLUMNS)[number];
export const COLUMNS = [
  'strOff',
  'strData',
  'landings',
  'landingTimes',
  'versions',
  'versionTimes',
  'lifecycles',
  'heads',
  'removed',
  'patches',
] as const;
export const F64: ReadonlySet<Column> = new Set(['landingTimes', 'versionTimes']);
export const U8: ReadonlySet<Column> = new Set(['strData']);
/** Int32 per landing: seq, commit, author, pr (-1: none). */
export const LA = 4;
/**
 * Int32 per version: id, file, landing, user, target, role, reason, ticket, policies, approval,
 * renamedFrom, blob (-1: undefined).
 */
export const V = 12;
/** Int32 per lifecycle: id, versions, ended landing, ended type (0 revoked, 1 removed), regranted. */
export const L = 5;

export interface ChunkContent {
  meta: Omit<ChunkMeta, 'policies' | 'approvals' | 'columns' | 'extensions'>;
  lifecycles: readonly GrantLifecycle[];
  /** The blob a version's file had (the notes name it: approval is re-derived from it). */
  blobOf(version: GrantVersion): string | undefined;
  /** id -> serial of the lifecycle its first change opened, or -1: a removal came first. */
  heads: readonly [string, number][];
  removed: readonly number[];
  /** serial, version index, the approval it has now. */
  patches: readonly [number, number, ApprovalEvidence | undefined][];
}

/** A chunk's bytes: u32 length of the JSON part, the JSON part, padding to 8, the columns. */
export function encodeChunk(c: ChunkContent): Buffer {
  const strings: string[] = [];
  const stringIds = new Map<string, number>();
  const str = (s: string | undefined) => {
    if (s === undefined) return -1;
    let id = stringIds.get(s);
    if (id === undefined) stringIds.set(s, (id = strings.push(s) - 1));
    return id;
  };
  const landings: number[] = [];
  const landingTimes: number[] = [];
  const landingIds = new Map<Landing, number>();
  const landing = (l: Landing) => {
    let id = landingIds.get(l);
    if (id === undefined) {
      landingIds.set(l, (id = landingTimes.push(l.time) - 1));
      landings.push(l.seq, str(l.commit), str(l.author), l.pr ?? -1);
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
  for (const life of c.lifecycles) {
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
        str(c.blobOf(v)),
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
  const heads = c.heads.flatMap(([id, serial]) => [str(id), serial]);
  const patches = c.patches.flatMap(([serial, v, a]) => [serial, v, a ? approvals.push(a) - 1 : -1]);
  const data = strings.map((s) => Buffer.from(s, 'utf8'));
  const offsets = [0];
  for (const b of data) offsets.push(offsets[offsets.length - 1]! + b.length);
  const cols: [Column, Buffer][] = [
    ['strOff', typed(new Int32Array(offsets))],
    ['strData', Buffer.concat(data)],
    ['landings', typed(new Int32Array(landings))],
    ['landingTimes', typed(new Float64Array(landingTimes))],
    ['versions', typed(new Int32Array(versions))],
    ['versionTimes', typed(new Float64Array(versionTimes))],
    ['lifecycles', typed(new Int32Array(lifecycles))],
    ['heads', typed(new Int32Array(heads))],
    ['removed', typed(new Int32Array(c.removed))],
    ['patches', typed(new Int32Array(patches))],
  ];
  const meta: ChunkMeta = {
    ...c.meta,
    policies,
    approvals,
    extensions,
    columns: cols.map(([name, b]) => [name, b.length / elementSize(name)]),
  };
  const json = Buffer.from(JSON.stringify(meta), 'utf8');
  const head = Buffer.alloc(pad8(4 + json.length));
  head.writeUInt32LE(json.length, 0);
  json.copy(head, 4);
  return Buffer.concat([
    head,
    ...cols.map(([, b]) => Buffer.concat([b, Buffer.alloc(pad8(b.length) - b.length)])),
  ]);
}

const typed = (a: Int32Array | Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
export const pad8 = (n: number) => (n + 7) & ~7;
export const elementSize = (c: Column) => (F64.has(c) ? 8 : U8.has(c) ? 1 : 4);
