/**
 * One escaping function per sink. Anything read from a file, a pull request, git or an API is
 * untrusted text: it passes through the function of the sink it is shown on, and only there.
 *
 * | sink                       | function           |
 * | -------------------------- | ------------------ |
 * | the Actions runner's log   | `escapeLog`        |
 * | a terminal (CLI output)    | `escapeTerminal`   |
 * | JSON printed by the CLI    | `escapeJsonText`   |
 * | Markdown (comments, issues) | `escapeMarkdown` (./markdown.ts) |
 * | HTML (job summary tables)  | `escapeHtml`       |
 * | Slack-compatible webhooks  | `escapeSlack`      |
 * | one line of plain text (commit message body) | `escapeLine` |
 */

// Matching these is the point: C0 and C1 controls and DEL drive terminals (ESC, BEL, CSI); the
// bidi embeddings, overrides and isolates reorder what people read (Trojan Source); zero-width
// characters, the BOM, the line and paragraph separators, interlinear annotations and the tag block
// hide or split text. Each is shown as a visible \u escape instead.
const INVISIBLE =
  '\\u061c\\u180e\\u200b-\\u200f\\u2028-\\u202e\\u2060-\\u2069\\ufeff\\ufff9-\\ufffb\\u{e0000}-\\u{e007f}';
const UNSAFE = new RegExp(`[\\u0000-\\u001f\\u007f-\\u009f${INVISIBLE}]`, 'gu');
// Without line feed and tab, for formats where those are data (a quoted CSV cell).
const UNSAFE_BUT_LF_TAB = new RegExp(`[\\u0000-\\u0008\\u000b-\\u001f\\u007f-\\u009f${INVISIBLE}]`, 'gu');
// Without C0: JSON.stringify escapes those inside strings, and its own line breaks are structure.
const UNSAFE_IN_JSON = new RegExp(`[\\u007f-\\u009f${INVISIBLE}]`, 'gu');

function visible(c: string): string {
  const cp = c.codePointAt(0) ?? 0;
  return cp > 0xffff ? `\\u{${cp.toString(16)}}` : `\\u${cp.toString(16).padStart(4, '0')}`;
}

/** Shows every control, bidi and invisible character as a `\uXXXX` escape (optionally keeping \n, \t). */
export function escapeInvisible(text: string, opts: { keepLineFeedAndTab?: boolean } = {}): string {
  return text.replace(opts.keepLineFeedAndTab ? UNSAFE_BUT_LF_TAB : UNSAFE, visible);
}

/**
 * For a terminal: nothing in the text can move the cursor, change colours, ring the bell, set the
 * window title or reorder what is shown. Line feeds and tabs stay only with `keepLineFeedAndTab`.
 */
export function escapeTerminal(text: string, opts: { keepLineFeedAndTab?: boolean } = {}): string {
  return escapeInvisible(text, opts);
}

/**
 * For the GitHub Actions runner's log (`core.info` and annotation messages): the runner executes a
 * line that starts, after white space, with `::name::` (add-mask, stop-commands, …) and, in its
 * legacy syntax, `##[name]` anywhere in a line (actions/runner ActionCommand.TryParseV2/TryParse).
 * The text becomes one line (line breaks, CR included, are escaped: the runner splits on CR too),
 * its leading `::` and every `##[` are broken with a visible escape.
 */
export function escapeLog(text: string): string {
  return escapeInvisible(text)
    .replace(/^(\s*):(?=:)/, '$1\\u003a')
    .replace(/##\[/g, '#\\u0023[');
}

/**
 * For a Slack-compatible webhook's `text`: Slack reads `<!channel>`, `<!here>`, `<@U123>` and
 * `<https://url|label>` as markup and asks that exactly `&`, `<` and `>` be escaped as entities
 * (api.slack.com/reference/surfaces/formatting#escaping). Line breaks are folded to spaces.
 */
export function escapeSlack(text: string): string {
  return escapeInvisible(text.replace(/\r\n?|\n/g, ' '))
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
}

/** For HTML (the cells of `core.summary` tables): data, never markup. */
export function escapeHtml(text: string): string {
  return escapeInvisible(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** One line of plain text (a commit message body line): a value can never forge a trailer. */
export function escapeLine(text: string): string {
  return escapeInvisible(text.replace(/[\r\n]+/g, ' '));
}

/**
 * For JSON the CLI prints (already serialised): JSON.stringify escapes C0 controls but leaves DEL,
 * C1 (0x9b is a CSI on many terminals), bidi and zero-width characters raw. They can only occur inside
 * strings, where `\uXXXX` means the same character: the document's value is unchanged.
 */
export function escapeJsonText(json: string): string {
  return json.replace(UNSAFE_IN_JSON, (c) => {
    const cp = c.codePointAt(0) ?? 0;
    if (cp <= 0xffff) return `\\u${cp.toString(16).padStart(4, '0')}`;
    const hi = Math.floor((cp - 0x10000) / 0x400) + 0xd800;
    const lo = ((cp - 0x10000) % 0x400) + 0xdc00;
    return `\\u${hi.toString(16)}\\u${lo.toString(16)}`;
  });
}
