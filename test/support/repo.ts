import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export type FileContent = string | Uint8Array | { symlink: string };
export type Files = Record<string, FileContent>;

/** A throwaway directory; `git: true` makes it a real repository with one commit on main. */
export interface TempRepo {
  dir: string;
  write(files: Files): void;
  git(...args: string[]): string;
  commit(message: string): string;
  /** The environment this repo's git calls run with (identity and the next pinned date). */
  gitEnv(): Record<string, string>;
  cleanup(): void;
}

/**
 * Where the pinned clock of every test repository starts: the morning of the day the tests' `--now`
 * values live on. Commits never carry the machine's clock, so a test reads the same history on any day
 * (the suite also runs under libfaketime, moved a year ahead and a week back, to prove it).
 */
export const PINNED_EPOCH = Date.parse('2026-11-28T09:00:00Z');

const IDENTITY = {
  GIT_AUTHOR_NAME: 'Test Author',
  GIT_AUTHOR_EMAIL: 'author@example.test',
  GIT_COMMITTER_NAME: 'Test Committer',
  GIT_COMMITTER_EMAIL: 'committer@example.test',
  GIT_CONFIG_NOSYSTEM: '1',
};

/**
 * A clock for git: each call returns a date one second after the last, as git wants it in
 * GIT_AUTHOR_DATE / GIT_COMMITTER_DATE. Increasing, so history order and time order agree.
 */
export function pinnedGitClock(start = PINNED_EPOCH): () => Record<string, string> {
  let seconds = Math.floor(start / 1000);
  return () => {
    const date = `@${seconds++} +0000`;
    return { GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date };
  };
}

export function tempRepo(files: Files = {}, opts: { git?: boolean; epoch?: number } = {}): TempRepo {
  const dir = mkdtempSync(join(tmpdir(), 'grantops-test-'));
  const tick = pinnedGitClock(opts.epoch);
  const repo: TempRepo = {
    dir,
    write(more) {
      for (const [path, content] of Object.entries(more)) {
        const abs = join(dir, path);
        mkdirSync(dirname(abs), { recursive: true });
        if (typeof content === 'object' && 'symlink' in content) symlinkSync(content.symlink, abs);
        else writeFileSync(abs, content);
      }
    },
    gitEnv() {
      return { ...IDENTITY, ...tick() };
    },
    git(...args) {
      // Every call gets the next pinned date: commits, merges, notes and tags alike.
      return execFileSync('git', args, {
        cwd: dir,
        env: { ...process.env, ...repo.gitEnv() },
        encoding: 'utf8',
      }).trim();
    },
    commit(message) {
      repo.git('add', '-A');
      repo.git('commit', '-q', '--allow-empty', '-m', message);
      return repo.git('rev-parse', 'HEAD');
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
  repo.write(files);
  if (opts.git) {
    repo.git('init', '-q', '-b', 'main');
    repo.commit('initial');
  }
  return repo;
}
