import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIST_ACTION } from '../support/cli.js';
import { run } from '../support/process.js';
import { REPORT_NOW, reportFixture } from '../support/report-fixture.js';
import type { TempRepo } from '../support/repo.js';

/** The bundled Action's `command: report`, as the scheduled workflow runs it before uploading to Pages. */
let repo: TempRepo;
let scratch: string;

beforeAll(() => {
  repo = reportFixture();
  scratch = mkdtempSync(join(tmpdir(), 'grantops-action-report-'));
});
afterAll(() => {
  repo.cleanup();
  rmSync(scratch, { recursive: true, force: true });
});

describe('the Action, command: report', () => {
  it('writes the site where upload-pages-artifact takes it, and the now table and a gantt to the job summary', async () => {
    const summary = join(scratch, 'summary.md');
    const output = join(scratch, 'output.txt');
    writeFileSync(summary, '');
    writeFileSync(output, '');
    const r = await run(process.execPath, [DIST_ACTION], {
      cwd: repo.dir,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        GITHUB_EVENT_NAME: 'schedule',
        GITHUB_REPOSITORY: 'acme/access',
        GITHUB_SERVER_URL: 'https://github.com',
        GITHUB_WORKSPACE: repo.dir,
        GITHUB_STEP_SUMMARY: summary,
        GITHUB_OUTPUT: output,
        INPUT_COMMAND: 'report',
        INPUT_NOW: REPORT_NOW,
        INPUT_OUT: 'public',
        INPUT_OBSERVE: 'true',
      },
    });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(existsSync(join(repo.dir, 'public/index.html'))).toBe(true);
    expect(existsSync(join(repo.dir, 'public/calendars/alice.ics'))).toBe(true);
    expect(readFileSync(output, 'utf8')).toContain(join(repo.dir, 'public'));
    const md = readFileSync(summary, 'utf8');
    expect(md).toContain('| vpn | alice | ops | active |');
    expect(md).toContain('[#1](https://github.com/acme/access/pull/1)');
    expect(md).toContain('```mermaid\ngantt');
    expect(md).toMatch(/Drift: 1 access\(es\) no grant explains/);
    // The hostile grant's reason is not in the summary; its user and role are, escaped.
    expect(md).not.toContain('<script>');
    expect(r.stdout).toMatch(/::warning::target down could not be read/);
  });
});
