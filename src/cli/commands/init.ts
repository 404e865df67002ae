import { type Command } from 'commander';
import { resolve } from 'node:path';
import { CODEOWNERS_PLACEHOLDER } from '../../scaffold/scaffold.js';
import { escapeJsonText, escapeTerminal } from '../../render/escape.js';
import { paint } from '../output.js';
import type { CliCommand } from '../shared.js';
import { RELEASE_ACTION_REF, VERSION } from '../version.js';

interface InitFlags {
  actionRef?: string;
  git: boolean;
}

/** `grantops init [DIR]`. */
export const initCommand: CliCommand = (program, { io, context }) => {
  program
    .command('init')
    .description('scaffold an access repo: example policies, workflows pinned to a release, CODEOWNERS')
    .argument('[dir]', 'where (default: --repo or the current directory); made if missing')
    .option(
      '--action-ref <owner/repo@sha>',
      `the grantops the workflows use, by full commit sha (default: ${RELEASE_ACTION_REF ?? 'none in a development build'})`,
    )
    .option('--no-git', 'do not run git init -b main when DIR is not in a git repository')
    .action(async (dirArg: string | undefined, flags: InitFlags, cmd: Command) => {
      const ctx = context(cmd);
      const dir = dirArg === undefined ? ctx.repo : resolve(io.cwd, dirArg);
      const { initJob } = await import('../../app/init-job.js');
      const r = await initJob({
        dir,
        actionRef: flags.actionRef ?? RELEASE_ACTION_REF,
        version: VERSION,
        git: flags.git,
      });
      if (ctx.json) {
        io.stdout(
          `${escapeJsonText(JSON.stringify({ dir: r.dir, action: `${r.action.repo}@${r.action.sha}`, files: r.written, gitInitialized: r.gitInitialized }))}\n`,
        );
      } else {
        for (const path of r.written) io.stdout(`${escapeTerminal(path)}\n`);
      }
      const shown = escapeTerminal(r.dir);
      const lines = [
        `${paint(io.color.stderr, 'green', '✓')} wrote ${r.written.length} files into ${shown}, grantops pinned to ${r.action.repo}@${r.action.sha} (v${VERSION})`,
        r.gitInitialized
          ? 'made it a git repository (git init -b main); nothing is committed'
          : r.gitRoot === undefined
            ? 'not a git repository (--no-git): make it one before validate --base, apply or reap'
            : `inside the git repository ${escapeTerminal(r.gitRoot)}; nothing is committed`,
      ];
      if (r.gitRoot !== undefined && resolve(r.gitRoot) !== resolve(r.dir))
        lines.push(
          `${paint(io.color.stderr, 'yellow', 'note:')} grantops reads grants/ and policies/ at the top of the repository (${escapeTerminal(r.gitRoot)}), not in ${shown}`,
        );
      lines.push(
        `${paint(io.color.stderr, 'yellow', 'note:')} replace ${CODEOWNERS_PLACEHOLDER} in .github/CODEOWNERS with your team, and acme in policies/ with your organisation`,
        'next: edit policies/, run grantops validate, commit, push, and set up the grantops environment (README: "Your own access repo in five minutes")',
      );
      io.stderr(`${lines.join('\n')}\n`);
    });
};
