import { describe, expect, it } from 'vitest';
import { buildReport, type ReportModel } from '../../src/report/model.js';
import { calendarFileName, escapeIcsText, foldIcsLine, renderCalendar } from '../../src/render/report-ics.js';
import { PAGE_CSP, renderReportHtml, reportPageData, scriptJson } from '../../src/render/report-html.js';
import { mermaidName, reportSummaryMarkdown } from '../../src/render/report-summary.js';
import type { GrantLifecycle } from '../../src/audit/lifecycle-model.js';

const NOW = new Date('2026-11-28T12:00:00Z');
const HOSTILE =
  'x</script><script>alert(1)</script>"; DROP TABLE grants;--\u0007\u202e|[a](javascript:x) @org/team #12';

function lifecycle(
  id: string,
  fields: { user?: string; reason?: string; pr?: number; expiresAt?: string } = {},
): GrantLifecycle {
  const version = {
    id,
    file: `grants/${id}.yaml`,
    user: fields.user ?? 'alice',
    target: 'prod-db',
    role: 'readonly',
    reason: fields.reason ?? 'INC-1',
    ticket: undefined,
    startsAt: undefined,
    expiresAt: Date.parse(fields.expiresAt ?? '2026-11-28T18:00:00Z'),
    landed: {
      seq: 1,
      commit: 'c'.repeat(40),
      time: Date.parse('2026-11-28T08:00:00Z'),
      author: 'a',
      pr: fields.pr,
    },
    policies: new Map(),
    approval: undefined,
    renamedFrom: undefined,
  };
  return { id, versions: [version], ended: undefined, regranted: false };
}
const model = (lifecycles: GrantLifecycle[]): ReportModel =>
  buildReport({ now: NOW, lifecycles, expiringWindowMs: () => 3_600_000 });

describe('ICS calendars (RFC 5545)', () => {
  it('escapes TEXT and drops controls and bidi overrides', () => {
    expect(escapeIcsText('a\\b;c,d\ne\r\nf\u0007g\u202eh\ti')).toBe('a\\\\b\\;c\\,d\\ne\\nfgh\ti');
  });

  it('folds lines at 75 octets without splitting a character, continuing with one space', () => {
    const folded = foldIcsLine(`SUMMARY:${'é'.repeat(80)}`);
    const lines = folded.split('\r\n');
    expect(lines.length).toBeGreaterThan(2);
    for (const l of lines) expect(Buffer.byteLength(l, 'utf8')).toBeLessThanOrEqual(75);
    for (const l of lines.slice(1)) expect(l.startsWith(' ')).toBe(true);
    expect(lines.map((l, i) => (i ? l.slice(1) : l)).join('')).toBe(`SUMMARY:${'é'.repeat(80)}`);
    const ascii = foldIcsLine(`DESCRIPTION:${'a'.repeat(200)}`).split('\r\n');
    expect(ascii.map((l) => l.length)).toEqual([75, 75, 64]);
    expect(ascii.map((l, i) => (i ? l.slice(1) : l)).join('')).toBe(`DESCRIPTION:${'a'.repeat(200)}`);
    expect(
      foldIcsLine(`X:${'😀'.repeat(30)}`)
        .split('\r\n')
        .every((l) => Buffer.byteLength(l) <= 75),
    ).toBe(true);
  });

  it('is deterministic, CRLF only, one VEVENT per expiry with a UID stable per grant and expiresAt', () => {
    const m = model([
      lifecycle('g1', { pr: 12 }),
      lifecycle('g2', { reason: HOSTILE, expiresAt: '2026-11-29T00:00:00Z' }),
    ]);
    const opts = { now: m.now, name: 'all', repoUrl: 'https://github.com/acme/access' };
    const ics = renderCalendar(m.expiries, opts);
    expect(renderCalendar(m.expiries, opts)).toBe(ics);
    expect(ics.endsWith('\r\n')).toBe(true);
    expect(ics.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
    expect(ics.match(/BEGIN:VEVENT/g)).toHaveLength(2);
    expect(ics).toContain('DTSTAMP:20261128T120000Z');
    expect(ics).toContain('DTSTART:20261128T180000Z');
    expect(ics).toContain('URL:https://github.com/acme/access/pull/12');
    const uids = [...ics.matchAll(/UID:(.*)/g)].map((x) => x[1]);
    expect(new Set(uids).size).toBe(2);
    // Moving the expiry makes it another event; the same grant and expiry keep their UID.
    const moved = renderCalendar(
      model([lifecycle('g1', { pr: 12, expiresAt: '2026-11-28T19:00:00Z' })]).expiries,
      opts,
    );
    expect(moved).not.toContain(uids[0]);
    expect(renderCalendar(model([lifecycle('g1', { pr: 12 })]).expiries, opts)).toContain(uids[0]);
    const unfolded = ics.replace(/\r\n /g, '');
    expect(unfolded).toContain('DROP TABLE grants\\;--');
    expect(unfolded).not.toContain('\u0007');
  });

  it('names a user calendar after a login, or a hash for anything that could name a path', () => {
    expect(calendarFileName('Alice-1')).toBe('alice-1.ics');
    for (const bad of ['../../etc/passwd', 'a/b', '.hidden', '', 'x'.repeat(60), 'é']) {
      expect(calendarFileName(bad)).toMatch(/^user-[0-9a-f]{16}\.ics$/);
    }
  });
});

describe('the dashboard page', () => {
  it('carries a strict CSP: no source but its own hashed style and script', () => {
    expect(PAGE_CSP).toMatch(/^default-src 'none'; script-src 'sha256-[A-Za-z0-9+/=]+'; style-src 'sha256-/);
    expect(PAGE_CSP).not.toMatch(/unsafe|http|\*/);
  });

  it('keeps hostile grant text data: no markup, no script end, controls shown as escapes', () => {
    const m = model([lifecycle('evil', { user: HOSTILE, reason: HOSTILE, pr: 3 })]);
    const html = renderReportHtml(m, { repoUrl: 'https://github.com/acme/access', calendars: [] });
    expect(html.match(/<script/g)).toHaveLength(2);
    expect(html.match(/<\/script>/g)).toHaveLength(2);
    expect(html).not.toContain('\u0007');
    expect(html).not.toContain('\u202e');
    const data = reportPageData(m, { repoUrl: undefined, calendars: [] });
    expect(data.access[0]?.reason).toContain('\\u0007');
    expect(data.access[0]?.reason).toContain('\\u202e');
    expect(JSON.parse(scriptJson(data))).toEqual(JSON.parse(JSON.stringify(data)));
    expect(scriptJson({ a: '</script><!--\u2028' })).toBe('{"a":"\\u003c/script\\u003e\\u003c!--\\u2028"}');
  });

  it('links PRs only through the configured repository and a whole number', () => {
    const m = model([lifecycle('g', { pr: 5 })]);
    const data = reportPageData(m, { repoUrl: 'https://github.com/acme/access', calendars: [] });
    expect(data.repoUrl).toBe('https://github.com/acme/access');
    expect(data.access[0]).toMatchObject({ pr: 5, commit: 'c'.repeat(40) });
  });
});

describe('the job summary', () => {
  it('escapes the now table for Markdown and bounds it', () => {
    const many = Array.from({ length: 5 }, (_, i) =>
      lifecycle(`g${i}`, { user: i === 0 ? HOSTILE : `u${i}`, pr: 9 }),
    );
    const md = reportSummaryMarkdown(model(many), {
      repoUrl: 'https://github.com/acme/access',
      maxRows: 3,
      ganttRows: 2,
    });
    expect(md).not.toContain('<script>');
    expect(md).not.toMatch(/\[a\]\(javascript/);
    expect(md).toContain('[#9](https://github.com/acme/access/pull/9)');
    expect(md).toContain('The first 3 of 5 rows');
    const gantt = md.slice(md.indexOf('```mermaid'));
    expect(gantt.match(/:(active|done|crit)?,? ?g\d+,/g)).toHaveLength(2);
    expect(gantt).toContain('2 nearest now of 5');
    for (const line of gantt.split('\n').filter((l) => l.includes(' :'))) expect(line).not.toMatch(/[<>";]/);
  });

  it('keeps Mermaid task names to a plain set of characters', () => {
    expect(mermaidName('a:b;c#d<e>"f\nx %% y')).toBe('a_b_c_d_e__f_x __ y');
    expect(mermaidName(':::')).toBe('___');
  });
});
