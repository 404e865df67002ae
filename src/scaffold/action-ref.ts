import { ConfigError } from '../model/errors.js';

/** Where the scaffolded workflows take grantops from: one repository, one commit. */
export interface ActionRef {
  /** `owner/repo`. */
  repo: string;
  /** The full 40-hex commit sha, lower-case: a tag can move, a commit cannot. */
  sha: string;
}

// GitHub's own limits: a login is at most 39 letters, digits and inner hyphens; a repository name
// letters, digits, '.', '_' and '-' (never '.' or '..' alone). Nothing else may reach a `uses:` line.
const ACTION_REF = /^([A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))\/([A-Za-z0-9._-]{1,100})@([0-9a-fA-F]{40})$/;

/** Parses `OWNER/REPO@SHA` (`--action-ref`), or fails with a usage error saying what it wants. */
export function parseActionRef(text: string, source = '--action-ref'): ActionRef {
  const m = ACTION_REF.exec(text);
  const name = m?.[2];
  if (!m || name === undefined || name === '.' || name === '..') {
    throw new ConfigError(
      `${source}: "${text}" is not OWNER/REPO@SHA with the full 40-hex commit sha (a tag or short sha can move)`,
    );
  }
  return { repo: `${m[1]}/${name}`, sha: (m[3] ?? '').toLowerCase() };
}
