import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FakeGitHub } from './github-server.js';
import { type Files, tempRepo, type TempRepo } from './repo.js';

/** An access repository the local GitHub server serves from a real bare repository, and a clone. */
export interface ServedRepo {
  /** Where the files were first committed. */
  origin: TempRepo;
  /** The bare repository behind the server's Git Data API (`gh.gitRepos`). */
  bare: string;
  /** A clone of it: a person's, or a runner's checkout. */
  clone: TempRepo;
  /** A directory for the test's own files, removed with the rest. */
  scratch: string;
  /** git in the bare repository, trimmed output. */
  inBare(...args: string[]): string;
  cleanup(): void;
}

/** `files` committed, pushed to a bare repository `gh` serves as `repo`, and cloned (`shallow`: depth 1). */
export function servedRepo(
  gh: FakeGitHub,
  files: Files,
  opts: { repo?: string; shallow?: boolean } = {},
): ServedRepo {
  const scratch = mkdtempSync(join(tmpdir(), 'grantops-served-'));
  const origin = tempRepo(files, { git: true });
  const bare = join(scratch, 'access.git');
  origin.git('clone', '-q', '--bare', origin.dir, bare);
  gh.gitRepos.set(opts.repo ?? 'acme/access', bare);
  const clone = tempRepo();
  if (opts.shallow) clone.git('clone', '-q', '--depth', '1', `file://${bare}`, clone.dir);
  else clone.git('clone', '-q', bare, clone.dir);
  return {
    origin,
    bare,
    clone,
    scratch,
    inBare: (...args) => execFileSync('git', args, { cwd: bare, encoding: 'utf8' }).trim(),
    cleanup: () => {
      origin.cleanup();
      clone.cleanup();
      rmSync(scratch, { recursive: true, force: true });
    },
  };
}
