import type { SourcePosition } from './errors.js';

/**
 * A fast path for the YAML that policy files are written in: block mappings nested by indentation,
 * block sequences of scalars, one-line flow mappings and sequences (`{ maxDuration: 8h, approvers:
 * [bob, "@acme/leads"] }`), plain and quoted scalars, comments. It accepts only text whose meaning
 * under YAML 1.2 (core schema) it is certain of and returns undefined for anything else, which then
 * goes through the full `yaml` parser: anchors, aliases, tags, block scalars, multi-line scalars or
 * flows, escapes, duplicate keys, numbers other than plain decimal integers, nulls, documents markers.
 * The full parser costs ~3 ms a policy on a cold process (`validate --base` reads 20 of them before
 * judging one grant); a differential property test holds this one to its values and positions.
 */
export interface SimpleDocument {
  value: unknown;
  /** Position of the key (`part: 'key'`) or value at `path`; the nearest existing ancestor if absent. */
  locate(path: readonly (string | number)[], part?: 'key' | 'value'): SourcePosition;
}

type SimpleNode =
  | { kind: 'map'; pos: SourcePosition; entries: Map<string, { key: SourcePosition; value: SimpleNode }> }
  | { kind: 'seq'; pos: SourcePosition; items: SimpleNode[] }
  | { kind: 'scalar'; pos: SourcePosition; value: string | number | boolean };

/** Thrown inside the parser when the text leaves the subset: the caller falls back. */
class NotSimple extends Error {}
const bail = (): never => {
  throw new NotSimple();
};

const KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;
// Plain scalars the core schema resolves to something other than a string. Only two of them are
// taken here (decimal integers, lower-case booleans); the others make the document fall back.
const NON_STRING =
  /^(?:~|null|Null|NULL|true|True|TRUE|false|False|FALSE|[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+|[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;
const INDICATOR = /^[[\]{}&*!|>%@`,?:#'"]|^-(?: |$)/;
const PRINTABLE = /^[\n\x20-\x7e\u00a0-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]*$/u;
// Characters JavaScript's trim() takes for white space and YAML does not: with none of them in the
// text, trim() and YAML agree on what a blank and an indent are.
const OTHER_SPACE = /[\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]/;
const MAX_DEPTH = 32;

export function parseSimpleYaml(text: string): SimpleDocument | undefined {
  if (!PRINTABLE.test(text) || OTHER_SPACE.test(text)) return undefined;
  try {
    const root = new BlockParser(text.split('\n')).document();
    return { value: toJS(root), locate: (path, part = 'value') => locate(root, path, part) };
  } catch (err) {
    if (err instanceof NotSimple) return undefined;
    throw err;
  }
}

function resolvePlain(text: string): string | number | boolean {
  if (!NON_STRING.test(text)) return text;
  if (text === 'true' || text === 'false') return text === 'true';
  if (/^(?:0|[1-9][0-9]{0,14})$/.test(text)) return Number(text);
  return bail();
}

class BlockParser {
  private i = 0;
  constructor(private readonly lines: string[]) {}

  document(): SimpleNode {
    this.skip();
    if (this.i >= this.lines.length || indentOf(this.lines[this.i]!) !== 0) bail();
    const root = this.map(0, 0);
    this.skip();
    if (this.i < this.lines.length) bail(); // text left at a smaller indent: not a mapping
    return root;
  }

  /** Moves past blank and comment-only lines; refuses document markers and directives. */
  private skip(): void {
    for (; this.i < this.lines.length; this.i++) {
      const line = this.lines[this.i]!;
      if (line.startsWith('---') || line.startsWith('...') || line.startsWith('%')) bail();
      const trimmed = line.trimStart();
      if (trimmed !== '' && !trimmed.startsWith('#')) return;
    }
  }

  private map(indent: number, depth: number): SimpleNode {
    if (depth > MAX_DEPTH) bail();
    const entries = new Map<string, { key: SourcePosition; value: SimpleNode }>();
    let pos: SourcePosition | undefined;
    for (this.skip(); this.i < this.lines.length; this.skip()) {
      const line = this.lines[this.i]!;
      const at = indentOf(line);
      if (at < indent) break;
      if (at > indent) bail();
      const colon = line.indexOf(':', at);
      const key = colon < 0 ? '' : line.slice(at, colon);
      if (!KEY.test(key) || NON_STRING.test(key) || key === '__proto__' || entries.has(key)) bail();
      const keyPos = { line: this.i + 1, column: at + 1 };
      pos ??= keyPos;
      const rest = line.slice(colon + 1);
      let value: SimpleNode;
      if (rest === '' || /^ +(?:#.*)?$/.test(rest)) {
        // A nested block, more indented; an empty value (null) is left to the full parser.
        this.i++;
        this.skip();
        const next = this.lines[this.i];
        if (next === undefined || indentOf(next) <= indent) bail();
        const inner = indentOf(next!);
        value = /^- /.test(next!.slice(inner)) ? this.seq(inner, depth + 1) : this.map(inner, depth + 1);
      } else {
        if (!rest.startsWith(' ')) bail();
        value = this.inline(line, colon + 1 + (rest.length - rest.trimStart().length), depth);
        this.i++;
        this.refuseContinuation(indent);
      }
      entries.set(key, { key: keyPos, value });
    }
    return { kind: 'map', pos: pos ?? bail(), entries };
  }

  private seq(indent: number, depth: number): SimpleNode {
    const items: SimpleNode[] = [];
    let pos: SourcePosition | undefined;
    for (this.skip(); this.i < this.lines.length; this.skip()) {
      const line = this.lines[this.i]!;
      const at = indentOf(line);
      if (at < indent) break;
      if (at > indent || !line.startsWith('- ', at)) bail();
      pos ??= { line: this.i + 1, column: at + 1 };
      let start = at + 2;
      while (line[start] === ' ') start++;
      items.push(this.inline(line, start, depth));
      this.i++;
      this.refuseContinuation(indent);
    }
    return { kind: 'seq', pos: pos ?? bail(), items };
  }

  /** After a one-line value, a more indented line would continue it (or be an error): fall back. */
  private refuseContinuation(indent: number): void {
    for (let j = this.i; j < this.lines.length; j++) {
      const line = this.lines[j]!;
      if (line.trim() === '') continue;
      if (indentOf(line) > indent) bail();
      return;
    }
  }

  /** A value that starts at `start` of `line` and must end on it (bar a comment). */
  private inline(line: string, start: number, depth: number): SimpleNode {
    const first = line[start];
    if (first === '{' || first === '[' || first === '"' || first === "'") {
      const flow = new FlowParser(line, this.i + 1, start);
      const node = flow.value(depth + 1);
      flow.end();
      return node;
    }
    const raw = line.slice(start);
    if (raw === '' || INDICATOR.test(raw)) bail();
    const comment = raw.indexOf(' #');
    const plain = (comment >= 0 ? raw.slice(0, comment) : raw).trimEnd();
    // `: ` inside a plain scalar would start a nested mapping (an error); a trailing `:` likewise.
    if (plain === '' || plain.includes(': ') || plain.endsWith(':')) bail();
    return { kind: 'scalar', pos: { line: this.i + 1, column: start + 1 }, value: resolvePlain(plain) };
  }
}

/** One-line flow collections and quoted scalars. */
class FlowParser {
  constructor(
    private readonly text: string,
    private readonly line: number,
    private i: number,
  ) {}

  /** Only spaces and a comment may follow the value. */
  end(): void {
    const rest = this.text.slice(this.i);
    if (rest !== '' && !/^ +(?:#.*)?$/.test(rest)) bail();
  }

  value(depth: number): SimpleNode {
    if (depth > MAX_DEPTH) bail();
    const pos = { line: this.line, column: this.i + 1 };
    const c = this.text[this.i];
    if (c === '{') return this.map(pos, depth);
    if (c === '[') return this.seq(pos, depth);
    if (c === '"' || c === "'") return { kind: 'scalar', pos, value: this.quoted(c) };
    return { kind: 'scalar', pos, value: resolvePlain(this.plain()) };
  }

  private map(pos: SourcePosition, depth: number): SimpleNode {
    const entries = new Map<string, { key: SourcePosition; value: SimpleNode }>();
    this.i++;
    this.spaces();
    if (this.text[this.i] === '}') {
      this.i++;
      return { kind: 'map', pos, entries };
    }
    for (;;) {
      const keyPos = { line: this.line, column: this.i + 1 };
      const key = /^[A-Za-z_][A-Za-z0-9_-]*/.exec(this.text.slice(this.i))?.[0] ?? '';
      if (key === '' || NON_STRING.test(key) || key === '__proto__' || entries.has(key)) bail();
      this.i += key.length;
      if (!this.text.startsWith(': ', this.i)) bail();
      this.i += 2;
      this.spaces();
      entries.set(key, { key: keyPos, value: this.value(depth + 1) });
      if (this.separator('}')) return { kind: 'map', pos, entries };
    }
  }

  private seq(pos: SourcePosition, depth: number): SimpleNode {
    const items: SimpleNode[] = [];
    this.i++;
    this.spaces();
    if (this.text[this.i] === ']') {
      this.i++;
      return { kind: 'seq', pos, items };
    }
    for (;;) {
      items.push(this.value(depth + 1));
      if (this.separator(']')) return { kind: 'seq', pos, items };
    }
  }

  /** After an entry: `,` and another entry (true: closed), or the closing bracket. */
  private separator(close: string): boolean {
    this.spaces();
    const c = this.text[this.i];
    this.i++;
    if (c === close) return true;
    if (c !== ',') bail();
    this.spaces();
    if (this.text[this.i] === close || this.text[this.i] === ',') bail(); // trailing or empty entry
    return false;
  }

  private spaces(): void {
    while (this.text[this.i] === ' ') this.i++;
  }

  private quoted(quote: string): string {
    let out = '';
    for (let j = this.i + 1; j < this.text.length; j++) {
      const c = this.text[j]!;
      if (quote === '"' && c === '\\') bail(); // escapes: the full parser's job
      if (c !== quote) {
        out += c;
        continue;
      }
      if (quote === "'" && this.text[j + 1] === "'") {
        out += "'";
        j++;
        continue;
      }
      this.i = j + 1;
      return out;
    }
    return bail(); // not closed on this line
  }

  private plain(): string {
    const start = this.i;
    if (INDICATOR.test(this.text.slice(start))) bail();
    for (; this.i < this.text.length; this.i++) {
      const c = this.text[this.i]!;
      if (c === ',' || c === '[' || c === ']' || c === '{' || c === '}') break;
      if (c === ':' && /^[ ,[\]{}]?$/.test(this.text[this.i + 1] ?? '')) bail(); // a key: not here
      if (c === '#' && this.text[this.i - 1] === ' ') bail(); // a comment inside a flow
    }
    const text = this.text.slice(start, this.i).trimEnd();
    if (text === '') bail();
    return text;
  }
}

function indentOf(line: string): number {
  let n = 0;
  while (line.charCodeAt(n) === 32) n++;
  return n;
}

function toJS(node: SimpleNode): unknown {
  if (node.kind === 'scalar') return node.value;
  if (node.kind === 'seq') return node.items.map(toJS);
  const out: Record<string, unknown> = {};
  for (const [key, { value }] of node.entries) out[key] = toJS(value);
  return out;
}

function locate(root: SimpleNode, path: readonly (string | number)[], part: 'key' | 'value'): SourcePosition {
  let node: SimpleNode = root;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i]!;
    if (node.kind === 'map') {
      const entry = node.entries.get(String(seg));
      if (!entry) return node.pos;
      if (i === path.length - 1 && part === 'key') return entry.key;
      node = entry.value;
    } else if (node.kind === 'seq' && typeof seg === 'number') {
      const item = node.items[seg];
      if (!item) return node.pos;
      node = item;
    } else {
      return node.pos;
    }
  }
  return node.pos;
}
