import { lstat, mkdir } from 'node:fs/promises';
import { GitRepo } from '../adapters/git/repo.js';
import { WorkTree } from '../adapters/work-tree.js';
import { ConfigError } from '../model/errors.js';
import { parseActionRef, scaffoldFiles, type ActionRef } from '../scaffold/scaffold.js';

export interface InitOptions {
  /** Absolute path of the access repo to create (made if missing). */
  dir: string;
  /** `OWNER/REPO@SHA` grantops is pinned to; undefined when neither flag nor build gave one. */
  actionRef: string | undefined;
  /** The grantops version the pin's `# vX.Y.Z` comment names. */
  version: string;
  /** Run `git init -b main` when `dir` is not in a git repository. */
  git: boolean;
}

export interface InitReport {
  dir: string;
  action: ActionRef;
  /** Repo-relative paths written, in order. */
  written: string[];
  /** The repository was created by this run (`git init -b main`). */
  gitInitialized: boolean;
  /** The git repository's top level, when `dir` is inside one. */
  gitRoot: string | undefined;
}

/**
 * `init`: writes a new access repo into `dir`, never over anything. Every file is checked first, so
 * a refusal writes nothing; the files are created with the work tree's safe `createFile` (no
 * symbolic link followed, no existing file replaced), and nothing is committed.
 */
export async function initJob(opts: InitOptions): Promise<InitReport> {
  if (opts.actionRef === undefined) {
    throw new ConfigError(
      'this grantops is a development build and knows no released commit to pin the workflows to: pass --action-ref OWNER/REPO@SHA (the full commit sha of a grantops release)',
    );
  }
  const action = parseActionRef(opts.actionRef);
  const files = scaffoldFiles(action, opts.version);
  const top = await lstat(opts.dir).catch(() => undefined);
  if (top && (top.isSymbolicLink() || !top.isDirectory())) {
    throw new ConfigError(`${opts.dir} exists and is not a folder (a symbolic link is not followed)`);
  }
  const work = new WorkTree(opts.dir);
  const taken = await work.obstacles(files.map((f) => f.path));
  if (taken.length > 0) {
    throw new ConfigError(
      `${opts.dir} already has ${taken.join(', ')}: init writes nothing over existing files; use an empty folder`,
    );
  }
  await mkdir(opts.dir, { recursive: true });
  let git = await GitRepo.open(opts.dir).catch(() => undefined);
  let gitInitialized = false;
  if (!git && opts.git) {
    git = await GitRepo.init(opts.dir);
    gitInitialized = true;
  }
  const written: string[] = [];
  for (const f of files) {
    const created = await work.createFile(f.path, f.text, f.executable ? { executable: true } : {});
    // Checked above; one appearing since is someone else's file, and stays theirs.
    if (!created)
      throw new ConfigError(`${f.path} appeared while init was writing: stopped, nothing overwritten`);
    written.push(f.path);
  }
  return { dir: opts.dir, action, written, gitInitialized, gitRoot: git?.root };
}
