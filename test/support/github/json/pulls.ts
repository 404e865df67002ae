import type { FakeIssue, FakeOpenPull, FakePull, StoredComment } from '../state.js';
import { minimalRepository, simpleUser } from './repos.js';

/** GitHub's JSON for pull requests, issues and issue comments, as the local server answers them. */
export function commentJson(c: StoredComment, repo: string, issue: number, baseUrl: string) {
  return {
    id: c.id,
    node_id: `IC_${c.id}`,
    url: `${baseUrl}/repos/${repo}/issues/comments/${c.id}`,
    html_url: `https://github.example/${repo}/issues/${issue}#issuecomment-${c.id}`,
    issue_url: `${baseUrl}/repos/${repo}/issues/${issue}`,
    body: c.body,
    user: simpleUser(c.user, c.userType, baseUrl),
    created_at: c.created_at,
    updated_at: c.updated_at,
    author_association: 'NONE',
  };
}

export function pullJson(pr: FakePull, full: string, baseUrl: string) {
  const u = `${baseUrl}/repos/${full}/pulls/${pr.number}`;
  const link = (href: string) => ({ href });
  const repository = {
    ...minimalRepository(full, baseUrl),
    clone_url: `https://github.example/${full}.git`,
    default_branch: 'main',
    forks: 0,
    forks_count: 0,
    git_url: `git://github.example/${full}.git`,
    has_downloads: false,
    has_issues: true,
    has_projects: false,
    has_wiki: false,
    has_pages: false,
    homepage: null,
    language: null,
    archived: false,
    disabled: false,
    mirror_url: null,
    open_issues: 0,
    open_issues_count: 0,
    license: null,
    pushed_at: pr.mergedAt,
    size: 1,
    ssh_url: `git@github.example:${full}.git`,
    stargazers_count: 0,
    svn_url: `https://github.example/${full}`,
    watchers: 0,
    watchers_count: 0,
    created_at: pr.mergedAt,
    updated_at: pr.mergedAt,
  };
  const ref = (sha: string, refName: string) => ({
    label: `acme:${refName}`,
    ref: refName,
    sha,
    user: simpleUser(pr.author, 'User', baseUrl),
    repo: repository,
  });
  return {
    url: u,
    id: pr.number,
    node_id: `PR_${pr.number}`,
    html_url: `https://github.example/${full}/pull/${pr.number}`,
    diff_url: `${u}.diff`,
    patch_url: `${u}.patch`,
    issue_url: `${baseUrl}/repos/${full}/issues/${pr.number}`,
    commits_url: `${u}/commits`,
    review_comments_url: `${u}/comments`,
    review_comment_url: `${baseUrl}/repos/${full}/pulls/comments{/number}`,
    comments_url: `${baseUrl}/repos/${full}/issues/${pr.number}/comments`,
    statuses_url: `${baseUrl}/repos/${full}/statuses/${pr.headSha}`,
    number: pr.number,
    state: 'closed',
    locked: false,
    title: `PR ${pr.number}`,
    user: simpleUser(pr.author, 'User', baseUrl),
    body: null,
    labels: [],
    milestone: null,
    active_lock_reason: null,
    created_at: pr.mergedAt,
    updated_at: pr.mergedAt,
    closed_at: pr.mergedAt,
    merged_at: pr.mergedAt,
    merge_commit_sha: pr.mergeCommitSha,
    assignee: null,
    assignees: [],
    requested_reviewers: [],
    requested_teams: [],
    head: ref(pr.headSha, pr.headRef ?? `pr-${pr.number}`),
    base: ref(pr.mergeCommitSha, 'main'),
    _links: {
      self: link(u),
      html: link(u),
      issue: link(u),
      comments: link(u),
      review_comments: link(u),
      review_comment: link(u),
      commits: link(u),
      statuses: link(u),
    },
    author_association: 'MEMBER',
    auto_merge: null,
    draft: false,
  };
}

export function openPullJson(
  p: FakeOpenPull,
  full: string,
  baseUrl: string,
  detailed: boolean,
  headSha = '0'.repeat(40),
) {
  const author = p.author ?? 'github-actions[bot]';
  const base = pullJson(
    {
      number: p.number,
      author,
      headSha,
      headRef: p.head,
      mergeCommitSha: '',
      mergedAt: '',
      commits: [],
      reviews: [],
    },
    full,
    baseUrl,
  );
  const simple = {
    ...base,
    user: simpleUser(author, /\[bot\]$/.test(author) ? 'Bot' : 'User', baseUrl),
    title: p.title,
    body: p.body,
    state: p.state,
    merged_at: null,
    merge_commit_sha: null,
    closed_at: null,
    created_at: '2026-11-28T00:00:00Z',
    updated_at: '2026-11-28T00:00:00Z',
  };
  if (!detailed) return simple;
  return {
    ...simple,
    additions: 0,
    changed_files: 1,
    comments: 0,
    commits: 1,
    deletions: 1,
    mergeable: true,
    mergeable_state: 'clean',
    merged: false,
    maintainer_can_modify: false,
    merged_by: null,
    review_comments: 0,
  };
}

export function issueJson(i: FakeIssue, full: string, baseUrl: string) {
  const u = `${baseUrl}/repos/${full}/issues/${i.number}`;
  return {
    id: i.number,
    node_id: `I_${i.number}`,
    url: u,
    repository_url: `${baseUrl}/repos/${full}`,
    labels_url: `${u}/labels{/name}`,
    comments_url: `${u}/comments`,
    events_url: `${u}/events`,
    html_url: `https://github.example/${full}/issues/${i.number}`,
    number: i.number,
    state: i.state,
    title: i.title,
    body: i.body,
    user: simpleUser(i.user ?? 'github-actions[bot]', i.userType ?? 'Bot', baseUrl),
    labels: i.labels.map((name, k) => ({
      id: k + 1,
      node_id: `L_${k}`,
      url: `${u}/labels/${name}`,
      name,
      description: null,
      color: 'ededed',
      default: false,
    })),
    assignee: null,
    assignees: [],
    milestone: null,
    locked: false,
    active_lock_reason: null,
    comments: 0,
    pull_request: undefined,
    closed_at: null,
    created_at: i.created_at ?? '2026-11-28T00:00:00Z',
    updated_at: i.created_at ?? '2026-11-28T00:00:00Z',
    author_association: 'NONE',
  };
}

/** A commit as pulls/list-commits answers it: `author`/`committer` null where no account matched. */
export function prCommitJson(
  full: string,
  sha: string,
  who: { author: string | null; committer: string | null },
  baseUrl: string,
) {
  const u = `${baseUrl}/repos/${full}/commits/${sha}`;
  const person = (login: string | null) =>
    login === null ? null : simpleUser(login, /\[bot\]$/.test(login) ? 'Bot' : 'User', baseUrl);
  const git = (login: string | null) => ({
    name: login ?? 'Someone',
    email: login ? `${login}@users.noreply.github.example` : 'someone@elsewhere.example',
    date: '2026-11-28T10:00:00Z',
  });
  return {
    url: u,
    sha,
    node_id: `C_${sha.slice(0, 8)}`,
    html_url: `https://github.example/${full}/commit/${sha}`,
    comments_url: `${u}/comments`,
    commit: {
      url: `${baseUrl}/repos/${full}/git/commits/${sha}`,
      author: git(who.author),
      committer: git(who.committer),
      message: 'commit',
      comment_count: 0,
      tree: { sha: '0'.repeat(40), url: `${baseUrl}/repos/${full}/git/trees/${'0'.repeat(40)}` },
    },
    author: person(who.author),
    committer: person(who.committer),
    parents: [],
  };
}
