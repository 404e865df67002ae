import { escapeInvisible } from './escape.js';

const ZWSP = '&#8203;';

/**
 * Escapes text from grant files (or any user input) for GitHub-flavoured Markdown so that it renders
 * as the literal text: no HTML, no links or autolinks, no @mentions, no #references, no table breaks.
 * GitHub links mentions and URLs after Markdown has been parsed, so backslashes alone cannot stop
 * them; a zero-width space (as an entity) breaks the pattern without changing what people read.
 * Control, bidi and invisible characters are shown as `\uXXXX`, as on a terminal.
 */
export function escapeMarkdown(text: string): string {
  return (
    escapeInvisible(text.replace(/\r\n?|\n/g, ' '))
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/[\\`*_{}[\]()|~]/g, (c) => `\\${c}`)
      // Block markers only mean something at the start of a line: a value may be placed there.
      .replace(/^(\s*)(\d+)([.)])/, '$1$2\\$3')
      .replace(/^(\s*)([-+#=])/, '$1\\$2')
      .replace(/#(?=[0-9A-Za-z])/g, `#${ZWSP}`)
      .replace(/@/g, `@${ZWSP}`)
      .replace(/:(?=\/\/)/g, `:${ZWSP}`)
      .replace(/\b(www)\./gi, `$1${ZWSP}.`)
  );
}

/**
 * Markdown that is meant to be live, e.g. an @mention of a validated GitHub login. Only code that has
 * checked the text may create one; escapeView passes it through unchanged.
 */
export class TrustedMarkdown {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

/** An @mention, for a login that matches GitHub's login rules (anything else stays escaped text). */
export function mention(login: string): TrustedMarkdown | string {
  return /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/.test(login)
    ? new TrustedMarkdown(`@${login}`)
    : login;
}

/** Deep copy of `value` with every string escaped: templates then cannot output raw user text. */
export function escapeView<T>(value: T): T {
  return escapeStrings(value, escapeMarkdown, (trusted) => trusted.text);
}

/**
 * Deep copy of `value` with every string passed through `escape` (a sink's escaping function);
 * TrustedMarkdown becomes `trusted(it)`, by default its text escaped like any string.
 */
export function escapeStrings<T>(
  value: T,
  escape: (text: string) => string,
  trusted: (t: TrustedMarkdown) => string = (t) => escape(t.text),
): T {
  if (typeof value === 'string') return escape(value) as T;
  if (value instanceof TrustedMarkdown) return trusted(value) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => escapeStrings(v, escape, trusted)) as T;
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = escapeStrings(v, escape, trusted);
    return out as T;
  }
  return value;
}
