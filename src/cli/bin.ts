#!/usr/bin/env node
import { colorFor } from './output.js';
import { runCli } from './program.js';

const io = {
  stdout: (s: string) => process.stdout.write(s),
  stderr: (s: string) => process.stderr.write(s),
  color: {
    stdout: colorFor(process.stdout.isTTY, process.env),
    stderr: colorFor(process.stderr.isTTY, process.env),
  },
  progress: process.stderr.isTTY === true,
  env: process.env,
  cwd: process.cwd(),
};
process.exitCode = await runCli(process.argv.slice(2), io);
