import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { loadAuditHistory } from '../../src/adapters/git/audit-log.js';
import { auditChunks } from '../../src/audit/format.js';
import { auditEvents } from '../../src/audit/lifecycle-events.js';
import { activeAt, verifyHistory } from '../../src/audit/query.js';
import { SchemaRegistry } from '../../src/policy/schema-registry.js';

/**
 * The warm path folds cached records below the commits that landed since; it must answer exactly as
 * a cold read of the same tip: random histories (merges with their own authors, renames, removals by
 * the reaper and by hand, policy changes, approval notes added later, commits outside grants/) are
 * read cold, grown, read warm, and compared byte for byte with a cold read. A cache that is
 * corrupted, truncated, foreign, of another version or not below the tip is refused and rebuilt.
 */
type Op =
  | { kind: 'add' | 'modify' | 'delete' | 'revoke' | 'merge' | 'note'; n: number }
  | { kind: 'rename'; n: number; m: number }
  | { kind: 'policy' | 'other' };

const EPOCH = Date.parse('2026-11-01T00:00:00Z') / 1000;
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const blobId = (text: string) =>
  createHash('sha1')
    .update(`blob ${Buffer.byteLength(text)}\0`)
    .update(text)
    .digest('hex');

/** A real repository grown by `git fast-import` from ops; tracks main's files to keep ops valid. */
class RandomRepo {
  readonly dir = mkdtempSync(join(tmpdir(), 'grantops-cache-'));
  private files = new Map<string, string>();
  private time = EPOCH;
  private counter = 0;
  private pr = 0;

  constructor() {
    dirs.push(this.dir);
    this.git('init', '-q', '-b', 'main');
    this.apply([{ kind: 'policy' }]);
  }

  git(...args: string[]): string {
    return execFileSync('git', args, { cwd: this.dir, encoding: 'utf8' }).trim();
  }

  tip(): string {
    return this.git('rev-parse', 'HEAD');
  }

  apply(ops: readonly Op[]): void {
    const data = (s: string) => `data ${Buffer.byteLength(s)}\n${s}\n`;
    const who = (name: string) => `${name} <${name}@example.test> ${++this.time} +0000\n`;
    let script = '';
    let mark = 0;
    let tip: string | undefined =
      this.git('for-each-ref', '--format=%(objectname)', 'refs/heads/main') || undefined;
    const from = () => (tip ? `from ${tip}\n` : '');
    const recent: string[] = [];
    const notes: [string, string][] = [];
    const grant = (n: number) => {
      const text = `user: u${n}\ntarget: vpn\nrole: ops\nreason: r${++this.counter}\nexpiresAt: 2026-11-${String(10 + (this.counter % 15))}T00:00:00Z\n`;
      return text;
    };
    const main = (subject: string, changes: string, extra = '') => {
      const m = `:${++mark}`;
      script += `commit refs/heads/main\nmark ${m}\nauthor ${who('alice')}committer ${who('GitHub')}${data(subject)}${from()}${extra}${changes}`;
      tip = m;
      recent.push(m);
    };
    for (const op of ops) {
      const path = `grants/g${'n' in op ? op.n : 0}.yaml`;
      if (op.kind === 'add' && !this.files.has(path)) {
        const text = grant(op.n);
        this.files.set(path, text);
        main(`add g${op.n} (#${++this.pr})`, `M 100644 inline ${path}\n${data(text)}`);
      } else if (op.kind === 'modify' && this.files.has(path)) {
        const text = grant(op.n);
        this.files.set(path, text);
        main(`extend g${op.n}`, `M 100644 inline ${path}\n${data(text)}`);
      } else if ((op.kind === 'delete' || op.kind === 'revoke') && this.files.has(path)) {
        this.files.delete(path);
        main(
          op.kind === 'revoke'
            ? `grantops: revoke 1 expired grant(s)\n\nRevoked-Grant: g${op.n}`
            : `remove g${op.n}`,
          `D ${path}\n`,
        );
      } else if (op.kind === 'rename' && this.files.has(path) && !this.files.has(`grants/g${op.m}.yaml`)) {
        const to = `grants/g${op.m}.yaml`;
        this.files.set(to, this.files.get(path)!);
        this.files.delete(path);
        main(`rename g${op.n}`, `R ${path} ${to}\n`);
      } else if (op.kind === 'policy') {
        const text = `target: { name: vpn, type: exec, command: [./x.sh] }\nroles:\n  ops: { maxDuration: ${1 + (++this.counter % 9)}h, approvals: 0 }\n`;
        main('policy', `M 100644 inline policies/vpn.yaml\n${data(text)}`);
      } else if (op.kind === 'merge') {
        // A pull request's commit by its own author, merged with a merge commit.
        const text = grant(op.n);
        const side = `:${++mark}`;
        script += `commit refs/heads/pr\nmark ${side}\nauthor ${who('dev')}committer ${who('dev')}${data('change')}${from()}M 100644 inline ${path}\n${data(text)}`;
        this.files.set(path, text);
        main(
          `Merge pull request #${++this.pr} from x/y`,
          `M 100644 inline ${path}\n${data(text)}`,
          `merge ${side}\n`,
        );
      } else if (op.kind === 'note' && recent.length) {
        const on = recent[op.n % recent.length]!;
        const id = `g${op.n}`;
        const text = this.files.get(`grants/${id}.yaml`);
        notes.push([
          on,
          text
            ? JSON.stringify({
                grantops: 1,
                grants: { [id]: { blob: blobId(text), pr: 1, approvers: ['bob'] } },
              })
            : `not a note ${op.n}`,
        ]);
      } else if (op.kind === 'other') {
        main('docs', `M 100644 inline README.md\n${data(`readme ${++this.counter}`)}`);
      }
    }
    if (notes.length) {
      const prev = this.git('for-each-ref', '--format=%(objectname)', 'refs/notes/grantops');
      script += `commit refs/notes/grantops\ncommitter ${who('grantops')}${data('notes')}${prev ? `from ${prev}\n` : ''}`;
      for (const [on, text] of notes) script += `N inline ${on}\n${data(text)}`;
    }
    if (!script) return;
    execFileSync('git', ['fast-import', '--quiet', '--done'], { cwd: this.dir, input: `${script}done\n` });
    this.git('reset', '-q', '--hard', 'main');
  }
}

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constantFrom('add', 'add', 'modify', 'delete', 'revoke', 'merge', 'note' as const),
    n: fc.nat(5),
  }),
  fc.record({ kind: fc.constant('rename' as const), n: fc.nat(5), m: fc.nat(5) }),
  fc.record({ kind: fc.constantFrom('policy', 'other' as const) }),
);

const load = (dir: string, cache: boolean, ref = 'HEAD') =>
  loadAuditHistory(dir, new SchemaRegistry(), ref, { cache });

/** What `audit --format json --at T --verify` prints. */
async function audit(dir: string, cache: boolean) {
  const h = await load(dir, cache);
  const now = new Date('2026-12-01T00:00:00Z');
  const out = {
    events: auditEvents(h),
    activeAt: { at: new Date('2026-11-12T00:00:00Z'), rows: activeAt(h, new Date('2026-11-12T00:00:00Z')) },
    violations: verifyHistory(h, {
      now,
      toleranceMs: 3_600_000,
      maxDurationAt: (p, t, r) => h.maxDurationAt(p, t, r),
    }),
  };
  return { text: [...auditChunks(out, 'json', (s) => s)].join(''), report: h.cache };
}

const cacheFile = (dir: string) => join(dir, '.git', 'grantops', 'history-cache-v2.bin');

describe('history cache', () => {
  it('a warm read of a grown history prints exactly what a cold read prints', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(op, { maxLength: 14 }),
        fc.array(op, { maxLength: 8 }),
        async (first, more) => {
          const repo = new RandomRepo();
          repo.apply(first);
          const before = repo.tip();
          const cold = await audit(repo.dir, true);
          expect(cold.report).toMatchObject({ mode: 'cold', written: true });
          repo.apply(more);
          const warm = await audit(repo.dir, true);
          expect(warm.report.mode).toBe('warm');
          const landed = repo.git('rev-list', '--first-parent', '--count', `${before}..HEAD`);
          expect(warm.report.commitsRead).toBe(Number(landed));
          expect(warm.text).toBe((await audit(repo.dir, false)).text);
          // And once more with nothing new: nothing read from git log, nothing rewritten.
          const again = await audit(repo.dir, true);
          expect(again.report).toMatchObject({ mode: 'warm', commitsRead: 0, written: false });
          expect(again.text).toBe(warm.text);
        },
      ),
      { numRuns: 20 },
    );
  }, 240_000);

  describe('a cache it cannot use is refused and rebuilt', () => {
    const grown = () => {
      const repo = new RandomRepo();
      repo.apply([
        { kind: 'add', n: 1 },
        { kind: 'merge', n: 2 },
        { kind: 'revoke', n: 1 },
        { kind: 'note', n: 2 },
      ]);
      return repo;
    };
    const refusedThenWarm = async (repo: RandomRepo, reason: string) => {
      const refused = await audit(repo.dir, true);
      expect(refused.report).toMatchObject({ mode: 'cold', rejected: reason, written: true });
      expect(refused.text).toBe((await audit(repo.dir, false)).text);
      expect((await audit(repo.dir, true)).report).toMatchObject({ mode: 'warm', commitsRead: 0 });
    };

    it('corrupted (one byte flipped): the folded history read at the same tip', async () => {
      const repo = grown();
      await audit(repo.dir, true);
      const bytes = readFileSync(cacheFile(repo.dir));
      bytes[bytes.indexOf(0x0a) + 30]! ^= 0x01;
      writeFileSync(cacheFile(repo.dir), bytes);
      await refusedThenWarm(repo, 'corrupted');
    });

    it('corrupted (one byte flipped): the records read below new commits', async () => {
      const repo = grown();
      await audit(repo.dir, true);
      const bytes = readFileSync(cacheFile(repo.dir));
      bytes[bytes.length - 20]! ^= 0x01;
      writeFileSync(cacheFile(repo.dir), bytes);
      repo.apply([{ kind: 'add', n: 4 }]);
      await refusedThenWarm(repo, 'corrupted');
    });

    it('truncated', async () => {
      const repo = grown();
      await audit(repo.dir, true);
      const bytes = readFileSync(cacheFile(repo.dir));
      writeFileSync(cacheFile(repo.dir), bytes.subarray(0, bytes.length - 100));
      await refusedThenWarm(repo, 'truncated');
    });

    it('written by another grantops version', async () => {
      const repo = grown();
      await audit(repo.dir, true);
      const bytes = readFileSync(cacheFile(repo.dir));
      const nl = bytes.indexOf(0x0a);
      const header = bytes.toString('utf8', 0, nl).replace(/"grantops":"[^"]*"/, '"grantops":"0.0.0-other"');
      writeFileSync(cacheFile(repo.dir), Buffer.concat([Buffer.from(header), bytes.subarray(nl)]));
      await refusedThenWarm(repo, 'written by grantops 0.0.0-other');
    });

    it("foreign: another repository's cache", async () => {
      const other = grown();
      other.apply([{ kind: 'add', n: 4 }]);
      await audit(other.dir, true);
      const repo = grown();
      mkdirSync(dirname(cacheFile(repo.dir)), { recursive: true });
      copyFileSync(cacheFile(other.dir), cacheFile(repo.dir));
      await refusedThenWarm(repo, 'not on the line of the tip');
    });

    it('rewritten history: the cached tip is no longer below main', async () => {
      const repo = grown();
      repo.apply([{ kind: 'add', n: 3 }]);
      await audit(repo.dir, true);
      repo.git('reset', '-q', '--hard', 'HEAD~1');
      repo.apply([{ kind: 'add', n: 5 }]);
      await refusedThenWarm(repo, 'not on the line of the tip');
    });

    it("an ancestor off main's first-parent line (a merged branch read before)", async () => {
      const repo = grown();
      repo.apply([{ kind: 'merge', n: 3 }]);
      // Read at the merged branch's tip: an ancestor of main, but its first-parent line is not main's.
      await load(repo.dir, true, 'HEAD^2');
      await refusedThenWarm(repo, 'not on the line of the tip');
    });
  });
});
