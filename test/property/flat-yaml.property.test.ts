import fc from 'fast-check';
import { isMap, isPair, isScalar, LineCounter, parse, parseDocument, type Node } from 'yaml';
import { describe, expect, it } from 'vitest';
import { TRICKY_SCALARS } from '../support/yaml-scalars.js';
import { parseFlatYaml } from '../../src/model/flat-yaml.js';

/** The fast path must agree with the full YAML 1.2 parser on every document it accepts. */
const key = fc.constantFrom(
  'user',
  'target',
  'role',
  'reason',
  'ticket',
  'expiresAt',
  'x_y',
  'true',
  'null',
  'a',
);
const scalarText = fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom(...TRICKY_SCALARS));
const value = fc.oneof(
  scalarText,
  scalarText.map((s) => `"${s}"`),
  scalarText.map((s) => `'${s}'`),
);
const line = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .tuple(key, fc.constantFrom(' ', '  '), value, fc.constantFrom('', ' # note', '  #x', '#x'))
      .map(([k, sp, v, c]) => `${k}:${sp}${v}${c}`),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '',
      '# comment',
      '  # indented comment',
      '---',
      '  nested: x',
      'key:',
      '- item',
    ),
  },
);
const doc = fc.array(line, { minLength: 0, maxLength: 8 }).map((ls) => `${ls.join('\n')}\n`);

function fullPositions(text: string) {
  const lc = new LineCounter();
  const d = parseDocument(text, { lineCounter: lc });
  const out = new Map<
    string,
    { key: { line: number; column: number }; value: { line: number; column: number } }
  >();
  const pos = (n: Node) => {
    const p = lc.linePos(n.range?.[0] ?? 0);
    return { line: p.line, column: p.col };
  };
  if (isMap(d.contents)) {
    for (const pair of d.contents.items) {
      if (isPair(pair) && isScalar(pair.key) && pair.value) {
        out.set(String(pair.key.value), { key: pos(pair.key as Node), value: pos(pair.value) });
      }
    }
  }
  return { errors: d.errors.length, out };
}

describe('parseFlatYaml', () => {
  it('agrees with the yaml package on value and positions whenever it accepts a document', () => {
    let accepted = 0;
    fc.assert(
      fc.property(doc, (text) => {
        const flat = parseFlatYaml(text);
        if (!flat) return;
        accepted++;
        const full = fullPositions(text);
        expect(full.errors).toBe(0);
        expect(flat.value).toEqual(parse(text));
        for (const [k, p] of flat.positions) expect(p).toEqual(full.out.get(k));
      }),
      { numRuns: 3000 },
    );
    // The generator must exercise the fast path, not only the fallbacks.
    expect(accepted).toBeGreaterThan(100);
  });

  it('declines what it does not fully understand', () => {
    for (const text of [
      'a: [1]\n',
      'a: 12\n',
      'a: true\n',
      'a:\n  b: c\n',
      'a: &x y\n',
      'a: "esc\\n"\n',
      'a: b\na: c\n',
      'a: |\n  x\n',
      '- a\n',
      'a: b\r\n',
    ]) {
      expect(parseFlatYaml(text), text).toBeUndefined();
    }
  });
});
