#!/usr/bin/env node
import { colorFor } from './output.js';
import { runCli } from './program.js';
import { outputSink } from './stdio.js';

const stdout = outputSink(process.stdout);
const stderr = outputSink(process.stderr);
const io = {
  stdout: (s: string) => stdout.write(s),
  stderr: (s: string) => stderr.write(s),
  stdoutReady: () => stdout.ready(),
  color: {
    stdout: colorFor(process.stdout.isTTY, process.env),
    stderr: colorFor(process.stderr.isTTY, process.env),
  },
  progress: process.stderr.isTTY === true,
  env: process.env,
  cwd: process.cwd(),
};
process.exitCode = await runCli(process.argv.slice(2), io);
