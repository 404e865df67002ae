import { fileURLToPath } from 'node:url';
import { runCli } from '../../src/cli/program.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a CLI command in-process, capturing its output. */
export async function cli(cwd: string, ...argv: string[]): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    stdout: (s) => (stdout += s),
    stderr: (s) => (stderr += s),
    color: { stdout: false, stderr: false },
    env: {},
    cwd,
  });
  return { code, stdout, stderr };
}

export const DIST_CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
export const DIST_ACTION = fileURLToPath(new URL('../../dist/index.js', import.meta.url));
