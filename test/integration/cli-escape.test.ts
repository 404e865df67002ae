import { afterEach, describe, expect, it } from 'vitest';
import { aGrant, NOW, POLICIES } from '../support/builders.js';
import { cli } from '../support/cli.js';
import { tempRepo, type TempRepo } from '../support/repo.js';

/**
 * Whatever a grant file or a commit holds, the CLI's output in every format cannot drive a terminal:
 * no ESC, BEL, C1 (0x9b is a CSI), bidi override or isolate, zero-width character or BOM reaches
 * stdout or stderr raw; line feeds and tabs only where the format puts them.
 */
const HOSTILE =
  'esc\u001b[2J bel\u0007 cr\r csi\u009b31m del\u007f rlo\u202Eevil lri\u2066x zw\u200Bx bom\uFEFFx';
// eslint-disable-next-line no-control-regex
const RAW = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200d\u202a-\u202e\u2066-\u2069\ufeff]/;

let repo: TempRepo;
afterEach(() => repo.cleanup());

function hostileRepo(): TempRepo {
  repo = tempRepo(
    {
      ...POLICIES,
      'grants/alice.yaml': aGrant().with('reason', HOSTILE).yaml(),
      'grants/bad.yaml': aGrant().for('bob').with(HOSTILE, 1).yaml(),
    },
    { git: true },
  );
  return repo;
}

function expectClean(r: { stdout: string; stderr: string }) {
  expect(r.stdout).not.toMatch(RAW);
  expect(r.stderr).not.toMatch(RAW);
}

describe('terminal control characters from files', () => {
  it('validate: findings on stderr, and the --json document, show them escaped', async () => {
    hostileRepo();
    const text = await cli(repo.dir, 'validate', '--now', NOW);
    expect(text.code).toBe(1);
    expectClean(text);
    expect(text.stderr).toContain('unknown key "esc\\u001b[2J bel\\u0007 cr\\u000d csi\\u009b31m');
    expect(text.stderr).toContain('rlo\\u202eevil lri\\u2066x zw\\u200bx bom\\ufeffx');

    const json = await cli(repo.dir, 'validate', '--now', NOW, '--json');
    expectClean(json);
    // Escaped in the JSON text, the same string once parsed.
    const doc = JSON.parse(json.stdout) as { errors: { message: string }[] };
    expect(doc.errors.map((e) => e.message)).toContain(`unknown key "${HOSTILE}"`);
  });

  it('validate --base: the plan table and the notes', async () => {
    hostileRepo();
    repo.git('checkout', '-q', '-b', 'pr');
    repo.write({
      'grants/carol.yaml': aGrant().for('carol').with('reason', HOSTILE).yaml(),
      [`templates/${'\u202e'}x.hbs`]: 'x',
    });
    repo.commit('hostile');
    const r = await cli(repo.dir, 'validate', '--now', NOW, '--base', 'main');
    expectClean(r);
    expect(r.stdout).toContain('carol');
    expect(r.stderr).toContain('templates/\\u202ex.hbs');
  });

  it('status: the table and the problems', async () => {
    hostileRepo();
    const r = await cli(repo.dir, 'status', '--now', NOW);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('alice');
    expectClean(r);
    const json = await cli(repo.dir, 'status', '--now', NOW, '--json');
    expectClean(json);
  });

  it.each(['table', 'csv', 'markdown', 'json'])('audit --format %s', async (format) => {
    hostileRepo();
    repo.write({ 'grants/dave.yaml': aGrant().for('dave').with('reason', `dave ${HOSTILE}`).yaml() });
    repo.git('add', '-A');
    repo.git(
      'commit',
      '-q',
      '--author',
      `Eve\u001b]0;pwned\u0007 \u202eevE <eve@example.test>`,
      '-m',
      'dave',
    );
    const r = await cli(repo.dir, 'audit', '--now', NOW, '--format', format);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('dave');
    // CSV rows end in CRLF (RFC 4180); no other CR is left.
    expectClean({ ...r, stdout: format === 'csv' ? r.stdout.replace(/\r\n/g, '\n') : r.stdout });
    if (format === 'json') {
      const doc = JSON.parse(r.stdout) as { events: { reason?: string; author: string }[] };
      expect(doc.events.map((e) => e.reason)).toContain(`dave ${HOSTILE}`);
      expect(doc.events.map((e) => e.author)).toContain(
        'Eve\u001b]0;pwned\u0007 \u202eevE <eve@example.test>',
      );
    }
  });
});
