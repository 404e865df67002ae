import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GitRunner } from '../../src/adapters/git/runner.js';
import { GitError } from '../../src/model/errors.js';
import { tempRepo, type TempRepo } from '../support/repo.js';

/** Every git call goes through one runner: exit codes checked, failures typed (issue 13). */
let repo: TempRepo;
beforeAll(() => {
  repo = tempRepo({ 'README.md': 'x\n' }, { git: true });
});
afterAll(() => repo.cleanup());

describe('GitRunner', () => {
  it('rejects a failing command with a GitError carrying the command line and stderr', async () => {
    const git = new GitRunner(repo.dir);
    const failure = await git.text(['rev-parse', '--verify', 'no-such-ref']).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(GitError);
    const err = failure as GitError;
    expect(err.command).toBe('git rev-parse --verify no-such-ref');
    expect(err.gitExitCode).toBe(128);
    expect(err.stderr).toMatch(/fatal: Needed a single revision/);
    expect(err.message).toMatch(
      /^git rev-parse --verify no-such-ref failed \(exit 128\): fatal: Needed a single revision/,
    );
  });

  it('rejects a non-zero exit even when git says nothing', async () => {
    const git = new GitRunner(repo.dir);
    await expect(git.text(['rev-parse', '--verify', '--quiet', 'no-such-ref'])).rejects.toMatchObject({
      name: 'GitError',
      gitExitCode: 1,
      stderr: '',
    });
  });

  it('does not crash on EPIPE when git reads none of a large input', async () => {
    const git = new GitRunner(repo.dir);
    // Far more than a pipe holds: git exits while the write is still pending.
    const input = 'x'.repeat(8 << 20);
    expect((await git.text(['rev-parse', 'HEAD'], { input })).trim()).toMatch(/^[0-9a-f]{40}$/);
    await expect(git.text(['no-such-verb'], { input })).rejects.toBeInstanceOf(GitError);
  });

  it('passes stdin, and streams lines until told to stop', async () => {
    const git = new GitRunner(repo.dir);
    const blob = (await git.text(['hash-object', '-w', '--stdin'], { input: 'hello\n' })).trim();
    expect(await git.text(['cat-file', 'blob', blob])).toBe('hello\n');
    for (let i = 0; i < 5; i++) repo.commit(`commit ${i}`);
    const seen: string[] = [];
    await git.lines(['log', '--format=%s'], (line) => {
      seen.push(line);
      return seen.length < 2;
    });
    expect(seen).toEqual(['commit 4', 'commit 3']);
  });

  it('kills a git that stays silent past the stall timeout', async () => {
    const git = new GitRunner(repo.dir, 300);
    // `cat-file --batch` waits on its open stdin, writing nothing.
    const proc = git.start(['cat-file', '--batch'], { stdin: 'pipe' });
    await expect(proc.done).rejects.toThrow(/timed out: no output for 300 ms/);
  });
});
