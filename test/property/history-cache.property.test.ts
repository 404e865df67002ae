import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { gitGrantHistory, loadAuditHistory } from '../../src/adapters/git/audit-log.js';
import { auditChunks } from '../../src/audit/format.js';
import { auditEvents } from '../../src/audit/lifecycle-events.js';
import { activeAt, filterEvents, verifyHistory } from '../../src/audit/query.js';
import { SchemaRegistry } from '../../src/policy/schema-registry.js';

/**
 * The warm path folds cached records below the commits that landed since; it must answer exactly as
 * a cold read of the same tip: random histories (merges with their own authors, renames, removals by
 * the reaper and by hand, policy changes, approval notes added later, commits outside grants/) are
 * read cold, grown, read warm, and compared byte for byte with a cold read. Grants go to an exec
 * target and to a postgres one whose roles' dbRoles change, in policy files renamed, removed and
 * copied (two files naming the same target for a while); some grant files are no grant at all. A
 * cache that is corrupted, truncated, foreign, of another version or not below the tip is refused
 * and rebuilt.
 */
type Op =
  | { kind: 'add' | 'modify' | 'delete' | 'revoke' | 'merge' | 'note'; n: number }
  | { kind: 'rename'; n: number; m: number }
  | { kind: 'policy' | 'other' }
  | { kind: 'dbPolicy' | 'junk'; n: number };

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
  /** Main's commits so far (oldest first) and the grant version each brought, if one. */
  private commits: { sha: string; grant?: [string, string] }[] = [];

  constructor() {
    dirs.push(this.dir);
    this.git('init', '-q', '-b', 'main');
    // The postgres target named by two files from the start: which one answers must not vary.
    this.apply([{ kind: 'policy' }, { kind: 'dbPolicy', n: 0 }, { kind: 'dbPolicy', n: 1 }]);
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
      const [target, role] = n % 2 === 0 ? ['db', `r${n % 4 === 0 ? 0 : 1}`] : ['vpn', 'ops'];
      const text = `user: u${n}\ntarget: ${target}\nrole: ${role}\nreason: r${++this.counter}\nexpiresAt: 2026-11-${String(10 + (this.counter % 15))}T00:00:00Z\n`;
      return text;
    };
    const brought = new Map<string, [string, string]>();
    const main = (subject: string, changes: string, extra = '', grant?: [string, string]) => {
      const m = `:${++mark}`;
      script += `commit refs/heads/main\nmark ${m}\nauthor ${who('alice')}committer ${who('GitHub')}${data(subject)}${from()}${extra}${changes}`;
      tip = m;
      recent.push(m);
      if (grant) brought.set(m, grant);
    };
    for (const op of ops) {
      const path = `grants/g${'n' in op ? op.n : 0}.yaml`;
      if (op.kind === 'add' && !this.files.has(path)) {
        const text = grant(op.n);
        this.files.set(path, text);
        main(`add g${op.n} (#${++this.pr})`, `M 100644 inline ${path}\n${data(text)}`, '', [
          `g${op.n}`,
          text,
        ]);
      } else if (op.kind === 'modify' && this.files.has(path)) {
        const text = grant(op.n);
        this.files.set(path, text);
        main(`extend g${op.n}`, `M 100644 inline ${path}\n${data(text)}`, '', [`g${op.n}`, text]);
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
          [`g${op.n}`, text],
        );
      } else if (op.kind === 'note' && recent.length + this.commits.length) {
        // On a commit of this batch or of an earlier one (approval recorded after a later read).
        const all = [...this.commits.map((c) => c.sha), ...recent];
        const on = all[(op.n * 7) % all.length]!;
        const grant = brought.get(on) ?? this.commits.find((c) => c.sha === on)?.grant;
        const id = grant?.[0] ?? `g${op.n}`;
        const text = grant?.[1] ?? this.files.get(`grants/${id}.yaml`);
        notes.push([
          on,
          text && op.n % 4 !== 3
            ? JSON.stringify({
                grantops: 1,
                grants: { [id]: { blob: blobId(text), pr: 1 + op.n, approvers: [`bob${op.n}`] } },
              })
            : `not a note ${op.n}`,
        ]);
      } else if (op.kind === 'dbPolicy') {
        // The postgres target's file: written (its roles' dbRoles changed), copied under another
        // name (the same target twice), renamed, or removed.
        const files = ['policies/db.yaml', 'policies/a-db.yaml', 'policies/z-db.yaml'];
        const at = files.filter((f) => this.files.has(f));
        const text = `target: { name: db, type: postgres, urlEnv: DB_URL }\nroles:\n  r0: { maxDuration: 8h, approvals: 0, dbRoles: [d${++this.counter}] }\n  r1: { maxDuration: 2h, approvals: 0, dbRoles: [d${this.counter}, e${op.n}] }\n`;
        // Mostly the file that answers first (the one whose change reorders what a cold read finds).
        const file = (op.n < 2 ? at.sort()[0] : undefined) ?? files[op.n % 3]!;
        if (op.n >= 3 && at.length > 0 && !this.files.has(file)) {
          const from = at[0]!;
          this.files.set(file, this.files.get(from)!);
          this.files.delete(from);
          main('move db policy', `R ${from} ${file}\n`);
        } else if (op.n === 5 && at.length > 0) {
          this.files.delete(at[0]!);
          main('remove db policy', `D ${at[0]}\n`);
        } else {
          this.files.set(file, text);
          main('db policy', `M 100644 inline ${file}\n${data(text)}`);
        }
      } else if (op.kind === 'junk') {
        // What is no grant: unparseable YAML or a list, added or over a grant.
        const text = op.n % 2 ? `- user: u${op.n}\n- ${++this.counter}\n` : `user: [u${++this.counter}\n`;
        this.files.set(path, text);
        main(`junk g${op.n}`, `M 100644 inline ${path}\n${data(text)}`, '', [`g${op.n}`, text]);
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
    const marks = join(this.dir, '.git', 'marks');
    execFileSync('git', ['fast-import', '--quiet', '--done', `--export-marks=${marks}`], {
      cwd: this.dir,
      input: `${script}done\n`,
    });
    const shaOf = new Map(
      readFileSync(marks, 'utf8')
        .trim()
        .split('\n')
        .map((l) => l.split(' ') as [string, string]),
    );
    for (const m of recent) {
      const grant = brought.get(m);
      this.commits.push({ sha: shaOf.get(m)!, ...(grant ? { grant } : {}) });
    }
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
  fc.record({ kind: fc.constantFrom('dbPolicy', 'dbPolicy', 'dbPolicy', 'junk' as const), n: fc.nat(5) }),
);

interface LoadOptions {
  cacheKey?: string;
  select?: { user?: string; role?: string };
}
const load = (dir: string, cache: boolean, ref = 'HEAD', o: LoadOptions = {}) =>
  loadAuditHistory(dir, new SchemaRegistry(), ref, { cache, ...o });

/** What `audit --format json --at T --verify` prints (filtered as `select` when given). */
async function audit(dir: string, cache: boolean, o: LoadOptions = {}) {
  const h = await load(dir, cache, 'HEAD', o);
  const now = new Date('2026-12-01T00:00:00Z');
  const f = o.select ?? {};
  const out = {
    events: filterEvents(auditEvents(h), f),
    activeAt: {
      at: new Date('2026-11-12T00:00:00Z'),
      rows: activeAt(h, new Date('2026-11-12T00:00:00Z'), f),
    },
    violations: verifyHistory(
      h,
      { now, toleranceMs: 3_600_000, maxDurationAt: (p, t, r) => h.maxDurationAt(p, t, r) },
      f,
    ),
  };
  return { text: [...auditChunks(out, 'json', (s) => s)].join(''), report: h.cache };
}

/** What the reaper and apply read of the history (every lifecycle, as GrantFileHistory), as JSON. */
async function grantFiles(dir: string, cache: boolean): Promise<string> {
  const git = { root: dir, isShallow: () => Promise.resolve(false) };
  return JSON.stringify(await gitGrantHistory(git, 'HEAD', { cache }).grantFiles());
}

const cacheFile = (dir: string) => join(dir, '.git', 'grantops', 'history-cache-v4.bin');

/** The cache file's chunks: [offset of the frame, length of the chunk]. */
function frames(bytes: Buffer): [number, number][] {
  const out: [number, number][] = [];
  for (let at = bytes.indexOf(0x0a) + 1; at < bytes.length; at += 40 + bytes.readUInt32LE(at))
    out.push([at, bytes.readUInt32LE(at)]);
  return out;
}

describe('history cache', () => {
  it('a warm read of a history grown step by step prints exactly what a cold read prints', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(op, { maxLength: 14 }),
        fc.array(fc.array(op, { maxLength: 8 }), { minLength: 1, maxLength: 4 }),
        fc.constantFrom('u1', 'U2', undefined),
        async (first, steps, user) => {
          const repo = new RandomRepo();
          repo.apply(first);
          const cold = await audit(repo.dir, true);
          expect(cold.report).toMatchObject({ mode: 'cold', written: true });
          for (const [i, more] of steps.entries()) {
            const before = repo.tip();
            repo.apply(more);
            // Every other step, the reaper's read comes first: it folds the new commits onto the
            // cache (then the audit reads it with nothing new); else it reads what the audit left.
            const filesFirst = i % 2 === 1 ? await grantFiles(repo.dir, true) : undefined;
            // Half the steps read only one user's lifecycles: the rest must stay right in the cache.
            const select = user && more.length % 2 === 0 ? { select: { user } } : {};
            const warm = await audit(repo.dir, true, select);
            expect(warm.report.mode).toBe('warm');
            const landed = repo.git('rev-list', '--first-parent', '--count', `${before}..HEAD`);
            expect(warm.report.commitsRead).toBe(filesFirst === undefined ? Number(landed) : 0);
            expect(warm.text).toBe((await audit(repo.dir, false, select)).text);
            const cold = await grantFiles(repo.dir, false);
            expect(filesFirst ?? (await grantFiles(repo.dir, true))).toBe(cold);
            if (filesFirst !== undefined) expect(await grantFiles(repo.dir, true)).toBe(cold);
          }
          const warm = await audit(repo.dir, true);
          expect(warm.text).toBe((await audit(repo.dir, false)).text);
          expect(warm.report).toMatchObject({ mode: 'warm', commitsRead: 0, written: false });
          if (user) {
            const one = await audit(repo.dir, true, { select: { user } });
            expect(one.report).toMatchObject({ mode: 'warm', commitsRead: 0 });
            expect(one.text).toBe((await audit(repo.dir, false, { select: { user } })).text);
          }
        },
      ),
      { numRuns: 20 },
    );
  }, 480_000);

  it('appends a chunk per run and writes the cache again as one after 8', async () => {
    const repo = new RandomRepo();
    repo.apply([
      { kind: 'add', n: 1 },
      { kind: 'add', n: 2 },
      { kind: 'merge', n: 3 },
    ]);
    await audit(repo.dir, true);
    const counts: number[] = [];
    const ops: Op[][] = [
      [{ kind: 'modify', n: 1 }],
      [{ kind: 'note', n: 0 }, { kind: 'other' }],
      [{ kind: 'rename', n: 2, m: 4 }],
      [
        { kind: 'revoke', n: 1 },
        { kind: 'add', n: 1 },
      ],
      [{ kind: 'policy' }, { kind: 'modify', n: 4 }],
      [{ kind: 'note', n: 5 }],
      [{ kind: 'merge', n: 3 }],
      [{ kind: 'delete', n: 4 }],
      [
        { kind: 'add', n: 4 },
        { kind: 'note', n: 1 },
      ],
      [{ kind: 'modify', n: 3 }],
    ];
    for (const step of ops) {
      repo.apply(step);
      const warm = await audit(repo.dir, true);
      expect(warm.report).toMatchObject({ mode: 'warm', written: true });
      expect(warm.text).toBe((await audit(repo.dir, false)).text);
      counts.push(frames(readFileSync(cacheFile(repo.dir))).length);
    }
    expect(counts).toEqual([2, 3, 4, 5, 6, 7, 8, 1, 2, 3]);
  }, 120_000);

  it('approval recorded, then withdrawn, on a commit an earlier run had read', async () => {
    const repo = new RandomRepo();
    repo.apply([{ kind: 'add', n: 1 }, { kind: 'other' }]);
    await audit(repo.dir, true);
    const added = repo.git('log', '--format=%H', '-1', 'HEAD~1');
    const blob = repo.git('rev-parse', `${added}:grants/g1.yaml`);
    const note = (text: string) =>
      repo.git(
        '-c',
        'user.name=x',
        '-c',
        'user.email=x@x',
        'notes',
        '--ref=grantops',
        'add',
        '-f',
        '-m',
        text,
        added,
      );
    note(JSON.stringify({ grantops: 1, grants: { g1: { blob, pr: 7, approvers: ['bob'] } } }));
    const approved = await audit(repo.dir, true);
    expect(approved.report).toMatchObject({ mode: 'warm', commitsRead: 0, written: true });
    expect(approved.text).toContain('"approved"');
    expect(approved.text).toBe((await audit(repo.dir, false)).text);
    note('withdrawn');
    const withdrawn = await audit(repo.dir, true);
    expect(withdrawn.report).toMatchObject({ mode: 'warm', commitsRead: 0, written: true });
    expect(withdrawn.text).not.toContain('"approved"');
    expect(withdrawn.text).toBe((await audit(repo.dir, false)).text);
    expect((await audit(repo.dir, true)).text).toBe(withdrawn.text);
  });

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

    it('corrupted (one byte flipped): the folded history read below new commits', async () => {
      const repo = grown();
      await audit(repo.dir, true);
      const bytes = readFileSync(cacheFile(repo.dir));
      bytes[bytes.length - 20]! ^= 0x01;
      writeFileSync(cacheFile(repo.dir), bytes);
      repo.apply([{ kind: 'add', n: 4 }]);
      await refusedThenWarm(repo, 'corrupted');
    });

    it('corrupted (one byte flipped): a chunk appended later', async () => {
      const repo = grown();
      await audit(repo.dir, true);
      repo.apply([{ kind: 'add', n: 4 }]);
      expect((await audit(repo.dir, true)).report).toMatchObject({ mode: 'warm', written: true });
      const bytes = readFileSync(cacheFile(repo.dir));
      const [, [at, length]] = frames(bytes) as [[number, number], [number, number]];
      bytes[at + 40 + Math.floor(length / 2)]! ^= 0x01;
      writeFileSync(cacheFile(repo.dir), bytes);
      await refusedThenWarm(repo, 'corrupted');
    });

    it('half an append (a crash while appending): truncated', async () => {
      const repo = grown();
      await audit(repo.dir, true);
      repo.apply([{ kind: 'add', n: 4 }]);
      await audit(repo.dir, true);
      const bytes = readFileSync(cacheFile(repo.dir));
      const [, [at, length]] = frames(bytes) as [[number, number], [number, number]];
      writeFileSync(cacheFile(repo.dir), bytes.subarray(0, at + 40 + length - 8));
      await refusedThenWarm(repo, 'truncated');
    });

    it('chunks out of order: a chunk appended twice', async () => {
      const repo = grown();
      await audit(repo.dir, true);
      repo.apply([{ kind: 'add', n: 4 }]);
      await audit(repo.dir, true);
      const bytes = readFileSync(cacheFile(repo.dir));
      const [, [at]] = frames(bytes) as [[number, number], [number, number]];
      writeFileSync(cacheFile(repo.dir), Buffer.concat([bytes, bytes.subarray(at)]));
      await refusedThenWarm(repo, 'chunks out of order');
    });

    it('malformed: a string out of range, found only while lifecycles are made (audit and grantFiles)', async () => {
      const repo = grown();
      /** Points the first version's user at a string the chunk does not have; checksum recomputed. */
      const corrupt = () => {
        const bytes = readFileSync(cacheFile(repo.dir));
        const [[at, length]] = frames(bytes) as [[number, number]];
        const body = bytes.subarray(at + 40, at + 40 + length);
        const jsonLength = body.readUInt32LE(0);
        const meta = JSON.parse(body.toString('utf8', 4, 4 + jsonLength)) as { columns: [string, number][] };
        const pad8 = (n: number) => (n + 7) & ~7;
        const size = (c: string) => (c === 'strData' ? 1 : c.endsWith('Times') ? 8 : 4);
        let column = pad8(4 + jsonLength);
        for (const [name, count] of meta.columns) {
          if (name === 'versions') break;
          column += pad8(count * size(name));
        }
        body.writeInt32LE(0x7ffffff0, column + 3 * 4);
        createHash('sha256')
          .update(body)
          .digest()
          .copy(bytes, at + 8);
        writeFileSync(cacheFile(repo.dir), bytes);
      };
      await audit(repo.dir, true);
      corrupt();
      // The reaper's read: answered cold, and the cache written again.
      expect(await grantFiles(repo.dir, true)).toBe(await grantFiles(repo.dir, false));
      expect((await audit(repo.dir, true)).report).toMatchObject({ mode: 'warm', commitsRead: 0 });
      corrupt();
      await refusedThenWarm(repo, 'malformed');
    });

    it('malformed: a chunk of the wrong shape under a matching checksum', async () => {
      const repo = grown();
      await audit(repo.dir, true);
      const bytes = readFileSync(cacheFile(repo.dir));
      const [[at, length]] = frames(bytes) as [[number, number]];
      const body = Buffer.alloc(length, 0x7b);
      body.writeUInt32LE(length - 8, 0);
      createHash('sha256')
        .update(body)
        .digest()
        .copy(bytes, at + 8);
      body.copy(bytes, at + 40);
      writeFileSync(cacheFile(repo.dir), bytes);
      await refusedThenWarm(repo, 'malformed');
    });

    it('GRANTOPS_CACHE_KEY: a cache not made with the key is not used, whatever its checksums', async () => {
      const repo = grown();
      const key = { cacheKey: 'k1' };
      // An unkeyed cache (anyone could have written it) is not used with a key, and the reverse.
      await audit(repo.dir, true);
      const keyed = await audit(repo.dir, true, key);
      expect(keyed.report).toMatchObject({
        mode: 'cold',
        rejected: 'not authenticated with GRANTOPS_CACHE_KEY',
      });
      expect((await audit(repo.dir, true, key)).report).toMatchObject({ mode: 'warm', commitsRead: 0 });
      expect((await audit(repo.dir, true, { cacheKey: 'k2' })).report).toMatchObject({
        mode: 'cold',
        rejected: 'corrupted or not written with GRANTOPS_CACHE_KEY',
      });
      await audit(repo.dir, true, key);
      // A forged chunk with a recomputed plain checksum: refused.
      const bytes = readFileSync(cacheFile(repo.dir));
      const [[at, length]] = frames(bytes) as [[number, number]];
      bytes[at + 40 + length - 1]! ^= 0x01;
      createHash('sha256')
        .update(bytes.subarray(at + 40, at + 40 + length))
        .digest()
        .copy(bytes, at + 8);
      writeFileSync(cacheFile(repo.dir), bytes);
      const forged = await audit(repo.dir, true, key);
      expect(forged.report).toMatchObject({ rejected: 'corrupted or not written with GRANTOPS_CACHE_KEY' });
      expect(forged.text).toBe((await audit(repo.dir, false)).text);
      expect((await audit(repo.dir, true)).report).toMatchObject({
        mode: 'cold',
        rejected: 'authenticated with a key not given',
      });
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
