import { fileURLToPath } from 'node:url';
import { runCli } from '../../src/cli/program.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a CLI command in-process, capturing its output. */
export async function cli(cwd: string, ...argv: string[]): Promise<CliResult> {
  return cliIn(cwd, argv);
}

/** `cli` with an environment and terminal facts of its own (`progress`: stderr is a terminal). */
export async function cliIn(
  cwd: string,
  argv: readonly string[],
  io: { env?: Record<string, string | undefined>; progress?: boolean } = {},
): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    stdout: (s) => (stdout += s),
    stderr: (s) => (stderr += s),
    color: { stdout: false, stderr: false },
    ...(io.progress !== undefined ? { progress: io.progress } : {}),
    env: io.env ?? {},
    cwd,
  });
  return { code, stdout, stderr };
}

/**
 * An exec target (the protocol's last argv is the verb) that keeps who holds what in `.state.json`
 * in its working directory, the repo root.
 */
export const STATE_FILE_SCRIPT = `#!/usr/bin/env node
const fs = require('node:fs');
const verb = process.argv[process.argv.length - 1];
const input = verb === 'list' ? '' : fs.readFileSync(0, 'utf8');
const state = fs.existsSync('.state.json') ? JSON.parse(fs.readFileSync('.state.json', 'utf8')) : [];
if (verb === 'list') { process.stdout.write(JSON.stringify(state)); process.exit(0); }
const req = JSON.parse(input);
const next = state.filter((e) => !(e.user === req.user && e.role === req.role));
if (verb === 'grant') next.push({ user: req.user, role: req.role });
fs.writeFileSync('.state.json', JSON.stringify(next));
`;

export const DIST_CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
export const DIST_ACTION = fileURLToPath(new URL('../../dist/index.js', import.meta.url));
