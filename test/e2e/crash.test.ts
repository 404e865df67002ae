import { execFileSync, spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aGrant } from '../support/builders.js';
import { DIST_CLI } from '../support/cli.js';
import { FakeGitHub } from '../support/github-server.js';
import { mergePullRequest } from '../support/merge.js';
import { tempRepo } from '../support/repo.js';

/**
 * Crash consistency of the bundled CLI, proven by killing it (issue 11, point 7). Every trial starts
 * from the same access repo: a bare origin, a fresh clone, a real exec target (a script with a JSON
 * state file), expired, live, newly merged and early-removed grants. It runs `apply --push-notes` or
 * `reap --push` and SIGKILLs grantops:
 * - at each step of a normal run that leaves a trace: after each exec call took effect, and inside each
 *   git process grantops runs that fires a hook (ref transactions, index writes, commit, push, the
 *   origin's receive hooks); a trial per step, found by a calibration run;
 * - at random instants in [0, duration of a normal run], from a seeded PRNG, several kills in a row
 *   on the same checkout (a crash, a restart that crashes too, ...).
 * After each kill: no grant file is gone from main (origin's or the clone's) while its access remains,
 * and no live grant's file is gone. After the last kill of a trial, apply and then reap are rerun to
 * completion: they exit 0; no access is left for expired or removed grants and the live grants have
 * theirs; every expired file is gone from origin main, named by exactly one `Revoked-Grant:` trailer
 * (no duplicate cleanup); the clone holds nothing unpushed; no `*.lock` file is left anywhere.
 *
 * Only the grantops process is killed, never its process group: a crashed grantops (the OOM killer, a
 * fatal error in node) leaves its running git and exec children to finish, as on a server. A
 * runner cancel kills the whole tree, but then the checkout is discarded with it: what survives is
 * the origin and the target, which these trials check too. The trial waits for those orphans
 * (found through /proc by a per-run variable in their environment) before the next run, as the next
 * scheduled run starts long after them. For the same reason one kill point per child process is
 * enough: whichever hook of a git process kills grantops, that process completes alone.
 *
 * Replay a failure with GRANTOPS_CRASH_SEED=<seed in the message>: the kill points and delays are the
 * same (where a delay lands still depends on the machine's speed).
 */

/**
 * The fake VPN: a real child process with a JSON state file (one array on one line) and its own lock
 * (like a real system, it serialises its writes). A shell script rather than node: a trial makes a
 * dozen calls, ~15 ms of CPU each here against ~70 ms for node's start-up. With CRASH_EVENTS set it logs each call after its
 * effect, and kills its caller ($PPID is grantops) when that call is the CRASH_KILL_AT-th event.
 */
const VPN = `#!/bin/sh
lock="$VPN_STATE.lock"
i=0
until mkdir "$lock" 2>/dev/null; do
  i=$((i + 1)); [ "$i" -gt 2000 ] && exit 3; sleep 0.005
done
trap 'rmdir "$lock"' EXIT
trap 'exit 1' HUP INT PIPE TERM
[ -s "$VPN_STATE" ] || echo '[]' > "$VPN_STATE"
verb="$1"
if [ "$verb" != list ]; then
  req=$(cat)
  user=$(printf '%s' "$req" | sed -n 's/.*"user":"\\([^"]*\\)".*/\\1/p')
  role=$(printf '%s' "$req" | sed -n 's/.*"role":"\\([^"]*\\)".*/\\1/p')
  # A request cut short (grantops killed before it wrote stdin) is refused, as a real system would.
  if [ -z "$user" ] || [ -z "$role" ]; then echo 'user and role are required' >&2; exit 2; fi
  entry="{\\"user\\":\\"$user\\",\\"role\\":\\"$role\\"}"
  rest=$({ sed 's/^\\[//; s/\\]$//; s/},{/}\\n{/g' "$VPN_STATE" | grep -vxF -e "$entry" -e ''
    [ "$verb" = grant ] && echo "$entry"; } | paste -sd, -)
  printf '[%s]\\n' "$rest" > "$VPN_STATE.tmp"
  mv "$VPN_STATE.tmp" "$VPN_STATE"
fi
if [ -n "$CRASH_EVENTS" ]; then
  echo "vpn $verb @$$" >> "$CRASH_EVENTS"
  [ "$(wc -l < "$CRASH_EVENTS")" -eq "\${CRASH_KILL_AT:-0}" ] && kill -9 "$PPID"
fi
[ "$verb" = list ] && cat "$VPN_STATE"
exit 0
`;

/**
 * One script for every hook, in the clone and in the origin (core.hooksPath). It logs the event with
 * the process grantops started that it belongs to (the ancestor whose parent is grantops), and kills
 * grantops (its pid from CRASH_PIDFILE, written by the test right after spawning it) at the
 * CRASH_KILL_AT-th event. Hooks of a bare repository run in it, those of a clone in its work tree.
 * Without CRASH_EVENTS (the test's own git calls, the reruns) it does nothing.
 */
const HOOK = `#!/bin/sh
cat >/dev/null 2>&1
[ -n "$CRASH_EVENTS" ] || exit 0
case "$PWD" in *.git) side=origin ;; *) side=clone ;; esac
top=$(cat "$CRASH_PIDFILE")
p=$PPID
while [ "$p" -gt 1 ] && read -r _ _ _ pp _ < "/proc/$p/stat"; do
  [ "$pp" = "$top" ] && break
  p=$pp
done
echo "$side $(basename "$0")\${1:+ $1} @$p" >> "$CRASH_EVENTS"
if [ "$(wc -l < "$CRASH_EVENTS")" -eq "\${CRASH_KILL_AT:-0}" ]; then kill -9 "$top"; fi
exit 0
`;
const HOOK_NAMES = [
  'reference-transaction',
  'post-index-change',
  'post-commit',
  'pre-push',
  'pre-receive',
  'post-receive',
];

const POLICY = `target: { name: vpn, type: exec, command: [./scripts/vpn.sh], env: [VPN_STATE, CRASH_EVENTS, CRASH_KILL_AT, CRASH_RUN] }
roles:
  ops: { maxDuration: 12h, approvals: 1, approvers: [bob] }
`;
/** When the grants of PR #1 were applied; no apply ran after that until the trials. */
const APPLIED_AT = '2026-11-28T10:00:00Z';
const NOW = '2026-11-28T12:00:00Z';

/** Applied at APPLIED_AT, expired at NOW (the last one exactly at NOW). */
const EXPIRED: Record<string, string> = {
  e1: '2026-11-28T10:30:00Z',
  e2: '2026-11-28T11:00:00Z',
  e3: '2026-11-28T11:30:00Z',
  e4: '2026-11-28T12:00:00Z',
};
/** Applied at APPLIED_AT, still valid. */
const LIVE: Record<string, string> = { l1: '2026-11-28T16:00:00Z', l2: '2026-11-28T20:00:00Z' };
/** Applied at APPLIED_AT, then removed from main (early revocation) by PR #3, whose apply never ran. */
const REMOVED: Record<string, string> = { r1: '2026-11-28T18:00:00Z', r2: '2026-11-28T21:00:00Z' };
/** Merged after APPLIED_AT (PR #2): apply must grant them. */
const NEW: Record<string, string> = { n1: '2026-11-28T19:00:00Z', n2: '2026-11-28T21:30:00Z' };

const file = (id: string) => `grants/${id}.yaml`;
const grantFiles = (set: Record<string, string>) =>
  Object.fromEntries(
    Object.entries(set).map(([id, at]) => [file(id), aGrant().for(id).on('vpn', 'ops').expiresAt(at).yaml()]),
  );
/** Users (one per grant) who must hold access once everything has run. */
const WANTED = [...Object.keys(LIVE), ...Object.keys(NEW)].sort();

/** Kills per command, at least (issue 11 asks for 30). */
const MIN_KILLS = 30;
const MIN_RANDOM = 12;
/**
 * Random kills in a row on one checkout before it is rerun to completion. The reruns (two full runs of
 * the CLI) are most of the cost: with a rerun after every kill this file took ~190 s of CPU, ~60 %
 * more than now (~90 s of CPU, about a minute on two cores).
 */
const CHAIN = 5;
/** Trials running at once: two cores, and a trial is mostly waiting on its child processes. */
const PARALLEL = 2;
const CLEANUP_SUBJECT = /^grantops: revoke \d+ expired grant\(s\)$/;

/** mulberry32: a small seeded PRNG, so that a failing draw can be replayed from the printed seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const SEED = process.env.GRANTOPS_CRASH_SEED ? Number(process.env.GRANTOPS_CRASH_SEED) : randomInt(2 ** 31);

let gh: FakeGitHub;
let scratch: string;
let hooks: string;
let template: { origin: string; state: string };
const running = new Set<number>();
const runTokens = new Set<string>();

const git = (...args: string[]) =>
  execFileSync('git', args, { encoding: 'utf8', env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1' } }).trim();

function cliEnv(state: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    GIT_CONFIG_NOSYSTEM: '1',
    VPN_STATE: state,
    ...extra,
  };
}
const githubEnv = () => ({ GITHUB_TOKEN: 'tok', GITHUB_REPOSITORY: 'acme/access', GITHUB_API_URL: gh.url });

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  ms: number;
}

/**
 * Runs the bundled CLI. Its pid goes to `pidFile` right after the spawn, long before it can reach a
 * hook (node alone takes ~150 ms to start); `killAfterMs` SIGKILLs it, and only it.
 */
function runCli(
  args: string[],
  env: NodeJS.ProcessEnv,
  opts: { pidFile?: string; killAfterMs?: number } = {},
): Promise<Exit> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [DIST_CLI, ...args], {
    cwd: scratch,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pid = child.pid!;
  running.add(pid);
  if (opts.pidFile) writeFileSync(opts.pidFile, String(pid));
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  const killer = opts.killAfterMs !== undefined ? setTimeout(kill, opts.killAfterMs) : undefined;
  const guard = setTimeout(kill, 30_000); // a hung run must not hang the suite
  let stderr = '';
  child.stdout.resume();
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    let late: NodeJS.Timeout | undefined;
    const done = () => {
      clearTimeout(late);
      resolve({ code: child.exitCode, signal: child.signalCode, stderr, ms: performance.now() - t0 });
    };
    child.on('error', reject);
    child.on('close', done);
    child.on('exit', () => {
      clearTimeout(killer);
      clearTimeout(guard);
      running.delete(pid);
      // 'close' waits for the pipes too: do not wait long if something grantops started still holds one.
      late = setTimeout(done, 2_000);
    });
  });
}

/** Pids of the processes whose environment carries CRASH_RUN=token: what a killed run left running. */
function orphansOf(token: string): number[] {
  const mark = Buffer.from(`CRASH_RUN=${token}\0`);
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/environ`).includes(mark)) out.push(Number(name));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

async function waitForOrphans(token: string, limitMs = 20_000): Promise<number[]> {
  const t0 = performance.now();
  for (;;) {
    const left = orphansOf(token);
    if (left.length === 0 || performance.now() - t0 > limitMs) return left;
    await new Promise((r) => setTimeout(r, 20));
  }
}

function killAll(pids: Iterable<number>): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** The repo every trial copies: origin after PR #1 (applied), PR #2 (not yet) and PR #3 (a removal). */
async function buildTemplate(): Promise<{ origin: string; state: string }> {
  const origin = join(scratch, 'template.git');
  const state = join(scratch, 'template-vpn.json');
  const seed = tempRepo({ 'policies/vpn.yaml': POLICY, 'scripts/vpn.sh': VPN });
  try {
    chmodSync(join(seed.dir, 'scripts/vpn.sh'), 0o755);
    seed.git('init', '-q', '-b', 'main');
    seed.commit('access repo');
    seed.git('init', '-q', '--bare', '-b', 'main', origin);
    seed.git('remote', 'add', 'origin', origin);
    mergePullRequest(seed, gh, {
      number: 1,
      author: 'carol',
      files: { ...grantFiles(EXPIRED), ...grantFiles(LIVE), ...grantFiles(REMOVED) },
      reviews: [{ user: 'bob' }],
    });
    seed.git('push', '-q', 'origin', 'main');

    // The apply that ran after PR #1, for real: the VPN holds its access, the evidence notes are on origin.
    const first = join(scratch, 'template-clone');
    git('clone', '-q', origin, first);
    const applied = await runCli(
      ['--repo', first, '--now', APPLIED_AT, 'apply', '--push-notes'],
      cliEnv(state, githubEnv()),
    );
    expect(applied.code, applied.stderr).toBe(0);
    rmSync(first, { recursive: true, force: true });

    mergePullRequest(seed, gh, {
      number: 2,
      author: 'carol',
      files: grantFiles(NEW),
      reviews: [{ user: 'bob' }],
    });
    seed.git('checkout', '-q', '-b', 'pr-3', 'main');
    seed.git('rm', '-q', ...Object.keys(REMOVED).map(file));
    seed.commit('end r1 and r2 early');
    seed.git('checkout', '-q', 'main');
    seed.git('merge', '-q', '--no-ff', '-m', 'Merge pull request #3 from acme/pr-3', 'pr-3');
    seed.git('push', '-q', 'origin', 'main');
    git('--git-dir', origin, 'config', 'core.hooksPath', hooks);
    return { origin, state };
  } finally {
    seed.cleanup();
  }
}

type Command = 'reap' | 'apply';
type KillPoint =
  { kind: 'none' } | { kind: 'event'; ordinal: number; label: string } | { kind: 'random'; delayMs: number };

const describeKill = (k: KillPoint) =>
  k.kind === 'none'
    ? 'not killed (calibration)'
    : k.kind === 'event'
      ? `killed at event ${k.ordinal}: ${k.label}`
      : `killed after ${Math.round(k.delayMs)} ms`;

const argsOf = (command: Command, clone: string) =>
  command === 'reap'
    ? ['--repo', clone, '--now', NOW, 'reap', '--push']
    : ['--repo', clone, '--now', NOW, 'apply', '--push-notes'];

const vpnUsers = (state: string) =>
  (JSON.parse(readFileSync(state, 'utf8')) as { user: string }[]).map((e) => e.user).sort();

/** One checkout of the template: its own origin, clone and VPN state. */
class Trial {
  readonly dir: string;
  readonly origin: string;
  readonly clone: string;
  readonly state: string;
  readonly violations: string[] = [];
  private runs = 0;

  constructor(readonly name: string) {
    this.dir = join(scratch, name);
    this.origin = join(this.dir, 'origin.git');
    this.clone = join(this.dir, 'clone');
    this.state = join(this.dir, 'vpn.json');
    mkdirSync(this.dir);
    cpSync(template.origin, this.origin, { recursive: true });
    copyFileSync(template.state, this.state);
    git('clone', '-q', '-c', `core.hooksPath=${hooks}`, this.origin, this.clone);
  }

  /** Runs `command` and kills it at `kill`; checks the invariant right away and once its orphans are done. */
  async killedRun(
    command: Command,
    kill: KillPoint,
  ): Promise<{ killed: boolean; events: string[]; ms: number }> {
    const n = ++this.runs;
    const ctx = `[seed ${SEED}, ${this.name}, run ${n}: ${command} ${describeKill(kill)}]`;
    const events = join(this.dir, `events-${n}`);
    const pidFile = join(this.dir, `grantops-${n}.pid`);
    const token = `${SEED}/${this.name}/${n}`;
    runTokens.add(token);
    writeFileSync(events, '');
    const exit = await runCli(
      argsOf(command, this.clone),
      cliEnv(this.state, {
        CRASH_RUN: token,
        CRASH_PIDFILE: pidFile,
        ...(kill.kind !== 'random' ? { CRASH_EVENTS: events } : {}),
        ...(kill.kind === 'event' ? { CRASH_KILL_AT: String(kill.ordinal) } : {}),
        ...(command === 'apply' ? githubEnv() : {}),
      }),
      { pidFile, ...(kill.kind === 'random' ? { killAfterMs: kill.delayMs } : {}) },
    );
    const killed = exit.signal === 'SIGKILL';
    const logged = readFileSync(events, 'utf8').split('\n').filter(Boolean);
    if (kill.kind === 'event' && !killed)
      this.violations.push(`${ctx}: the kill point was never reached (events: ${logged.join(', ')})`);
    if (kill.kind === 'none' && exit.code !== 0)
      this.violations.push(`${ctx}: exited ${exit.code ?? exit.signal}: ${tail(exit.stderr)}`);
    this.checkNoEarlyRemoval(`${ctx} right after the kill`);
    const left = await waitForOrphans(token);
    if (left.length > 0) {
      this.violations.push(`${ctx}: its children still run 20 s after the kill: pids ${left.join(' ')}`);
      killAll(left);
    }
    this.checkNoEarlyRemoval(`${ctx} once its orphans finished`);
    return { killed, events: logged, ms: exit.ms };
  }

  /** No grant file gone from main (origin's or the clone's) while its access remains; no live file gone. */
  private checkNoEarlyRemoval(ctx: string): void {
    const vpn = new Set(vpnUsers(this.state));
    const originTree = this.tree(['--git-dir', this.origin]);
    const cloneTree = this.tree(['-C', this.clone]);
    const revoked = new Set([
      ...this.trailers(['--git-dir', this.origin]),
      ...this.trailers(['-C', this.clone]),
    ]);
    for (const id of Object.keys(EXPIRED)) {
      const gone = !originTree.has(file(id)) || !cloneTree.has(file(id)) || revoked.has(id);
      if (gone && vpn.has(id))
        this.violations.push(
          `${ctx}: ${file(id)} is removed from main while ${id} still has access on the VPN`,
        );
    }
    for (const id of WANTED)
      if (!originTree.has(file(id)) || !cloneTree.has(file(id)))
        this.violations.push(`${ctx}: the file of the live grant ${id} was removed from main`);
  }

  /** Apply, then reap, to completion (as the workflows run them), and the state they must leave. */
  async rerunAndCheck(): Promise<void> {
    const ctx = `[seed ${SEED}, ${this.name}, after ${this.runs} killed run(s), rerun]`;
    const apply = await runCli(argsOf('apply', this.clone), cliEnv(this.state, githubEnv()));
    if (apply.code !== 0)
      this.violations.push(`${ctx} apply exited ${apply.code ?? apply.signal}: ${tail(apply.stderr)}`);
    const reap = await runCli(argsOf('reap', this.clone), cliEnv(this.state));
    if (reap.code !== 0)
      this.violations.push(`${ctx} reap exited ${reap.code ?? reap.signal}: ${tail(reap.stderr)}`);

    const vpn = vpnUsers(this.state);
    const leftover = vpn.filter((u) => !WANTED.includes(u));
    if (leftover.length > 0)
      this.violations.push(
        `${ctx}: access left on the VPN for ${leftover.join(', ')} (wanted: ${WANTED.join(', ')})`,
      );
    const missing = WANTED.filter((u) => !vpn.includes(u));
    if (missing.length > 0)
      this.violations.push(`${ctx}: live approved grants without access: ${missing.join(', ')}`);
    const files = [...this.tree(['--git-dir', this.origin])].sort();
    if (files.join() !== WANTED.map(file).join())
      this.violations.push(
        `${ctx}: origin main holds ${files.join(', ')} (wanted: ${WANTED.map(file).join(', ')})`,
      );
    const ids = this.trailers(['--git-dir', this.origin]);
    const twice = ids.filter((id, i) => ids.indexOf(id) !== i);
    if (twice.length > 0)
      this.violations.push(`${ctx}: cleaned up twice: ${twice.join(', ')} (trailers: ${ids.join(', ')})`);
    const unnamed = Object.keys(EXPIRED).filter((id) => !ids.includes(id));
    if (unnamed.length > 0)
      this.violations.push(`${ctx}: no Revoked-Grant trailer on origin main for ${unnamed.join(', ')}`);
    const head = git('-C', this.clone, 'rev-parse', 'HEAD');
    if (head !== git('--git-dir', this.origin, 'rev-parse', 'main'))
      this.violations.push(
        `${ctx}: the clone's HEAD ${head.slice(0, 7)} is not origin main (work left unpushed)`,
      );
    const locks = execFileSync('find', [this.dir, '-name', '*.lock'], { encoding: 'utf8' }).trim();
    if (locks)
      this.violations.push(
        `${ctx}: lock files left: ${locks
          .split('\n')
          .map((p) => p.slice(this.dir.length + 1))
          .join(', ')}`,
      );
  }

  cleanupIfPassed(): void {
    if (this.violations.length === 0) rmSync(this.dir, { recursive: true, force: true });
  }

  private tree(gitDir: string[]): Set<string> {
    return new Set(
      git(...gitDir, 'ls-tree', '-r', '--name-only', 'main', '--', 'grants')
        .split('\n')
        .filter(Boolean),
    );
  }

  /** Revoked-Grant trailers of the cleanup commits on main, one entry per trailer. */
  private trailers(gitDir: string[]): string[] {
    return git(...gitDir, 'log', '--format=%B%x1e', 'main')
      .split('\x1e')
      .map((m) => m.trim())
      .filter((m) => CLEANUP_SUBJECT.test(m.split('\n')[0] ?? ''))
      .flatMap((m) => [...m.matchAll(/^Revoked-Grant: (.+)$/gm)].map((x) => x[1]!.trim()));
  }
}

const tail = (text: string) => text.trim().split('\n').slice(-3).join(' | ');

/** Runs `tasks`, PARALLEL at a time. */
async function inParallel(tasks: (() => Promise<void>)[]): Promise<void> {
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < tasks.length; i = next++) await tasks[i]!();
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
}

/**
 * A calibration run (its events, its duration), then a trial per kill point (the first event of each
 * process grantops started) and random kills in chains of CHAIN, MIN_KILLS kills at least.
 */
async function crashTrials(command: Command) {
  const t0 = performance.now();
  const calibration = new Trial(`${command}-calibration`);
  const normal = await calibration.killedRun(command, { kind: 'none' });
  await calibration.rerunAndCheck();
  const trials: Trial[] = [calibration];
  // One kill point per process grantops started: its first event, labelled with all of its events.
  const byOwner = new Map<string, { ordinal: number; labels: string[] }>();
  normal.events.forEach((line, i) => {
    const [label = line, owner = ''] = line.split(' @');
    const seen = byOwner.get(owner);
    if (seen) seen.labels.push(label);
    else byOwner.set(owner, { ordinal: i + 1, labels: [label] });
  });
  const points: KillPoint[] = [...byOwner.values()].map(({ ordinal, labels }) => ({
    kind: 'event',
    ordinal,
    label: labels.length > 1 ? `${labels[0]} (its process then: ${labels.slice(1).join(', ')})` : labels[0]!,
  }));
  const rng = prng(SEED ^ (command === 'reap' ? 0x5eed : 0xa991));
  const randoms = Math.max(MIN_RANDOM, MIN_KILLS - points.length);
  const delays = Array.from({ length: randoms }, () => rng() * normal.ms);
  let killed = 0;
  const tasks = points.map((point, i) => async () => {
    const trial = new Trial(`${command}-point-${i + 1}`);
    trials.push(trial);
    if ((await trial.killedRun(command, point)).killed) killed++;
    await trial.rerunAndCheck();
    trial.cleanupIfPassed();
  });
  for (let c = 0; c * CHAIN < delays.length; c++) {
    tasks.push(async () => {
      const trial = new Trial(`${command}-chain-${c + 1}`);
      trials.push(trial);
      for (const delayMs of delays.slice(c * CHAIN, (c + 1) * CHAIN))
        if ((await trial.killedRun(command, { kind: 'random', delayMs })).killed) killed++;
      await trial.rerunAndCheck();
      trial.cleanupIfPassed();
    });
  }
  await inParallel(tasks);
  calibration.cleanupIfPassed();
  const kills = points.length + delays.length;
  console.log(
    `crash ${command}: seed ${SEED}; ${kills} kills (${points.length} at kill points of a ${normal.events.length}-event run, ` +
      `${delays.length} random in [0, ${Math.round(normal.ms)} ms]), ${killed} landed before the run ended; ` +
      `${trials.length} checkouts rerun; ${Math.round(performance.now() - t0)} ms`,
  );
  return {
    kills,
    killed,
    labels: points.map((p) => (p.kind === 'event' ? p.label : '')),
    violations: trials.flatMap((t) => t.violations),
  };
}

// /proc finds the orphans of a killed run (CI runs on Linux).
describe('crash consistency: grantops SIGKILLed at any point', () => {
  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'grantops-crash-'));
    hooks = join(scratch, 'hooks');
    mkdirSync(hooks);
    for (const name of HOOK_NAMES) {
      writeFileSync(join(hooks, name), HOOK);
      chmodSync(join(hooks, name), 0o755);
    }
    gh = await FakeGitHub.start({ token: 'tok' });
    template = await buildTemplate();
  }, 60_000);

  afterAll(async () => {
    killAll(running);
    for (const token of runTokens) killAll(orphansOf(token));
    await gh?.stop();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('reap --push: no file goes before its access, and the rerun converges without a duplicate cleanup', async () => {
    const r = await crashTrials('reap');
    expect(r.violations).toEqual([]);
    expect(r.kills, `seed ${SEED}`).toBeGreaterThanOrEqual(MIN_KILLS);
    // The kill points include each revoke, then the cleanup commit (a ref update in the clone) and its push
    // (the origin's receive hooks, which no client flag skips).
    const afterRevokes = r.labels.slice(r.labels.lastIndexOf('vpn revoke') + 1).join('\n');
    const revokes = r.labels.filter((l) => l === 'vpn revoke').length;
    expect(revokes, `seed ${SEED}`).toBeGreaterThanOrEqual(Object.keys(EXPIRED).length);
    expect(afterRevokes, `seed ${SEED}`).toMatch(/clone reference-transaction/);
    expect(afterRevokes, `seed ${SEED}`).toMatch(/origin pre-receive/);
  }, 300_000);

  it('apply: the rerun converges: expired and removed grants lose their access, live ones keep it', async () => {
    const r = await crashTrials('apply');
    expect(r.violations).toEqual([]);
    expect(r.kills, `seed ${SEED}`).toBeGreaterThanOrEqual(MIN_KILLS);
    expect(r.labels.join('\n'), `seed ${SEED}`).toMatch(/^vpn grant$/m);
    expect(r.labels.join('\n'), `seed ${SEED}`).toMatch(/^vpn revoke$/m);
  }, 300_000);
});
