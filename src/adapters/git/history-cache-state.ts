import type { FoldedBelow } from '../../audit/lifecycle-join.js';
import type { GrantLifecycle, GrantVersion } from '../../audit/lifecycle-model.js';
import type { ApprovalEvidence } from '../../policy/approval.js';
import type { GrantFileHistory } from '../../ports/git.js';
import type { ChunkView, Conferred, Selection } from './history-cache-result.js';

/**
 * The folded history the cache's chunks describe, made lazily: the lifecycles in order (those a
 * later chunk continued left out), each made only when asked for, with the approvals later chunks
 * patched in; and what folding newer commits onto it needs (lifecycle-join.ts).
 */
export class CachedFold implements FoldedBelow {
  readonly removed = new Set<number>();
  /** serial -> version index -> approval. */
  private readonly patched = new Map<number, Map<number, ApprovalEvidence | undefined>>();
  private headMap: Map<string, number> | undefined;
  readonly policyTexts = new Map<string, string>();
  private readonly made = new Map<number, GrantLifecycle>();
  private ends: Map<string, number> | undefined;

  constructor(readonly chunks: readonly ChunkView[]) {
    for (const c of chunks) {
      for (const [serial, v, a] of c.patches()) this.patch(serial, v, a);
      for (const serial of c.i32('removed')) this.removed.add(serial);
      for (const [blob, text] of c.meta.policyTexts) this.policyTexts.set(blob, text);
    }
  }

  /** id -> serial of the lifecycle its first change opened, -1: a removal came first. */
  get heads(): ReadonlyMap<string, number> {
    if (!this.headMap) {
      this.headMap = new Map();
      for (const c of this.chunks) for (const [id, serial] of c.heads()) this.headMap.set(id, serial);
    }
    return this.headMap;
  }

  get last(): ChunkView {
    return this.chunks[this.chunks.length - 1]!;
  }
  get topSeq(): number {
    return this.last.meta.topSeq;
  }
  get nextSerial(): number {
    return this.last.meta.serialStart + this.last.lifecycleCount;
  }

  patch(serial: number, version: number, approval: ApprovalEvidence | undefined): void {
    let p = this.patched.get(serial);
    if (!p) this.patched.set(serial, (p = new Map<number, ApprovalEvidence | undefined>()));
    p.set(version, approval);
    const made = this.made.get(serial);
    const v = made?.versions[version];
    if (v) v.approval = approval;
  }

  private locate(serial: number): [ChunkView, number] {
    const chunk = this.chunks.findLast((c) => c.meta.serialStart <= serial);
    const i = serial - (chunk?.meta.serialStart ?? 0);
    if (!chunk || i >= chunk.lifecycleCount) throw new Error('lifecycle out of range');
    return [chunk, i];
  }

  /** The blob of each version of a lifecycle, by version (what its file said is in the blob). */
  blobs(serial: number, into: Map<GrantVersion, string>): void {
    const [chunk, i] = this.locate(serial);
    const life = this.lifecycle(serial);
    chunk.blobs(i).forEach((blob, k) => {
      if (blob !== undefined) into.set(life.versions[k]!, blob);
    });
  }

  lifecycle(serial: number): GrantLifecycle {
    let life = this.made.get(serial);
    if (!life) {
      const [chunk, i] = this.locate(serial);
      life = chunk.lifecycle(i);
      for (const [v, a] of this.patched.get(serial) ?? []) {
        const version = life.versions[v];
        if (!version) throw new Error('patch out of range');
        version.approval = a;
      }
      this.made.set(serial, life);
    }
    return life;
  }

  /** Lifecycles as state-based revocation reads them, straight from the columns (ChunkView.grantFile). */
  grantFiles(serials: readonly number[], conferred: Conferred): GrantFileHistory[] {
    const out: GrantFileHistory[] = [];
    for (const serial of serials) {
      const [chunk, i] = this.locate(serial);
      out.push(chunk.grantFile(i, conferred));
    }
    return out;
  }

  /** The serials of the lifecycles in order, those with a version that `select` matches. */
  serials(select?: Selection): number[] {
    const out: number[] = [];
    for (const c of this.chunks) {
      const picked = select ? c.selected(select) : undefined;
      for (let i = 0; i < c.lifecycleCount; i++) {
        const serial = c.meta.serialStart + i;
        if (this.removed.has(serial)) continue;
        if (picked && picked[i] === 0) continue;
        out.push(serial);
      }
    }
    return out;
  }

  /** The versions landed at `commits` that are still in place: serial, index, id, blob. */
  versionsAt(commits: ReadonlySet<string>): [number, number, string, string | undefined][] {
    const out: [number, number, string, string | undefined][] = [];
    for (const c of this.chunks)
      for (const [i, v, id, blob] of c.versionsAt(commits)) {
        const serial = c.meta.serialStart + i;
        if (!this.removed.has(serial)) out.push([serial, v, id, blob]);
      }
    return out;
  }

  head(id: string): GrantLifecycle | 'removed' | undefined {
    const serial = this.heads.get(id);
    if (serial === undefined) return undefined;
    return serial < 0 ? 'removed' : this.lifecycle(serial);
  }

  /** Serial of a lifecycle already made (a head being continued). */
  serialOf(life: GrantLifecycle): number | undefined {
    for (const [serial, made] of this.made) if (made === life) return serial;
    return undefined;
  }

  endedAt(id: string): number | undefined {
    if (!this.ends) {
      this.ends = new Map();
      for (const c of this.chunks)
        for (let i = 0; i < c.lifecycleCount; i++) {
          if (this.removed.has(c.meta.serialStart + i)) continue;
          const end = c.end(i);
          if (!end) continue;
          const seen = this.ends.get(end.id);
          if (seen === undefined || end.seq < seen) this.ends.set(end.id, end.seq);
        }
    }
    return this.ends.get(id);
  }
}
