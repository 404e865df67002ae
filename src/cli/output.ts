import { escapeJsonText, escapeTerminal } from '../render/escape.js';
import { alignedLines } from '../render/table.js';

/** Where the CLI writes; injected so tests can run commands in-process. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /**
   * Resolves when stdout takes more output: false once its reader has gone (`| head`), so a long
   * output stops being produced. Absent: always ready.
   */
  stdoutReady?(): Promise<boolean>;
  /** Whether each stream may carry colour escapes (see `colorFor`). */
  color: { stdout: boolean; stderr: boolean };
  /** stderr is a terminal: long runs may draw a progress line there. */
  progress?: boolean;
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
}

const CODES = { red: 31, green: 32, yellow: 33, dim: 2, bold: 1 } as const;
export type Colour = keyof typeof CODES;

/** `text` in `colour` when `on` (the stream's `io.color` flag), else as it is. */
export function paint(on: boolean, colour: Colour, text: string): string {
  return on ? `\u001b[${CODES[colour]}m${text}\u001b[0m` : text;
}

/**
 * Whether a stream gets colour: FORCE_COLOR set (and not `0` or `false`) forces it on, as in Node's
 * own tty; otherwise a non-empty NO_COLOR (no-color.org) or FORCE_COLOR=0 turns it off; otherwise
 * only a terminal gets it. Each stream is judged by itself: `2>log` keeps the log plain.
 */
export function colorFor(
  isTTY: boolean | undefined,
  env: Readonly<Record<string, string | undefined>>,
): boolean {
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== '') return force !== '0' && force !== 'false';
  if (env.NO_COLOR) return false;
  return isTTY === true;
}

/** One JSON document for stdout, with the characters a terminal would act on escaped. */
export function jsonDocument(value: unknown): string {
  return `${escapeJsonText(JSON.stringify(value, null, 2))}\n`;
}

/** A table cell: sanitised, and clipped to `max` characters. */
export function clipCell(text: string, max: number): string {
  const t = escapeTerminal(text);
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}

/**
 * An aligned plain-text table; cells are sanitised and clipped, then coloured one by one by `style`
 * (row -1 is the header), after their widths are measured: never by rewriting rendered lines.
 */
export function table(
  headers: string[],
  rows: string[][],
  maxCell = 48,
  style?: (text: string, row: number, column: number) => string,
): string {
  return [
    ...alignedLines(
      headers,
      () => rows,
      (s) => clipCell(s, maxCell),
      style,
    ),
  ].join('\n');
}

/**
 * The tail of `request --open-pr` / `extend --open-pr`'s line when the pull request found carried
 * another title or body (a writer's workflow can act as grantops' login) and grantops replaced them.
 */
export function replacedNote(proposal: { textReplaced: boolean }): string {
  return proposal.textReplaced ? '; its title and body were replaced by grantops’ own' : '';
}
