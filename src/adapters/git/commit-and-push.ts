import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GitError } from '../../model/errors.js';
import type { GitRunner } from './runner.js';

/**
 * Commits the removal of `paths` on top of HEAD as the grantops identity, then moves the branch,
 * index and work tree to it with one `git merge --ff-only`. The commit is built in a private index,
 * so a run that dies before that last step leaves the checkout exactly as it was (a dangling
 * object, nothing staged), never half-removed files the next run would take for local edits.
 * Paths and message go through stdin: a thousand trailers exceed what one argv entry may hold.
 */
export async function commitRemoval(
  git: GitRunner,
  paths: readonly string[],
  message: string,
  when: Date,
): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'grantops-index-'));
  const index = { GIT_INDEX_FILE: join(dir, 'index') };
  try {
    const parent = (await git.text(['rev-parse', '--verify', 'HEAD^{commit}'])).trim();
    await git.run(['read-tree', parent], { input: '', env: index });
    await git.run(['update-index', '--force-remove', '-z', '--stdin'], {
      input: `${paths.join('\0')}\0`,
      env: index,
    });
    const tree = (await git.run(['write-tree'], { input: '', env: index })).toString('utf8').trim();
    const date = when.toISOString();
    // Identity through the environment: it outranks any user.name a runner or developer configured.
    const sha = (
      await git.run(['commit-tree', tree, '-p', parent, '-F', '-'], {
        input: message,
        env: {
          GIT_AUTHOR_NAME: IDENTITY_NAME,
          GIT_AUTHOR_EMAIL: IDENTITY_EMAIL,
          GIT_COMMITTER_NAME: IDENTITY_NAME,
          GIT_COMMITTER_EMAIL: IDENTITY_EMAIL,
          GIT_AUTHOR_DATE: date,
          GIT_COMMITTER_DATE: date,
        },
      })
    )
      .toString('utf8')
      .trim();
    await git.run(['merge', '--ff-only', '--quiet', '--no-verify', sha], { input: '' });
    return sha;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Pushes `HEAD` to `branch` on `remote`. A rejection is returned, not thrown, and classified:
 * `behind` (the branch moved: fetch and redo), `protected` (branch protection refuses direct
 * pushes), or `other`.
 */
export async function pushHead(
  git: GitRunner,
  remote: string,
  branch: string,
  force = false,
): Promise<{ ok: true } | { ok: false; reason: 'behind' | 'protected' | 'other'; message: string }> {
  try {
    await git.text(['push', ...(force ? ['--force'] : []), remote, `HEAD:refs/heads/${branch}`]);
    return { ok: true };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    // Classified on what git said, never on the command line (a branch may be named "rejected").
    const said = err instanceof GitError ? err.stderr : message;
    if (/GH006|protected branch|refusing to allow|pre-receive hook declined/i.test(said)) {
      return { ok: false, reason: 'protected', message };
    }
    // A concurrent push to the same branch fails on the ref lock: as good as "main moved".
    if (
      /non-fast-forward|fetch first|rejected|stale info|cannot lock ref|failed to (update|lock) ref/i.test(
        said,
      )
    ) {
      return { ok: false, reason: 'behind', message };
    }
    return { ok: false, reason: 'other', message };
  }
}

const IDENTITY_NAME = 'grantops';
const IDENTITY_EMAIL = 'grantops@users.noreply.github.com';
