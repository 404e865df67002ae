import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { GitError } from '../../model/errors.js';

/** How long a git command may go without output before it is taken for hung and killed. */
export const GIT_STALL_MS = 120_000;

export interface GitRunOptions {
  /** Written to git's stdin, which is then closed: messages and path lists too long for argv. */
  input?: string | Uint8Array;
  /** Variables added to the environment (an index file, an identity, GIT_FLUSH). */
  env?: Readonly<Record<string, string>>;
  /**
   * Kill git once it has written nothing (stdout or stderr) for this many ms; 0 never. Default:
   * the runner's. A remote that accepts the connection and never answers must not hold a run.
   */
  stallMs?: number;
}

export interface GitStartOptions extends GitRunOptions {
  /** `pipe`: stdin stays open for the caller to write and end (ignored when `input` is given). */
  stdin?: 'pipe' | 'ignore';
  /** Where stdout goes: a pipe (default) or an open file descriptor (then no stall is seen on it). */
  stdout?: 'pipe' | number;
}

/** A started git process. */
export interface GitProcess {
  /** git's stdin when started with `stdin: 'pipe'`; write errors (EPIPE) are already handled. */
  readonly stdin: Writable | null;
  readonly stdout: Readable | null;
  /**
   * Settles once git has exited: resolves on exit 0 or after `stop()`, rejects with a GitError on
   * any other exit, a stall, or a spawn failure. Awaiting it is optional (never an unhandled rejection).
   */
  readonly done: Promise<void>;
  /** Kills git if still running; `done` then resolves: the caller has what it wanted. */
  stop(): void;
}

/**
 * The one way grantops runs git: argv only (no shell), exit codes checked, failures raised as a
 * GitError with the command line and stderr, optional stdin, a stall timeout, and streaming of
 * stdout for the commands whose output is large (log, cat-file).
 */
export class GitRunner {
  constructor(
    readonly cwd: string,
    private readonly stallMs = GIT_STALL_MS,
  ) {}

  /** Starts git and hands back its streams; for readers that drive stdin and stdout themselves. */
  start(args: readonly string[], opts: GitStartOptions = {}): GitProcess {
    const command = describe(args);
    const piped = opts.input !== undefined || opts.stdin === 'pipe';
    const child = spawn('git', [...args], {
      cwd: this.cwd,
      stdio: [piped ? 'pipe' : 'ignore', opts.stdout ?? 'pipe', 'pipe'],
      // Replace refs (refs/replace/*) would let a local ref stand in for main's commits: grantops
      // reads the history that was pushed, never a substitute (GIT_NO_REPLACE_OBJECTS).
      env: { ...process.env, GIT_NO_REPLACE_OBJECTS: '1', ...opts.env },
    });
    const stallMs = opts.stallMs ?? this.stallMs;
    let stderr = '';
    let stopped = false;
    let stalled = false;
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      if (stallMs <= 0) return;
      clearTimeout(timer);
      timer = setTimeout(() => {
        stalled = true;
        child.kill();
      }, stallMs);
    };
    const done = new Promise<void>((resolve, reject) => {
      const settle = (code: number | null, signal: NodeJS.Signals | null) => {
        clearTimeout(timer);
        if (stopped) resolve();
        else if (stalled)
          reject(new GitError(command, undefined, stderr, `timed out: no output for ${stallMs} ms, killed`));
        else if (code === 0) resolve();
        else
          reject(
            new GitError(
              command,
              code ?? undefined,
              stderr,
              code === null ? `killed by ${signal}` : undefined,
            ),
          );
      };
      child.on('error', (err) => {
        clearTimeout(timer);
        if (stopped) resolve();
        else reject(new GitError(command, undefined, stderr, err.message));
      });
      // 'close' waits for stdout to be read to its end; a stalled git is done when it exits (a
      // helper it started, such as ssh, may still hold stderr open).
      child.on('exit', (code, signal) => {
        if (stalled || stopped) settle(code, signal);
      });
      child.on('close', settle);
    });
    done.catch(() => undefined);
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString('utf8');
      arm();
    });
    child.stdout?.on('data', arm);
    // A git that exits without reading its input (an error, or a verb that reads none) closes the
    // pipe: EPIPE then belongs to that exit, which `done` reports, never to the process.
    child.stdin?.on('error', () => undefined);
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    arm();
    return {
      stdin: opts.input === undefined ? child.stdin : null,
      stdout: child.stdout,
      done,
      stop() {
        stopped = true;
        clearTimeout(timer);
        if (child.exitCode === null && child.signalCode === null) child.kill();
      },
    };
  }

  /** Runs git to its end and returns all of stdout. */
  async run(args: readonly string[], opts: GitRunOptions = {}): Promise<Buffer> {
    const proc = this.start(args, opts);
    const chunks: Buffer[] = [];
    proc.stdout?.on('data', (d: Buffer) => chunks.push(d));
    await proc.done;
    return Buffer.concat(chunks);
  }

  /** Runs git to its end and returns stdout as UTF-8 text. */
  async text(args: readonly string[], opts: GitRunOptions = {}): Promise<string> {
    return (await this.run(args, opts)).toString('utf8');
  }

  /**
   * Streams stdout to `onChunk` as it arrives; returning `false` stops git (and resolves). Rejects
   * with a GitError if git fails before that.
   */
  async chunks(
    args: readonly string[],
    onChunk: (chunk: Buffer) => boolean | void,
    opts: GitRunOptions = {},
  ): Promise<void> {
    const proc = this.start(args, opts);
    let wanted = true;
    proc.stdout?.on('data', (d: Buffer) => {
      if (wanted && onChunk(d) === false) {
        wanted = false;
        proc.stop();
      }
    });
    await proc.done;
  }

  /**
   * Streams stdout line by line (without the newline) to `onLine`; returning `false` stops git
   * (and resolves). Rejects with a GitError if git fails before that.
   */
  async lines(
    args: readonly string[],
    onLine: (line: string) => boolean | void,
    opts: GitRunOptions = {},
  ): Promise<void> {
    const proc = this.start(args, opts);
    if (proc.stdout) {
      for await (const line of createInterface({ input: proc.stdout, crlfDelay: Infinity })) {
        if (onLine(line) === false) {
          proc.stop();
          break;
        }
      }
    }
    await proc.done;
  }
}

/** The command line as a person would type it (arguments with spaces or quotes in quotes). */
function describe(args: readonly string[]): string {
  return [
    'git',
    ...args.map((a) => (/^[\w@%+=:,./^{}~-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)),
  ].join(' ');
}
