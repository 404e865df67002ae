import axe from 'axe-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aGrant } from '../support/builders.js';
import { cliIn } from '../support/cli.js';
import { HOSTILE_ID, HOSTILE_REASON, REPORT_NOW, reportFixture } from '../support/report-fixture.js';
import { tempRepo, type TempRepo } from '../support/repo.js';

/**
 * The dashboard in a real browser (Debian's chromium driven by playwright-core), loaded from disk
 * as a person would open it: its content, no console error, no request leaving file://, the CSP
 * holding, axe-core's accessibility check, paging, and a screenshot kept under test-artifacts/.
 */
const CHROMIUM = process.env.GRANTOPS_CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));
const ENV = { GITHUB_REPOSITORY: 'acme/access', GITHUB_SERVER_URL: 'https://github.com' };

let browser: Browser;
let repo: TempRepo;
let big: TempRepo;

beforeAll(async () => {
  repo = reportFixture();
  const r = await cliIn(repo.dir, ['--now', REPORT_NOW, 'report', '--out', 'site', '--observe'], {
    env: ENV,
  });
  expect(r.code, r.stderr).toBe(0);
  big = tempRepo(
    {
      'policies/vpn.yaml':
        'target: { name: vpn, type: exec, command: [./vpn.sh] }\nroles:\n  ops: { maxDuration: 12h, approvals: 0 }\n',
    },
    { git: true },
  );
  for (let i = 0; i < 250; i++) {
    const user = `user-${String(i).padStart(4, '0')}`;
    big.write({
      [`grants/vpn/${user}.yaml`]: aGrant()
        .for(user)
        .on('vpn', 'ops')
        .without('ticket')
        .expiresAt('2026-11-28T20:00:00Z')
        .yaml(),
    });
  }
  big.commit('250 grants');
  expect((await cliIn(big.dir, ['--now', REPORT_NOW, 'report', '--out', 'site'], { env: ENV })).code).toBe(0);
  // The browser does not read the clock for anything; libfaketime (the suite's moved clock) stays out of it.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('FAKETIME') && k !== 'LD_PRELOAD'),
  );
  browser = await chromium.launch({ executablePath: CHROMIUM, env });
});
afterAll(async () => {
  await browser?.close();
  repo?.cleanup();
  big?.cleanup();
});

interface Loaded {
  page: Page;
  errors: string[];
  requests: string[];
}

/** The little of the DOM the assertions read (the project's types have no DOM library). */
interface Node {
  textContent: string | null;
  children: ArrayLike<Node>;
  getAttribute(name: string): string | null;
}

/** Opens a report from disk, recording console errors, page errors and every request it makes. */
async function open(dir: string): Promise<Loaded> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  const errors: string[] = [];
  const requests: string[] = [];
  await context.route('**/*', (route) => {
    const url = route.request().url();
    requests.push(url);
    return url.startsWith('file:') ? route.continue() : route.abort();
  });
  const page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') errors.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('request', (r) => {
    if (!requests.includes(r.url())) requests.push(r.url());
  });
  await page.goto(pathToFileURL(join(dir, 'site/index.html')).href);
  await page.waitForSelector('html[data-ready="true"]');
  return { page, errors, requests };
}

const cells = (page: Page, table: string, column: number) =>
  page.$$eval(
    `#${table} tbody tr`,
    (rows: Node[], c: number) => rows.map((r) => r.children[c]?.textContent ?? ''),
    column,
  );

describe('the dashboard in chromium', () => {
  it('shows who has access, what expires, what is overdue, drift and the timeline; asks for nothing', async () => {
    const { page, errors, requests } = await open(repo.dir);
    expect(await cells(page, 't-access', 1)).toEqual(['alice', 'bob', 'eve']);
    expect(await cells(page, 't-access', 6)).toEqual([
      'bob (unverified record)',
      'none recorded',
      'none recorded',
    ]);
    expect(await cells(page, 't-expiring', 1)).toEqual(['bob']);
    expect(await cells(page, 't-overdue', 1)).toEqual(['carol']);
    expect(await cells(page, 't-overdue', 4)).toEqual(['STILL PRESENT']);
    expect(await cells(page, 't-pending', 1)).toEqual(['dave']);
    expect(await cells(page, 't-unexplained', 1)).toEqual(['zed']);
    expect(await cells(page, 't-timeline', 1)).toEqual(['alice', 'bob', 'carol', 'erin', 'eve', 'dave']);
    expect(await page.textContent('#drift-h + .note')).toContain('down');
    const links = await page.$$eval('#t-access a', (as: Node[]) => as.map((a) => a.getAttribute('href')));
    expect(links).toEqual([
      'https://github.com/acme/access/pull/1',
      'https://github.com/acme/access/pull/2',
      'https://github.com/acme/access/pull/7',
    ]);
    expect(
      await page.$$eval('#t-calendars a', (as: Node[]) => as.map((a) => a.getAttribute('href'))),
    ).toContain('calendars/alice.ics');
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'report.png'), fullPage: true });
    expect(errors).toEqual([]);
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.filter((u) => !u.startsWith('file:'))).toEqual([]);
    await page.context().close();
  });

  it('renders hostile grant text as text', async () => {
    const { page, errors } = await open(repo.dir);
    const row = await page.$$eval('#t-access tbody tr', (rows: Node[]) =>
      rows.map((r) => Array.from(r.children, (c) => c.textContent)).find((c) => c[1] === 'eve'),
    );
    expect(row?.[8]).toBe(HOSTILE_ID);
    expect(row?.[9]).toContain(
      '</script><script>window.pwned=1</script><img src=x onerror="window.pwned=2">',
    );
    expect(row?.[9]).toContain('"; DROP TABLE grants;--');
    // Controls and bidi overrides are shown, not obeyed.
    expect(row?.[9]).toContain('\\u0007bell \\u202eevil');
    expect(HOSTILE_REASON).toContain('\u202e');
    expect(await page.evaluate(() => (globalThis as unknown as { pwned?: number }).pwned)).toBeUndefined();
    expect(await page.$$('img')).toHaveLength(0);
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('has no serious or critical accessibility violations (axe-core)', async () => {
    const { page } = await open(repo.dir);
    await page.evaluate(axe.source);
    const result = await page.evaluate(() =>
      (globalThis as unknown as { axe: typeof axe }).axe.run({ resultTypes: ['violations'] }),
    );
    const serious = result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
    expect(serious).toEqual([]);
    // It did check the page: its tables, labels, contrast and landmarks passed rules.
    expect(result.passes.map((p) => p.id)).toEqual(
      expect.arrayContaining(['color-contrast', 'label', 'th-has-data-cells']),
    );
    await page.context().close();
  });

  it('runs no script but its own: an injected inline script is refused by the CSP', async () => {
    const { page, errors } = await open(repo.dir);
    await page.addScriptTag({ content: 'window.injected = 1' }).catch(() => undefined);
    expect(
      await page.evaluate(() => (globalThis as unknown as { injected?: number }).injected),
    ).toBeUndefined();
    expect(errors.join('\n')).toMatch(/Content Security Policy/);
    await page.context().close();
  });

  it('pages a long table 100 rows at a time, and the filter finds a row on any page', async () => {
    const { page, errors } = await open(big.dir);
    const status = () => page.textContent('#t-access [role=status]');
    expect(await page.$$eval('#t-access tbody tr', (r) => r.length)).toBe(100);
    expect(await status()).toBe('250 of 250 row(s), page 1 of 3');
    await page.click('#t-access button:has-text("Next page")');
    await page.click('#t-access button:has-text("Next page")');
    expect(await status()).toBe('250 of 250 row(s), page 3 of 3');
    expect(await page.$$eval('#t-access tbody tr', (r) => r.length)).toBe(50);
    expect(await page.isDisabled('#t-access button:has-text("Next page")')).toBe(true);
    await page.fill('#t-access-filter', 'user-0042');
    expect(await cells(page, 't-access', 1)).toEqual(['user-0042']);
    expect(await status()).toBe('1 of 250 row(s), page 1 of 1');
    expect(errors).toEqual([]);
    await page.context().close();
  });
});
