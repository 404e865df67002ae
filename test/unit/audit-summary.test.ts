import { describe, expect, it } from 'vitest';
import { boundedMarkdown, formatAudit } from '../../src/audit/format.js';
import { auditEvents } from '../../src/audit/lifecycle-events.js';
import { HistoryFolder } from '../../src/audit/lifecycle-fold.js';
import type { GrantVersion } from '../../src/audit/lifecycle-model.js';

/** A history of `n` grants, one commit each, folded as the audit folds git's stream. */
function history(n: number) {
  const filled: GrantVersion[] = [];
  const folder = new HistoryFolder(new Map(), new Map(), {
    grantBlob: (_blob, version) => filled.push(version),
    policyBlob: () => undefined,
    mergeAuthor: () => undefined,
  });
  for (let i = n - 1; i >= 0; i--) {
    folder.add({
      sha: `${i}`.padStart(40, '0'),
      mergeParent: undefined,
      time: Date.UTC(2026, 0, 1) + i * 60_000,
      author: 'Dev <dev@example.test>',
      subject: `grant g${i} (#${i + 1})`,
      revoked: [],
      changes: [
        { status: 'A', path: `grants/vpn/g${i}.yaml`, from: undefined, oldBlob: undefined, blob: `b${i}` },
      ],
    });
  }
  for (const v of filled) {
    folder.fill(v, {
      user: `user${v.id.slice(5)}`,
      target: 'vpn',
      role: 'ops',
      reason: 'on call for the incident',
      ticket: undefined,
      startsAt: undefined,
      expiresAt: v.landed.time + 3_600_000,
    });
  }
  return { events: auditEvents(folder.finish()) };
}

describe('the audit in a job summary', () => {
  it('is whole when it fits', () => {
    const out = history(20);
    expect(boundedMarkdown(out, 1_000_000, '/tmp/a.json')).toBe(formatAudit(out, 'markdown'));
  });

  it('keeps the newest events and says where the rest is when it does not', () => {
    const out = history(500);
    const whole = Buffer.byteLength(formatAudit(out, 'markdown'));
    const limit = 60_000;
    expect(whole).toBeGreaterThan(limit);
    const text = boundedMarkdown(out, limit, '/runner/tmp/grantops-audit.json');
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(limit);
    expect(text).toMatch(
      /^> The audit log has 500 events, more than a job summary holds: the newest 200 events/,
    );
    expect(text).toContain('`/runner/tmp/grantops-audit.json`');
    expect(text).toContain('| vpn/g499 |');
    expect(text).toContain('| vpn/g300 |');
    expect(text).not.toContain('| vpn/g299 |');
  });

  it('falls back to a pointer to the file when not even the findings fit', () => {
    const text = boundedMarkdown(history(50), 100, '/x.json');
    expect(text).toBe(
      '> The audit log is too large for a job summary: it is in `/x.json` (the `audit-file` output).\n',
    );
  });
});
