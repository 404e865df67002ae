import fc from 'fast-check';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { TRICKY_SCALARS } from '../support/yaml-scalars.js';
import { parseSimpleYaml } from '../../src/model/simple-yaml.js';
import { loadYamlSource, type SourceDocument } from '../../src/model/yaml-source.js';

/**
 * The policy fast path must agree with the full YAML 1.2 parser (and grantops' defensive loading of
 * it) on every document it accepts: the value, and the position of every key and value, including
 * the nearest ancestor for paths that are absent.
 */
const key = fc.oneof(
  {
    weight: 12,
    arbitrary: fc.constantFrom('target', 'name', 'roles', 'maxDuration', 'approvers', 'a', 'b_c', 'x-y'),
  },
  { weight: 1, arbitrary: fc.constantFrom('true', 'null', '1', '__proto__', 'two words', 'k:', '"q"') },
);
const scalar = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('alice', '8h', 'x', 'pg_read_all_data', '^INC-[0-9]+$', 'a b') },
  { weight: 2, arbitrary: fc.string({ maxLength: 12 }) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(...TRICKY_SCALARS),
  },
);
const quoted = fc.oneof(
  scalar.map((s) => `"${s}"`),
  scalar.map((s) => `'${s}'`),
  fc.constantFrom('"a\\"b"', "'it''s'", '"tab\\t"', "'open", '"open'),
);
const space = fc.constantFrom(' ', '  ', '', ' ');

const { flowValue } = fc.letrec<{ flowValue: string; flowMap: string; flowSeq: string }>((tie) => ({
  flowValue: fc.oneof(
    { weight: 4, arbitrary: scalar },
    { weight: 2, arbitrary: quoted },
    { weight: 1, arbitrary: tie('flowMap') },
    { weight: 1, arbitrary: tie('flowSeq') },
  ),
  flowMap: fc
    .tuple(fc.array(fc.tuple(key, space, tie('flowValue')), { maxLength: 4 }), space, space, fc.boolean())
    .map(
      ([entries, a, b, trailing]) =>
        `{${a}${entries.map(([k, s, v]) => `${k}:${s === '' ? '' : ' '}${v}`).join(`,${a}`)}${trailing ? ',' : ''}${b}}`,
    ),
  flowSeq: fc
    .tuple(fc.array(tie('flowValue'), { maxLength: 4 }), space, fc.boolean())
    .map(([items, a, trailing]) => `[${a}${items.join(`,${a}`)}${trailing ? ',' : ''}]`),
}));

const comment = fc.constantFrom('', '', ' # note', '  #x', '#x');
const noise = fc.constantFrom('', '# comment', '   # indented', '---', '\tx: 1', 'stray', '');

function block(depth: number): fc.Arbitrary<string[]> {
  const inline = fc.tuple(key, flowValue, comment).map(([k, v, c]) => [`${k}: ${v}${c}`]);
  const sequence = fc
    .tuple(key, fc.constantFrom(0, 2), fc.array(fc.tuple(flowValue, comment), { minLength: 1, maxLength: 3 }))
    .map(([k, step, items]) => [`${k}:`, ...items.map(([v, c]) => `${' '.repeat(step)}- ${v}${c}`)]);
  const choices = [
    { weight: 10, arbitrary: inline },
    { weight: 2, arbitrary: sequence },
    { weight: 1, arbitrary: noise.map((n) => [n]) },
  ];
  if (depth < 3) {
    const nested = fc
      .tuple(key, comment, fc.constantFrom(1, 2, 4), block(depth + 1))
      .map(([k, c, step, lines]) => [
        `${k}:${c}`,
        ...lines.map((l) => (l === '' ? l : ' '.repeat(step) + l)),
      ]);
    choices.push({ weight: 8, arbitrary: nested });
  }
  return fc.array(fc.oneof(...choices), { minLength: 1, maxLength: 4 }).map((es) => es.flat());
}
const doc = fc
  .tuple(fc.constantFrom('', '# yaml-language-server: x\n'), block(0))
  .map(([head, lines]) => `${head}${lines.join('\n')}\n`);

/** Every path in a value, and one absent key below each mapping and past each sequence. */
function paths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = [prefix];
  if (Array.isArray(value)) {
    value.forEach((v, i) => out.push(...paths(v, [...prefix, i])));
    out.push([...prefix, value.length], [...prefix, 'x']);
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) out.push(...paths(v, [...prefix, k]));
    out.push([...prefix, 'absent'], [...prefix, 0]);
  } else {
    out.push([...prefix, 'below']);
  }
  return out;
}

function full(text: string): SourceDocument | undefined {
  const r = loadYamlSource('p.yaml', Buffer.from(text), { maxBytes: 1 << 20, fullParser: true });
  return r.ok ? r.doc : undefined;
}

describe('parseSimpleYaml', () => {
  it('agrees with the full parser on value and every position whenever it accepts a document', () => {
    let accepted = 0;
    let nested = 0;
    fc.assert(
      fc.property(doc, (text) => {
        const fast = parseSimpleYaml(text);
        if (!fast) return;
        accepted++;
        if (/^ +\S/m.test(text)) nested++;
        const reference = full(text);
        expect(reference, text).toBeDefined();
        expect(fast.value).toEqual(parse(text, { version: '1.2', schema: 'core', uniqueKeys: true }));
        expect(fast.value).toEqual(reference!.value);
        for (const path of paths(fast.value)) {
          expect(fast.locate(path, 'value'), `${text}\nvalue at ${path.join('.')}`).toEqual(
            reference!.locate(path, 'value'),
          );
          expect(fast.locate(path, 'key'), `${text}\nkey at ${path.join('.')}`).toEqual(
            reference!.locate(path, 'key'),
          );
        }
      }),
      { numRuns: 5000 },
    );
    // The generator must exercise the fast path, nested blocks included, not only the fallbacks.
    expect(accepted).toBeGreaterThan(300);
    expect(nested).toBeGreaterThan(60);
  });

  it('takes the policies grantops ships and generates', () => {
    const policy = [
      '# yaml-language-server: $schema=../schemas/policy.schema.json',
      'target:',
      '  name: prod-db',
      '  type: postgres # postgres | github-team | github-repo | exec',
      '  urlEnv: PROD_DB_URL',
      'roles:',
      "  readonly: { maxDuration: 8h, approvals: 1, approvers: ['@acme/dba', bob], dbRoles: [pg_read_all_data] }",
      '  readwrite: { maxDuration: 2h, approvals: 2, approvers: ["@acme/dba"], dbRoles: [pg_write_all_data] }',
      'grantSchema:',
      '  required: [ticket]',
      "  properties: { ticket: { pattern: '^INC-[0-9]+$' } }",
      'alerts:',
      '  before: [24h, 1h]',
      'enforce: false',
      '',
    ].join('\n');
    const fast = parseSimpleYaml(policy);
    expect(fast?.value).toEqual(parse(policy));
    expect(fast?.locate(['roles', 'readwrite', 'approvers', 0])).toEqual({ line: 8, column: 59 });
    expect(fast?.locate(['grantSchema', 'properties', 'ticket', 'pattern'], 'key')).toEqual({
      line: 11,
      column: 27,
    });
    const reference = full(policy)!;
    for (const path of paths(fast?.value)) {
      expect(fast?.locate(path, 'value')).toEqual(reference.locate(path, 'value'));
      expect(fast?.locate(path, 'key')).toEqual(reference.locate(path, 'key'));
    }
  });

  it('leaves to the full parser what it cannot be sure of', () => {
    for (const text of [
      'a: &x 1\nb: *x\n',
      'a: !!binary aGk=\n',
      'a: |\n  text\n',
      'a: "esc\\u0041"\n',
      'a: b\na: c\n',
      'a:\nb: 1\n',
      'a: [1,\n  2]\n',
      'a: plain\n  continued\n',
      'a: 1.5\n',
      'a: null\n',
      '--- \na: 1\n',
      'a: { b }\n',
      '__proto__: { polluted: true }\n',
      'a:\n- x\n',
    ]) {
      expect(parseSimpleYaml(text), text).toBeUndefined();
    }
  });
});
