/** A position in a source file, 1-based, as editors and GitHub annotations count. */
export interface SourcePosition {
  line: number;
  column: number;
}

export type Severity = 'error' | 'warning';

/**
 * One problem found in an access repo: always tied to a file and a position in it, so that it can
 * become a CLI line `file:line:column: message` and a GitHub annotation on the exact line.
 */
export interface Finding extends SourcePosition {
  /** Path relative to the access repo root, with forward slashes. */
  file: string;
  message: string;
  severity: Severity;
  /** Stable machine-readable rule name, e.g. `unknown-key`, `max-duration`. */
  rule: string;
}

/**
 * Base class: every error grantops raises on purpose carries an exit code and the findings (file,
 * line, column) that explain it, so the CLI and the Action report any of them without casts.
 */
export class GrantopsError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2,
    readonly findings: readonly Finding[] = [],
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Usage and configuration errors: bad flag, not a repo, invalid policy. Exit 2. */
export class ConfigError extends GrantopsError {
  constructor(message: string, findings: readonly Finding[] = []) {
    super(message, 2, findings);
  }
}

/** A request the policy refuses (e.g. `grantops request` over maxDuration). Exit 1. */
export class PolicyViolationError extends GrantopsError {
  constructor(message: string, findings: readonly Finding[] = []) {
    super(message, 1, findings);
  }
}

/** A target system refused or failed an operation. */
export class TargetError extends GrantopsError {
  constructor(
    message: string,
    readonly target: string,
  ) {
    super(message, 1);
  }
}

/**
 * A git command that failed: exited non-zero, was killed (a stall), or could not start. Carries the
 * command line and git's stderr. Not a GrantopsError: a failing git is reported as it always was.
 */
export class GitError extends GrantopsError {
  constructor(
    /** The command line, e.g. `git fetch origin`. */
    readonly command: string,
    /** git's exit code, or undefined when git was killed or never ran. */
    readonly gitExitCode: number | undefined,
    readonly stderr: string,
    /** Why it failed, when not an exit code: `killed by SIGTERM`, `spawn git ENOENT`, a stall. */
    reason?: string,
  ) {
    const why = reason ?? `exit ${gitExitCode ?? '?'}`;
    const detail = stderr.trim();
    // A failure of git (a lock file, an unreachable origin) fails the run (exit 1) and says why.
    super(`${command} failed (${why})${detail ? `: ${detail}` : ''}`, 1);
  }
}

/** Renders a finding the way compilers do, so editors and terminals can jump to it. */
export function formatFinding(f: Finding): string {
  return `${f.file}:${f.line}:${f.column}: ${f.severity}: ${f.message}`;
}

/** Narrows an unknown catch value to a message without losing non-Error throws. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
