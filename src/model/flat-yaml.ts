import type { SourcePosition } from './errors.js';

/**
 * A fast path for the form nearly every grant file has: top-level `key: scalar` lines, comments and
 * blank lines. It accepts only text whose meaning under YAML 1.2 (core schema) is certain to be a
 * mapping of string keys to string values, and returns undefined for anything else, which then goes
 * through the full `yaml` parser. Parsing 10,000 grants this way is several times faster, and a
 * differential property test holds it to the full parser's result and positions.
 */
export interface FlatDocument {
  value: Record<string, string>;
  /** Key and value positions by key. */
  positions: Map<string, { key: SourcePosition; value: SourcePosition }>;
  /** Where the mapping starts (its first key). */
  root: SourcePosition;
}

const KEY_LINE = /^([A-Za-z_][A-Za-z0-9_]*):( +)(.*)$/;
// Plain scalars the core schema resolves to something other than a string.
const NON_STRING =
  /^(?:~|null|Null|NULL|true|True|TRUE|false|False|FALSE|[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+|[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;
// First characters that make a plain scalar something else (collections, anchors, tags, blocks...).
const INDICATOR = /^[[\]{}&*!|>%@`,?:#]|^-(?: |$)/;

export function parseFlatYaml(text: string): FlatDocument | undefined {
  if (text.includes('\r') || text.includes('\t')) return undefined;
  const lines = text.split('\n');
  const value: Record<string, string> = {};
  const positions = new Map<string, { key: SourcePosition; value: SourcePosition }>();
  let root: SourcePosition | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const trimmed = line.trimStart();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    if (line.startsWith('---') || line.startsWith('...') || line.startsWith('%')) return undefined;
    const m = KEY_LINE.exec(line);
    if (!m) return undefined;
    const key = m[1]!;
    if (NON_STRING.test(key) || Object.prototype.hasOwnProperty.call(value, key)) return undefined;
    const column = key.length + 1 + m[2]!.length + 1;
    const scalar = readScalar(m[3]!);
    if (scalar === undefined) return undefined;
    value[key] = scalar;
    const pos = { key: { line: i + 1, column: 1 }, value: { line: i + 1, column } };
    positions.set(key, pos);
    root ??= pos.key;
  }
  if (!root) return undefined;
  return { value, positions, root };
}

function readScalar(raw: string): string | undefined {
  if (raw.startsWith('"')) {
    const m = /^"([^"\\]*)"(?: +#.*| *)$/.exec(raw);
    return m && isPrintable(m[1]!) ? m[1] : undefined;
  }
  if (raw.startsWith("'")) {
    const m = /^'([^']*)'(?: +#.*| *)$/.exec(raw);
    return m && isPrintable(m[1]!) ? m[1] : undefined;
  }
  if (raw === '' || INDICATOR.test(raw)) return undefined;
  const comment = raw.indexOf(' #');
  const plain = (comment >= 0 ? raw.slice(0, comment) : raw).trimEnd();
  // `: ` inside a plain scalar would start a nested mapping (an error); a trailing `:` likewise.
  if (plain === '' || plain.includes(': ') || plain.endsWith(':') || NON_STRING.test(plain)) return undefined;
  return isPrintable(plain) ? plain : undefined;
}

/** YAML's printable set; anything else is left to the full parser to accept or refuse. */
function isPrintable(s: string): boolean {
  return !/[^\x20-\x7e\u00a0-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/u.test(s);
}
