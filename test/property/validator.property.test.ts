import fc from 'fast-check';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { SchemaRegistry } from '../../src/policy/schema-registry.js';
import { validateAccessRepo } from '../../src/usecases/validate-repo.js';
import { POLICIES } from '../support/builders.js';
import { memoryTree } from '../support/memory-tree.js';

const registry = new SchemaRegistry();
const now = new Date('2026-11-28T12:00:00Z');

async function validateText(text: string | Uint8Array, where = 'grants/x.yaml') {
  return validateAccessRepo({ now }, { work: memoryTree({ ...POLICIES, [where]: text }), registry });
}

function expectWellFormed(
  findings: { file: string; line: number; column: number; message: string }[],
  text: string,
) {
  const lines = text.split('\n').length + 1;
  for (const f of findings) {
    expect(f.line).toBeGreaterThanOrEqual(1);
    expect(f.line).toBeLessThanOrEqual(lines);
    expect(f.column).toBeGreaterThanOrEqual(1);
    expect(f.message.length).toBeGreaterThan(0);
  }
}

const grantLike = fc.record(
  {
    user: fc.oneof(fc.constantFrom('alice', 'bob', 'a-b'), fc.string()),
    target: fc.oneof(fc.constantFrom('prod-db', 'vpn', 'payments-repo'), fc.string()),
    role: fc.oneof(fc.constantFrom('readonly', 'ops', 'push'), fc.string()),
    reason: fc.string(),
    ticket: fc.oneof(fc.constantFrom('INC-1'), fc.string()),
    startsAt: fc.oneof(
      fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
      fc.string(),
    ),
    expiresAt: fc.oneof(
      fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
      fc.string(),
      fc.integer(),
    ),
    extra: fc.anything(),
  },
  { requiredKeys: [] },
);

describe('the validator never throws', () => {
  it('on arbitrary text', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'binary', maxLength: 400 }), async (text) => {
        const r = await validateText(text);
        expectWellFormed(r.findings, text);
        expect(r.grantsChecked).toBe(1);
      }),
      { numRuns: 300 },
    );
  });

  it('on arbitrary bytes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), async (bytes) => {
        const r = await validateText(bytes);
        expect(r.ok || r.findings.length > 0).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('on arbitrary YAML values, accepting only what passes every rule', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(grantLike, fc.anything()), async (value) => {
        const text = (stringify(value) as string | undefined) ?? '';
        const r = await validateText(text);
        expectWellFormed(r.findings, text);
        // Whatever is accepted really is a complete grant for a known target and role.
        for (const g of r.grants) {
          expect(['prod-db', 'vpn', 'payments-repo', 'platform-team']).toContain(g.target);
          // An expired grant is valid on a plain validate, but never silently: it carries a warning.
          if (g.expiresAt.getTime() <= now.getTime()) {
            expect(
              r.findings.some((f) => f.file === g.file && f.rule === 'expired' && f.severity === 'warning'),
            ).toBe(true);
          }
          expect(g.reason.trim().length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('on arbitrary policy documents', async () => {
    await fc.assert(
      fc.asyncProperty(fc.anything(), async (value) => {
        const text = stringify({ target: { name: 'x', type: 'exec', command: ['./x'] }, roles: value });
        const r = await validateText(text, 'policies/x.yaml');
        expectWellFormed(r.findings, text);
      }),
      { numRuns: 200 },
    );
  });
});
