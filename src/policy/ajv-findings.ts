import type { ErrorObject } from 'ajv';
import type { Finding } from '../model/errors.js';
import { parseTimestamp } from '../model/time.js';
import type { DocPath, SourceDocument } from '../model/yaml-source.js';

/**
 * Turns ajv's errors into findings a person can act on: the message names the key, the position is
 * the offending key or value, and the noise of combinators (`if`, `allOf`) is dropped.
 */
export function ajvErrorsToFindings(
  doc: SourceDocument,
  errors: readonly ErrorObject[],
  options: { prefix?: string; rule?: string } = {},
): Finding[] {
  const findings: Finding[] = [];
  const seen = new Set<string>();
  for (const e of errors) {
    if (e.keyword === 'if' || e.keyword === 'allOf' || e.keyword === 'anyOf' || e.keyword === 'oneOf')
      continue;
    const path = pointerToPath(e.instancePath);
    let at: DocPath = path;
    let part: 'key' | 'value' = 'value';
    let message: string;
    const parent = (e.parentSchema ?? {}) as Record<string, unknown>;
    const label = path.length > 0 ? `"${path.join('.')}"` : 'the document';
    switch (e.keyword) {
      case 'additionalProperties':
      case 'unevaluatedProperties': {
        const key = String(
          (e.params as { additionalProperty?: string; unevaluatedProperty?: string }).additionalProperty ??
            (e.params as { unevaluatedProperty?: string }).unevaluatedProperty,
        );
        at = [...path, key];
        part = 'key';
        const known = Object.keys((parent.properties as Record<string, unknown> | undefined) ?? {});
        const hint = suggest(key, known);
        message = `unknown key "${key}"${path.length ? ` in ${path.join('.')}` : ''}${hint ? `; did you mean "${hint}"?` : ''}`;
        break;
      }
      case 'required': {
        const missing = (e.params as { missingProperty: string }).missingProperty;
        message = `missing required key "${[...path, missing].join('.')}"`;
        break;
      }
      case 'propertyNames':
        continue; // the nested error carries the name and a better message
      case 'enum':
        message = `${label} must be one of: ${((e.params as { allowedValues: unknown[] }).allowedValues ?? []).map(String).join(', ')}`;
        break;
      case 'type':
        message = `${label} must be ${article((e.params as { type: string }).type)}`;
        break;
      default: {
        const propertyName = (e as ErrorObject & { propertyName?: string }).propertyName;
        if (propertyName !== undefined) {
          at = [...path, propertyName];
          part = 'key';
          const why = typeof parent['x-message'] === 'string' ? parent['x-message'] : e.message;
          message = `key "${propertyName}"${path.length ? ` in ${path.join('.')}` : ''}: ${why}`;
          break;
        }
        if (parent['x-parse'] === 'timestamp' && typeof e.data === 'string') {
          const r = parseTimestamp(e.data);
          message = `${label}: ${r.ok ? 'is not an RFC 3339 date-time with an offset' : r.reason}`;
          break;
        }
        const custom = parent['x-message'];
        message = `${label} ${typeof custom === 'string' ? custom : (e.message ?? 'is invalid')}`;
      }
    }
    const pos = doc.locate(at, part);
    const text = options.prefix ? `${options.prefix}${message}` : message;
    const dedupe = `${pos.line}:${pos.column}:${text}`;
    if (seen.has(dedupe)) continue;
    seen.add(dedupe);
    findings.push({
      file: doc.file,
      ...pos,
      message: text,
      rule: options.rule ?? ruleOf(e.keyword),
      severity: 'error',
    });
  }
  return findings;
}

function ruleOf(keyword: string): string {
  if (keyword === 'additionalProperties' || keyword === 'unevaluatedProperties') return 'unknown-key';
  if (keyword === 'required') return 'missing-key';
  return 'schema';
}

/** Decodes a JSON pointer (`/roles/readonly/approvals`) into path segments. */
export function pointerToPath(pointer: string): (string | number)[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^(0|[1-9][0-9]*)$/.test(s) ? Number(s) : s));
}

function article(type: string): string {
  const t = type.split(',')[0] ?? type;
  return t === 'object' ? 'a mapping' : t === 'array' ? 'a list' : /^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`;
}

/** The closest known key within edit distance 2, for typos such as `expiresat` or `expires_at`. */
export function suggest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  const norm = (s: string) => s.toLowerCase().replace(/[_-]/g, '');
  for (const c of candidates) {
    const d = norm(word) === norm(c) ? 0 : editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(
        (prev[j] ?? 0) + 1,
        (cur[j - 1] ?? 0) + 1,
        (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    prev = cur;
  }
  return prev[b.length] ?? 3;
}
