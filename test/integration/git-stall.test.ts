import { afterEach, describe, expect, it } from 'vitest';
import { GitRepo } from '../../src/adapters/git/repo.js';
import { tempRepo, type TempRepo } from '../support/repo.js';

/**
 * A remote that accepts the connection and never answers must not hold a run forever: the reaper
 * reports a git failure after its revocations, it does not wait on git (issue 11).
 */
let repo: TempRepo | undefined;
afterEach(() => repo?.cleanup());

describe('git that hangs', () => {
  it('is killed once it has been silent too long, and the fetch fails with a reason', async () => {
    repo = tempRepo({ 'README.md': 'x\n' }, { git: true });
    repo.git('remote', 'add', 'origin', 'ssh://example.invalid/access.git');
    // The "ssh" reads until git hangs up and never answers: a black-holed remote. It ends with git.
    repo.git('config', 'core.sshCommand', 'cat >/dev/null; :');
    const git = await GitRepo.open(repo.dir, { stallMs: 400 });
    const started = Date.now();
    await expect(git.fetchBranch('origin', 'main')).rejects.toThrow(/block timeout|timed out|timeout/i);
    // Killed after its silence, not after some network default of minutes.
    expect(Date.now() - started).toBeLessThan(30_000);
  });
});
