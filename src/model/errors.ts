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

/** Base class: every error grantops raises on purpose carries an exit code. */
export class GrantopsError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Usage and configuration errors: bad flag, not a repo, invalid policy. Exit 2. */
export class ConfigError extends GrantopsError {
  constructor(
    message: string,
    readonly findings: readonly Finding[] = [],
  ) {
    super(message, 2);
  }
}

/** A request the policy refuses (e.g. `grantops request` over maxDuration). Exit 1. */
export class PolicyViolationError extends GrantopsError {
  constructor(
    message: string,
    readonly findings: readonly Finding[] = [],
  ) {
    super(message, 1);
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
export class GitError extends Error {
  constructor(
    /** The command line, e.g. `git fetch origin`. */
    readonly command: string,
    /** The exit code, or undefined when git was killed or never ran. */
    readonly exitCode: number | undefined,
    readonly stderr: string,
    /** Why it failed, when not an exit code: `killed by SIGTERM`, `spawn git ENOENT`, a stall. */
    reason?: string,
  ) {
    const why = reason ?? `exit ${exitCode ?? '?'}`;
    const detail = stderr.trim();
    super(`${command} failed (${why})${detail ? `: ${detail}` : ''}`);
    this.name = 'GitError';
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
