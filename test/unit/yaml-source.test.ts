import { describe, expect, it } from 'vitest';
import { findInvalidUtf8, loadYamlSource } from '../../src/model/yaml-source.js';

const load = (text: string | Uint8Array, maxBytes = 65_536) =>
  loadYamlSource('f.yaml', typeof text === 'string' ? new TextEncoder().encode(text) : text, { maxBytes });

describe('loadYamlSource', () => {
  it('locates keys and values, 1-based', () => {
    const r = load('user: alice\nroles:\n  ro:\n    approvals: 1\n');
    if (!r.ok) throw new Error('expected ok');
    expect(r.doc.locate(['user'], 'key')).toEqual({ line: 1, column: 1 });
    expect(r.doc.locate(['user'])).toEqual({ line: 1, column: 7 });
    expect(r.doc.locate(['roles', 'ro', 'approvals'])).toEqual({ line: 4, column: 16 });
    // A missing key points at the nearest ancestor that exists.
    expect(r.doc.locate(['roles', 'ro', 'nope'])).toEqual({ line: 4, column: 5 });
  });

  it('keeps dates as strings (YAML 1.2 core schema)', () => {
    const r = load('expiresAt: 2026-11-28T18:00:00Z\n');
    expect(r.ok && r.doc.value).toEqual({ expiresAt: '2026-11-28T18:00:00Z' });
  });

  it('refuses duplicate keys at the second key', () => {
    const r = load('user: a\nuser: b\n');
    expect(r).toEqual({
      ok: false,
      findings: [expect.objectContaining({ line: 2, column: 1, rule: 'duplicate-key' })],
    });
  });

  it('refuses aliases before expanding them', () => {
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 10; i++)
      bomb.push(
        `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9)
          .fill(`*${String.fromCharCode(96 + i)}`)
          .join(',')}]`,
      );
    const r = load(`${bomb.join('\n')}\n`);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.findings[0]).toMatchObject({ line: 2, column: 8, rule: 'yaml-alias' });
    }
  });

  it('refuses more than one document', () => {
    const r = load('a: 1\n---\nb: 2\n');
    expect(r.ok).toBe(false);
  });

  it('reports non-UTF-8 bytes with their line and column', () => {
    const bytes = new Uint8Array([...new TextEncoder().encode('user: al\nreason: é'), 0xff, 0x0a]);
    const r = load(bytes);
    expect(r).toEqual({
      ok: false,
      findings: [expect.objectContaining({ line: 2, column: 10, rule: 'encoding' })],
    });
  });

  it('refuses oversized input without parsing it', () => {
    const r = load('a: 1\n'.repeat(100), 64);
    expect(r).toEqual({
      ok: false,
      findings: [expect.objectContaining({ line: 1, column: 1, rule: 'file-too-large' })],
    });
  });

  it('refuses unknown tags', () => {
    expect(load('user: !!binary aGk=\n').ok).toBe(false);
    expect(load('user: !custom x\n').ok).toBe(false);
  });
});

describe('findInvalidUtf8', () => {
  it.each([
    [[0x61, 0x62], -1],
    [[0xc3, 0xa9], -1],
    [[0xf0, 0x9f, 0x98, 0x80], -1],
    [[0x61, 0xc3], 1],
    [[0xc0, 0x80], 0], // overlong
    [[0xed, 0xa0, 0x80], 0], // surrogate
    [[0x61, 0x80], 1],
  ])('%j -> %d', (bytes, offset) => {
    expect(findInvalidUtf8(new Uint8Array(bytes))).toBe(offset);
  });
});
