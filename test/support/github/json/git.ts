import { minimalRepository } from './repos.js';

/** GitHub's JSON for a full repository and for git objects, as the local server answers them. */
export function fullRepository(full: string, defaultBranch: string, baseUrl: string) {
  const base = minimalRepository(full, baseUrl);
  return {
    ...base,
    clone_url: `https://github.example/${full}.git`,
    git_url: `git://github.example/${full}.git`,
    ssh_url: `git@github.example:${full}.git`,
    svn_url: `https://github.example/${full}`,
    mirror_url: null,
    homepage: null,
    language: null,
    default_branch: defaultBranch,
    forks: 0,
    forks_count: 0,
    stargazers_count: 0,
    watchers: 0,
    watchers_count: 0,
    open_issues: 0,
    open_issues_count: 0,
    network_count: 0,
    subscribers_count: 0,
    size: 1,
    has_issues: true,
    has_projects: false,
    has_wiki: false,
    has_pages: false,
    has_discussions: false,
    archived: false,
    disabled: false,
    license: null,
    pushed_at: '2026-11-28T00:00:00Z',
    created_at: '2020-01-01T00:00:00Z',
    updated_at: '2026-11-28T00:00:00Z',
  };
}

export function refJson(full: string, ref: string, sha: string, baseUrl: string) {
  return {
    ref,
    node_id: `REF_${sha.slice(0, 8)}`,
    url: `${baseUrl}/repos/${full}/git/${ref}`,
    object: { type: 'commit', sha, url: `${baseUrl}/repos/${full}/git/commits/${sha}` },
  };
}

export interface CommitFacts {
  sha: string;
  tree: string;
  parents: string[];
  message: string;
  author: { name: string; email: string; date: string };
  committer: { name: string; email: string; date: string };
}

export function commitJson(full: string, c: CommitFacts, baseUrl: string) {
  const u = (sha: string) => `${baseUrl}/repos/${full}/git/commits/${sha}`;
  return {
    sha: c.sha,
    node_id: `C_${c.sha.slice(0, 8)}`,
    url: u(c.sha),
    html_url: `https://github.example/${full}/commit/${c.sha}`,
    author: c.author,
    committer: c.committer,
    message: c.message,
    tree: { sha: c.tree, url: `${baseUrl}/repos/${full}/git/trees/${c.tree}` },
    parents: c.parents.map((sha) => ({
      sha,
      url: u(sha),
      html_url: `https://github.example/${full}/commit/${sha}`,
    })),
    verification: { verified: false, reason: 'unsigned', signature: null, payload: null, verified_at: null },
  };
}
