import { Command, CommanderError } from 'commander';
import { errorMessage, formatFinding, GrantopsError } from '../model/errors.js';
import { escapeTerminal } from '../render/escape.js';
import { validateCommand } from './commands/validate.js';
import { statusCommand } from './commands/status.js';
import { requestCommand } from './commands/request.js';
import { extendCommand } from './commands/extend.js';
import { applyCommand } from './commands/apply.js';
import { reapCommand } from './commands/reap.js';
import { auditCommand } from './commands/audit.js';
import { doctorCommand } from './commands/doctor.js';
import { initCommand } from './commands/init.js';
import { reportCommand } from './commands/report.js';
import { jsonDocument, paint, type CliIo } from './output.js';
import { compose } from '../app/wiring.js';
import { cliConfig, commandContext, jsonFinding, type CliCommand, type CommandTools } from './shared.js';
import { VERSION } from './version.js';

const COMMANDS: readonly CliCommand[] = [
  initCommand,
  validateCommand,
  statusCommand,
  requestCommand,
  extendCommand,
  applyCommand,
  reapCommand,
  auditCommand,
  doctorCommand,
  reportCommand,
];

/** Runs the CLI with `argv` (without node and script) and returns the exit code. */
export async function runCli(
  argv: readonly string[],
  io: CliIo,
  root: typeof compose = compose,
): Promise<number> {
  let code = 0;
  const program = buildProgram(io, root, (c) => {
    code = c;
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander reports help and version as "errors" with exit code 0.
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof GrantopsError) {
      const findings = err.findings;
      const json = argv.includes('--json');
      if (json) {
        io.stdout(jsonDocument({ ok: false, error: err.message, errors: findings.map(jsonFinding) }));
      }
      for (const f of findings) io.stderr(`${escapeTerminal(formatFinding(f))}\n`);
      io.stderr(`${paint(io.color.stderr, 'red', 'grantops:')} ${escapeTerminal(err.message)}\n`);
      return err.exitCode;
    }
    // A failure from outside (git, a network, a file) is reported as what it is; only a defect of
    // grantops itself (a TypeError and the like) is an internal error.
    const defect = err instanceof TypeError || err instanceof ReferenceError || err instanceof RangeError;
    io.stderr(
      `${paint(io.color.stderr, 'red', 'grantops:')} ${defect ? 'internal error: ' : ''}${escapeTerminal(errorMessage(err))}\n`,
    );
    if (err instanceof Error && err.stack && io.env.GRANTOPS_DEBUG)
      io.stderr(`${escapeTerminal(err.stack, { keepLineFeedAndTab: true })}\n`);
    return 1;
  }
}
function buildProgram(io: CliIo, root: typeof compose, setExit: (code: number) => void): Command {
  const program = new Command('grantops')
    .description(
      'Access-as-code for temporary production access: grants are pull requests, expiry is enforced.',
    )
    .version(VERSION, '-V, --version', 'print the grantops version')
    .option('--repo <dir>', 'access repository (default: current directory)')
    .option('--now <rfc3339>', 'evaluate at this instant instead of the clock (env GRANTOPS_NOW)')
    .option('--json', 'print exactly one JSON document on stdout; human text goes to stderr')
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout(s), writeErr: (s) => io.stderr(s) });
  const tools: CommandTools = {
    io,
    setExit,
    context: (cmd) => commandContext(io, cmd),
    wire: async (cmd, run) => {
      const { config, json } = cliConfig(io, cmd, run);
      return { w: await root(config), json };
    },
  };
  for (const register of COMMANDS) register(program, tools);
  return program;
}
