import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliIn } from '../support/cli.js';
import { HOSTILE_REASON, REPORT_NOW, reportFixture } from '../support/report-fixture.js';
import type { TempRepo } from '../support/repo.js';

/** `grantops report` on a real repository: the site, the calendars, drift from the targets, the cache. */
let repo: TempRepo;
const ENV = { GITHUB_REPOSITORY: 'acme/access', GITHUB_SERVER_URL: 'https://github.com' };
const run = (argv: string[], env: Record<string, string> = {}) =>
  cliIn(repo.dir, ['--now', REPORT_NOW, 'report', ...argv], { env: { ...ENV, ...env } });
const read = (path: string) => readFileSync(join(repo.dir, path), 'utf8');

beforeAll(() => {
  repo = reportFixture();
});
afterAll(() => repo.cleanup());

describe('grantops report', () => {
  it('writes index.html, calendar.ics and one calendar per user, and says what it found', async () => {
    const r = await run(['--out', 'site', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as {
      files: string[];
      counts: Record<string, number>;
      driftChecked: boolean;
    };
    expect(doc.counts).toMatchObject({ access: 3, expiring: 1, overdue: 1, pending: 1, timeline: 6 });
    expect(doc.driftChecked).toBe(false);
    expect(doc.files).toEqual([
      'index.html',
      'calendar.ics',
      ...['alice', 'bob', 'carol', 'dave', 'eve'].map((u) => `calendars/${u}.ics`),
    ]);
    expect(readdirSync(join(repo.dir, 'site/calendars')).sort()).toEqual([
      'alice.ics',
      'bob.ics',
      'carol.ics',
      'dave.ics',
      'eve.ics',
    ]);
    const html = read('site/index.html');
    expect(html).toContain('Drift was not checked');
    expect(html).toContain('"repoUrl":"https://github.com/acme/access"');
    // Hostile text is data in a JSON block, never markup.
    expect(html.match(/<script/g)).toHaveLength(2);
    expect(html).not.toContain('<img');
    const all = read('site/calendar.ics');
    expect(all.match(/BEGIN:VEVENT/g)).toHaveLength(5);
    const alice = read('site/calendars/alice.ics');
    expect(alice.match(/BEGIN:VEVENT/g)).toHaveLength(1);
    expect(alice).toContain('DTSTART:20261128T180000Z');
    expect(alice).toContain('URL:https://github.com/acme/access/pull/1');
    const eve = read('site/calendars/eve.ics').replace(/\r\n /g, '');
    expect(eve).toContain('DROP TABLE grants\\;--');
    expect(eve).not.toContain('\u0007');
  });

  it('with --observe shows access no grant explains, overdue access still present and unreadable targets', async () => {
    const r = await run(['--out', 'observed', '--observe', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ driftChecked: true, counts: { unexplained: 1 } });
    expect(r.stderr).toContain('unreadable: down');
    const data = reportData(read('observed/index.html'));
    expect(data.unexplained).toEqual([
      { target: 'vpn', user: 'zed', entitlement: 'ops', enforced: 'no: reported only' },
    ]);
    expect(data.overdue).toMatchObject([{ grant: 'vpn/carol', present: 'STILL PRESENT', overdueBy: '2h' }]);
  });

  it('reads the history from its cache when nothing landed, with the same bytes out', async () => {
    const first = await run(['--out', 'a'], { GRANTOPS_DEBUG: '1' });
    const second = await run(['--out', 'b'], { GRANTOPS_DEBUG: '1' });
    expect(first.code).toBe(0);
    expect(second.stderr).toMatch(/history cache: \{"mode":"warm","commitsRead":0/);
    for (const f of ['index.html', 'calendar.ics', 'calendars/alice.ics'])
      expect(read(`b/${f}`)).toBe(read(`a/${f}`));
    const cold = await run(['--out', 'c', '--no-cache'], { GRANTOPS_DEBUG: '1' });
    expect(cold.stderr).toMatch(/"mode":"off"/);
    expect(read('c/index.html')).toBe(read('a/index.html'));
  });

  it('removes a calendar left by an earlier run for a user who has none now, and nothing else', async () => {
    writeFileSync(join(repo.dir, 'site/calendars/gone.ics'), 'old');
    writeFileSync(join(repo.dir, 'site/calendars/notes.txt'), 'mine');
    expect((await run(['--out', 'site'])).code).toBe(0);
    expect(existsSync(join(repo.dir, 'site/calendars/gone.ics'))).toBe(false);
    expect(existsSync(join(repo.dir, 'site/calendars/notes.txt'))).toBe(true);
  });

  it('links no PR without a configured repository, and refuses a run without --out (exit 2)', async () => {
    const r = await cliIn(repo.dir, ['--now', REPORT_NOW, 'report', '--out', 'bare'], { env: {} });
    expect(r.code).toBe(0);
    expect(reportData(read('bare/index.html')).repoUrl).toBeNull();
    expect(read('bare/calendar.ics')).not.toContain('URL:');
    for (const env of [
      { GITHUB_REPOSITORY: 'acme/x"><script>' },
      { GITHUB_REPOSITORY: 'acme/access', GITHUB_SERVER_URL: 'javascript:alert(1)//' },
      { GITHUB_REPOSITORY: 'acme/access', GITHUB_SERVER_URL: 'https://evil.example/?q=' },
    ]) {
      const r = await cliIn(repo.dir, ['--now', REPORT_NOW, 'report', '--out', 'h'], { env });
      expect(r.code).toBe(0);
      expect(reportData(read('h/index.html')).repoUrl, JSON.stringify(env)).toBeNull();
    }
    expect((await cliIn(repo.dir, ['report'], { env: {} })).code).toBe(2);
    expect(HOSTILE_REASON).toContain('</script>');
  });
});

function reportData(html: string): Record<string, unknown> & { repoUrl: string | null } {
  const m = /<script type="application\/json" id="report-data">(.*?)<\/script>/s.exec(html);
  return JSON.parse(m![1]!) as Record<string, unknown> & { repoUrl: string | null };
}
