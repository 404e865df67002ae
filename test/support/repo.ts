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
  cleanup(): void;
}

const GIT_ENV = {
  GIT_AUTHOR_NAME: 'Test Author',
  GIT_AUTHOR_EMAIL: 'author@example.test',
  GIT_COMMITTER_NAME: 'Test Committer',
  GIT_COMMITTER_EMAIL: 'committer@example.test',
  GIT_CONFIG_NOSYSTEM: '1',
};

export function tempRepo(files: Files = {}, opts: { git?: boolean } = {}): TempRepo {
  const dir = mkdtempSync(join(tmpdir(), 'grantops-test-'));
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
    git(...args) {
      return execFileSync('git', args, {
        cwd: dir,
        env: { ...process.env, ...GIT_ENV },
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
