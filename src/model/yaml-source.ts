import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit, type Node } from 'yaml';
import type { Finding, SourcePosition } from './errors.js';
import { parseFlatYaml } from './flat-yaml.js';
import { parseSimpleYaml } from './simple-yaml.js';

/** A path into a parsed document, as ajv's instancePath segments: keys and array indexes. */
export type DocPath = readonly (string | number)[];

/** A parsed YAML file that can still say where each of its values came from. */
export interface SourceDocument {
  readonly file: string;
  readonly value: unknown;
  /** Position of the key (`part: 'key'`) or value at `path`; the nearest existing ancestor if absent. */
  locate(path: DocPath, part?: 'key' | 'value'): SourcePosition;
}

export type LoadResult = { ok: true; doc: SourceDocument } | { ok: false; findings: Finding[] };

export interface LoadOptions {
  /** Files larger than this are refused before parsing. */
  maxBytes: number;
  /** Skip the fast paths (the property tests hold them to the full parser this way). */
  fullParser?: boolean;
}

const START: SourcePosition = { line: 1, column: 1 };

/**
 * Parses one YAML file defensively: size cap, strict UTF-8, one document, no duplicate keys, no aliases
 * (so no alias bombs), no custom tags. Every problem comes back as a Finding with line and column.
 */
export function loadYamlSource(file: string, bytes: Uint8Array, options: LoadOptions): LoadResult {
  const fail = (message: string, rule: string, pos: SourcePosition = START): LoadResult => ({
    ok: false,
    findings: [{ file, ...pos, message, rule, severity: 'error' }],
  });
  if (bytes.byteLength > options.maxBytes) {
    return fail(
      `file is ${bytes.byteLength} bytes, over the limit of ${options.maxBytes} bytes; refusing to parse it`,
      'file-too-large',
    );
  }
  const badByte = findInvalidUtf8(bytes);
  if (badByte >= 0) {
    return fail(
      `file is not valid UTF-8 (byte 0x${(bytes[badByte] ?? 0).toString(16).padStart(2, '0')} at offset ${badByte})`,
      'encoding',
      positionOfByte(bytes, badByte),
    );
  }
  let text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);

  const flat = options.fullParser ? undefined : parseFlatYaml(text);
  if (flat) {
    return {
      ok: true,
      doc: {
        file,
        value: flat.value,
        locate(path, part = 'value') {
          const first = path[0];
          const pos = typeof first === 'string' ? flat.positions.get(first) : undefined;
          if (!pos) return flat.root;
          return path.length === 1 && part === 'key' ? pos.key : pos.value;
        },
      },
    };
  }

  // Policies: nested mappings and one-line flows, without what needs the full parser's checks.
  const simple = options.fullParser ? undefined : parseSimpleYaml(text);
  if (simple) return { ok: true, doc: { file, ...simple } };

  const lineCounter = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter,
    prettyErrors: false,
    uniqueKeys: true,
    strict: true,
    version: '1.2',
    schema: 'core',
    keepSourceTokens: false,
  });
  const at = (offset: number | undefined): SourcePosition => {
    const lp = lineCounter.linePos(offset ?? 0);
    return { line: lp.line, column: lp.col };
  };
  const findings: Finding[] = [];
  for (const e of [...doc.errors, ...doc.warnings]) {
    findings.push({
      file,
      ...at(e.pos[0]),
      message: cleanYamlMessage(e.message),
      rule: e.code === 'DUPLICATE_KEY' ? 'duplicate-key' : 'yaml-syntax',
      severity: 'error',
    });
  }
  if (findings.length > 0) return { ok: false, findings };

  visit(doc, {
    Node(_key, node) {
      // Explicit tags (!!binary, !!timestamp, !custom) change what a value means: refuse them.
      if (!isAlias(node) && node.tag !== undefined) {
        findings.push({
          file,
          ...at(node.range?.[0]),
          message: `explicit YAML tags (${node.tag.replace('tag:yaml.org,2002:', '!!')}) are not allowed in grantops files`,
          rule: 'yaml-tag',
          severity: 'error',
        });
      }
    },
    Alias(_key, node) {
      findings.push({
        file,
        ...at(node.range?.[0]),
        message: `YAML aliases (*${node.source}) are not allowed in grantops files; write the value out`,
        rule: 'yaml-alias',
        severity: 'error',
      });
      // One finding is enough: a bomb holds thousands of aliases.
      return visit.BREAK;
    },
  });
  if (findings.length > 0) return { ok: false, findings };

  const value: unknown = doc.toJS({ maxAliasCount: 0 });
  const root = doc.contents;
  return {
    ok: true,
    doc: {
      file,
      value,
      locate(path, part = 'value') {
        return at(locateOffset(root, path, part));
      },
    },
  };
}

function locateOffset(root: Node | null, path: DocPath, part: 'key' | 'value'): number {
  let node: unknown = root;
  let offset = root?.range?.[0] ?? 0;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i];
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find(
        (p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg),
      );
      if (!pair) return offset;
      const keyNode = pair.key as Node;
      const valueNode = pair.value as Node | null;
      if (last && part === 'key') return keyNode.range?.[0] ?? offset;
      offset = valueNode?.range?.[0] ?? keyNode.range?.[0] ?? offset;
      node = valueNode;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg] as Node | undefined;
      if (!item) return offset;
      offset = item.range?.[0] ?? offset;
      node = item;
    } else {
      return offset;
    }
  }
  return offset;
}

/** yaml's messages sometimes end with a code excerpt; the position is reported separately. */
function cleanYamlMessage(message: string): string {
  return message.split('\n')[0]?.replace(/ at line \d+, column \d+:?$/, '') ?? message;
}

/** Offset of the first byte that is not part of well-formed UTF-8, or -1. */
export function findInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  const n = bytes.length;
  while (i < n) {
    const b = bytes[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let min: number;
    if (b >= 0xc2 && b <= 0xdf) {
      need = 1;
      min = 0x80;
    } else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      min = 0x800;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      min = 0x10000;
    } else return i;
    let cp = b & (0xff >> (need + 2));
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return -1;
}

function positionOfByte(bytes: Uint8Array, offset: number): SourcePosition {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset; i++) {
    if (bytes[i] === 0x0a) {
      line++;
      lineStart = i + 1;
    }
  }
  // Column counts characters, not bytes: count lead bytes since the line start.
  let column = 1;
  for (let i = lineStart; i < offset; i++) if (((bytes[i] ?? 0) & 0xc0) !== 0x80) column++;
  return { line, column };
}
