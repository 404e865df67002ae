import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NOW, POLICIES } from '../support/builders.js';
import { DIST_ACTION } from '../support/cli.js';
import { FakeGitHub } from '../support/github-server.js';
import { run } from '../support/process.js';
import { tempRepo, type TempRepo } from '../support/repo.js';

/**
 * A pull request whose grant file is written to command the runner: keys and values with a line
 * break followed by `::add-mask::` or `::stop-commands::`, a legacy `##[add-mask]`, a CR, an ESC and
 * a bidi override. The runner executes any stdout line that starts (after white space) with `::name::`
 * and any line holding `##[name]`; only grantops' own commands may appear.
 *
 * Run twice: from source (tsx), and as the committed bundle the runner runs, which passes once
 * `npm run build` has rebuilt dist/.
 */
const SOURCE_ACTION = fileURLToPath(new URL('../../src/action/step.ts', import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

const HOSTILE_GRANT = [
  'user: mallory',
  'target: vpn',
  'role: ops',
  'reason: "INC-9\\n::add-mask::reason ##[add-mask]reason"',
  'expiresAt: "2026-11-28\\n::stop-commands::tok"',
  '"x\\n::add-mask::x": 1',
  '"y\\r::add-mask::y": 1',
  '"  ::add-mask::z ##[add-mask]z": 1',
  '"w\\n  \\t::stop-commands::tok2": 1',
  '"esc\\u001b]0;title\\u0007 \\u202Eevil": 1',
  '',
].join('\n');

let gh: FakeGitHub;
let origin: TempRepo;
let scratch: string;

beforeAll(async () => {
  gh = await FakeGitHub.start();
  scratch = mkdtempSync(join(tmpdir(), 'grantops-action-log-'));
  origin = tempRepo({ ...POLICIES }, { git: true });
  origin.git('checkout', '-q', '-b', 'hostile');
  origin.write({ 'grants/vpn/mallory.yaml': HOSTILE_GRANT });
  origin.commit('request access, and try to command the runner');
  origin.git('checkout', '-q', 'main');
});
afterAll(async () => {
  await gh.stop();
  origin.cleanup();
  rmSync(scratch, { recursive: true, force: true });
});

async function runValidate(entry: string[], prNumber: number) {
  const work = join(scratch, `checkout-${prNumber}`);
  origin.git('clone', '-q', '--branch', 'hostile', `file://${origin.dir}`, work);
  const event = join(scratch, `event-${prNumber}.json`);
  writeFileSync(
    event,
    JSON.stringify({
      pull_request: {
        number: prNumber,
        user: { login: 'mallory' },
        base: { sha: origin.git('rev-parse', 'main'), ref: 'main' },
        head: { sha: origin.git('rev-parse', 'hostile') },
      },
    }),
  );
  const summary = join(scratch, `summary-${prNumber}.md`);
  const output = join(scratch, `output-${prNumber}.txt`);
  writeFileSync(summary, '');
  writeFileSync(output, '');
  const r = await run(process.execPath, entry, {
    cwd: work,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      GITHUB_EVENT_NAME: 'pull_request',
      GITHUB_EVENT_PATH: event,
      GITHUB_REPOSITORY: 'acme/access',
      GITHUB_API_URL: gh.url,
      GITHUB_WORKSPACE: work,
      GITHUB_STEP_SUMMARY: summary,
      GITHUB_OUTPUT: output,
      INPUT_COMMAND: 'validate',
      INPUT_TOKEN: gh.token,
      INPUT_NOW: NOW,
    },
  });
  return { ...r, summary: readFileSync(summary, 'utf8') };
}

// grantops' own workflow commands: annotations, groups, debug lines.
const OWN_COMMAND = /^::(error|warning|notice|debug|group|endgroup)( [^:]*)?::/;
// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

describe.each([
  ['from source', ['--import', TSX, SOURCE_ACTION], 31],
  ['as the bundle (needs dist/ rebuilt)', [DIST_ACTION], 32],
])('the Action validating a hostile grant file, %s', (_name, entry, prNumber) => {
  it('writes no line the runner would execute but its own commands', async () => {
    const r = await runValidate(entry, prNumber);
    expect(r.code).toBe(1);
    // The runner splits its output on CR as well as LF.
    const lines = r.stdout.split(/\r\n|\r|\n/);
    const commands = lines.filter((l) => l.trimStart().startsWith('::'));
    expect(commands.filter((l) => !OWN_COMMAND.test(l))).toEqual([]);
    expect(lines.filter((l) => l.includes('##['))).toEqual([]);
    expect(r.stdout).not.toMatch(/^\s*::(add-mask|stop-commands)::/m);
    expect(lines.filter((l) => RAW_CONTROL.test(l))).toEqual([]);
    // The findings are still there, readable, on the right lines.
    expect(r.stdout).toContain(
      '::error title=grantops unknown-key,file=grants/vpn/mallory.yaml,line=6,col=1::unknown key "x\\u000a::add-mask::x"',
    );
    expect(lines).toContain('grants/vpn/mallory.yaml:6:1: error: unknown key "x\\u000a::add-mask::x"');
    // The plan comment and the job summary carry no raw control or bidi character either.
    const comment = gh.commentsOn('acme/access', prNumber)[0]?.body ?? '';
    expect(comment).toContain('unknown key');
    expect(comment).not.toMatch(RAW_CONTROL);
    expect(r.summary).toContain('unknown key');
    expect(r.summary).not.toMatch(RAW_CONTROL);
    expect(gh.violations).toEqual([]);
  });
});
