import { spawn } from 'node:child_process';
import { accessSync, constants, realpathSync, statSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { errorMessage, TargetError } from '../model/errors.js';
import type { ExecTarget } from '../model/policy.js';
import { formatTimestamp } from '../model/time.js';
import type { Access, AccessChange, Target } from '../ports/target.js';
import { identityModel } from './identity-model.js';

const MAX_OUTPUT = 4 * 1024 * 1024;
/** Between SIGTERM to a timed-out script's process group and SIGKILL. */
const KILL_GRACE_MS = 2_000;

/** Variables every script gets when the runner has them; anything else only if the policy names it. */
const BASE_ENV = ['PATH', 'HOME', 'LANG', 'TZ', 'TMPDIR'];

/**
 * Any system, through a script in the access repo speaking the exec protocol:
 * `<command...> grant|revoke|list`, cwd = repo root, one JSON object on stdin for grant/revoke,
 * a JSON array on stdout for list. argv only, never a shell; the environment is an allowlist (see
 * execEnv); past the policy's timeout the script is killed with its whole process group.
 */
export class ExecTargetAdapter implements Target {
  readonly nativeExpiry = false;
  readonly model = identityModel();
  // Scripts are usually read-modify-write of some state: by default one call at a time per target.
  private readonly slots: Semaphore;
  private readonly env: NodeJS.ProcessEnv;

  /** `env` is where variables come from (default: this process's); the script sees only the allowlist. */
  constructor(
    readonly config: ExecTarget,
    private readonly repoRoot: string,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    this.slots = new Semaphore(config.concurrency);
    this.env = execEnv(env, config.env);
  }

  /** The script is a regular, executable file inside the repository, and its `list` answers. */
  async check(): Promise<string[]> {
    let program: string;
    try {
      program = this.program();
    } catch (err) {
      return [errorMessage(err)];
    }
    const name = this.config.command[0] ?? '';
    if (!statSync(program).isFile()) return [`exec command ${name} is not a regular file`];
    try {
      accessSync(program, constants.X_OK);
    } catch {
      return [`exec command ${name} is not executable (chmod +x ${name}, and commit the mode)`];
    }
    try {
      await this.observe();
      return [];
    } catch (err) {
      return [errorMessage(err)];
    }
  }

  async observe(): Promise<Access[]> {
    const out = await this.run('list');
    let parsed: unknown;
    try {
      parsed = JSON.parse(out);
    } catch {
      throw new TargetError(`"list" did not print JSON: ${out.slice(0, 200)}`, this.config.name);
    }
    if (!Array.isArray(parsed)) throw new TargetError('"list" must print a JSON array', this.config.name);
    return parsed.map((item: unknown, i) => {
      const e = item as { user?: unknown; role?: unknown };
      if (typeof e?.user !== 'string' || typeof e.role !== 'string') {
        throw new TargetError(`"list" item ${i} must be {"user": string, "role": string}`, this.config.name);
      }
      return { user: e.user, entitlement: e.role };
    });
  }

  async grant(change: AccessChange): Promise<void> {
    await this.run('grant', this.payload(change));
  }

  async revoke(change: AccessChange): Promise<void> {
    await this.run('revoke', this.payload(change));
  }

  private payload(change: AccessChange): string {
    return JSON.stringify({
      id: change.grantIds[0] ?? null,
      user: change.user,
      target: this.config.name,
      role: change.entitlement,
      ...(change.expiresAt ? { expiresAt: formatTimestamp(change.expiresAt) } : {}),
    });
  }

  private program(): string {
    const [program] = this.config.command;
    const abs = resolve(this.repoRoot, program ?? '');
    let real: string;
    try {
      real = realpathSync(abs);
    } catch {
      throw new TargetError(`exec command ${program} does not exist`, this.config.name);
    }
    const rel = relative(realpathSync(this.repoRoot), real);
    if (rel.startsWith(`..${sep}`) || rel === '..' || isAbsolute(rel)) {
      throw new TargetError(`exec command ${program} resolves outside the repository`, this.config.name);
    }
    return real;
  }

  private run(verb: 'grant' | 'revoke' | 'list', stdin?: string): Promise<string> {
    return this.slots.use(() => this.spawnOnce(verb, stdin));
  }

  private spawnOnce(verb: 'grant' | 'revoke' | 'list', stdin?: string): Promise<string> {
    const program = this.program();
    const args = [...this.config.command.slice(1), verb];
    const name = this.config.name;
    const timeoutMs = this.config.timeoutMs;
    return new Promise((resolvePromise, reject) => {
      // detached: the script leads a process group of its own, so a timeout ends its children too.
      const child = spawn(program, args, {
        cwd: this.repoRoot,
        env: this.env,
        shell: false,
        detached: true,
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      let timedOut = false;
      let settled = false;
      let grace: NodeJS.Timeout | undefined;
      const timedOutError = () =>
        new TargetError(
          `${verb}: timed out after ${formatLimit(timeoutMs)}; killed with its process group`,
          name,
        );
      const settle = (finish: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        clearTimeout(grace);
        finish();
      };
      const signalGroup = (signal: NodeJS.Signals | 0): boolean => {
        if (child.pid === undefined) return false;
        try {
          process.kill(-child.pid, signal);
          return true;
        } catch {
          return false; // ESRCH: nothing of the group is left
        }
      };
      const timer = setTimeout(() => {
        timedOut = true;
        signalGroup('SIGTERM');
        grace = setTimeout(() => {
          signalGroup('SIGKILL');
          // A descendant that left the group may still hold the pipes: stop waiting for them.
          child.stdout.destroy();
          child.stderr.destroy();
          settle(() => reject(timedOutError()));
        }, KILL_GRACE_MS);
      }, timeoutMs);
      child.stdout.on('data', (d: Buffer) => {
        if (stdout.length < MAX_OUTPUT) stdout += d.toString('utf8');
      });
      child.stderr.on('data', (d: Buffer) => {
        if (stderr.length < MAX_OUTPUT) stderr += d.toString('utf8');
      });
      child.on('error', (err) => {
        settle(() =>
          reject(new TargetError(`${verb}: cannot run ${this.config.command[0]}: ${err.message}`, name)),
        );
      });
      child.on('close', (code, signal) => {
        if (timedOut) {
          // The script is gone; done as soon as its whole group is too (its children are reaped by
          // whoever inherited them, a moment later), else SIGKILL when the grace ends.
          const poll = () => {
            if (settled) return;
            if (!signalGroup(0)) settle(() => reject(timedOutError()));
            else setTimeout(poll, 50);
          };
          poll();
          return;
        }
        settle(() => {
          if (code !== 0) {
            const why = stderr.trim().split('\n').slice(-3).join(' ') || `exit ${code ?? signal}`;
            reject(new TargetError(`${verb} failed (exit ${code ?? signal}): ${why}`, name));
          } else resolvePromise(stdout);
        });
      });
      // A script that exits without reading stdin closes the pipe: that is its business, not an error.
      child.stdin.on('error', () => undefined);
      child.stdin.end(stdin ?? '');
    });
  }
}

/**
 * The environment a script runs with: PATH, HOME, LANG, LC_*, TZ, TMPDIR and the variables the
 * policy's `env` names, taken from `source`; nothing else, so grantops' own tokens, the Action's
 * inputs and other targets' secrets never reach it, whichever edge (CLI or Action) runs it.
 */
export function execEnv(source: NodeJS.ProcessEnv, named: readonly string[]): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(source)) {
    if (v !== undefined && (BASE_ENV.includes(k) || k.startsWith('LC_') || named.includes(k))) out[k] = v;
  }
  return out;
}

/** A timeout as a policy writes it: `2s`, `1m30s`; `300ms` below a second. */
function formatLimit(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  let rest = Math.round(ms / 1000);
  let out = '';
  for (const [unit, s] of [
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    const n = Math.floor(rest / s);
    if (n > 0) out += `${n}${unit}`;
    rest -= n * s;
  }
  return out;
}

/** At most `size` tasks at once, the rest in arrival order. */
class Semaphore {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly size: number) {}

  async use<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.size) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
    try {
      return await task();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}
