import { spawn } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { TargetError } from '../model/errors.js';
import type { ExecTarget } from '../model/policy.js';
import { formatTimestamp } from '../model/time.js';
import { identityModel, type Access, type AccessChange, type Target } from './target.js';

const MAX_OUTPUT = 4 * 1024 * 1024;

/**
 * Any system, through a script in the access repo speaking the exec protocol:
 * `<command...> grant|revoke|list`, cwd = repo root, one JSON object on stdin for grant/revoke,
 * a JSON array on stdout for list. argv only, never a shell; killed after the policy's timeout.
 */
export class ExecTargetAdapter implements Target {
  readonly nativeExpiry = false;
  readonly model = identityModel();
  // Scripts are usually read-modify-write of some state: by default one call at a time per target.
  private readonly slots: Semaphore;

  constructor(
    readonly config: ExecTarget,
    private readonly repoRoot: string,
    private readonly env: NodeJS.ProcessEnv = scrubbedEnv(process.env),
  ) {
    this.slots = new Semaphore(config.concurrency);
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
      const child = spawn(program, args, {
        cwd: this.repoRoot,
        env: this.env,
        shell: false,
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      let killed = false;
      const timer = setTimeout(() => {
        killed = true;
        child.kill('SIGKILL');
      }, timeoutMs);
      child.stdout.on('data', (d: Buffer) => {
        if (stdout.length < MAX_OUTPUT) stdout += d.toString('utf8');
      });
      child.stderr.on('data', (d: Buffer) => {
        if (stderr.length < MAX_OUTPUT) stderr += d.toString('utf8');
      });
      child.on('error', (err) => {
        clearTimeout(timer);
        reject(new TargetError(`${verb}: cannot run ${this.config.command[0]}: ${err.message}`, name));
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        if (killed)
          return reject(new TargetError(`${verb}: timed out after ${timeoutMs} ms and was killed`, name));
        if (code !== 0) {
          const why = stderr.trim().split('\n').slice(-3).join(' ') || `exit ${code ?? signal}`;
          return reject(new TargetError(`${verb} failed (exit ${code ?? signal}): ${why}`, name));
        }
        resolvePromise(stdout);
      });
      // A script that exits without reading stdin closes the pipe: that is its business, not an error.
      child.stdin.on('error', () => undefined);
      child.stdin.end(stdin ?? '');
    });
  }
}

/** The environment a script gets: the runner's, minus grantops' own credentials. */
export function scrubbedEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(env)) {
    if (k === 'GITHUB_TOKEN' || k.startsWith('INPUT_') || k === 'GRANTOPS_ADMIN_TOKEN') continue;
    out[k] = v;
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
