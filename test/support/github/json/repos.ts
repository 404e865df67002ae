import type { Invitation } from '../state.js';

/** GitHub's JSON for users, repositories, invitations and teams, as the local server answers them. */
export function simpleUser(login: string, type: 'User' | 'Bot' = 'User', baseUrl = 'https://api.github.com') {
  const id = [...login].reduce((h, c) => (h * 31 + c.charCodeAt(0)) % 1_000_000, 7);
  const u = `${baseUrl}/users/${encodeURIComponent(login)}`;
  return {
    login,
    id,
    node_id: `U_${id}`,
    avatar_url: `https://avatars.example/u/${id}`,
    gravatar_id: '',
    url: u,
    html_url: `https://github.example/${login}`,
    followers_url: `${u}/followers`,
    following_url: `${u}/following{/other_user}`,
    gists_url: `${u}/gists{/gist_id}`,
    starred_url: `${u}/starred{/owner}{/repo}`,
    subscriptions_url: `${u}/subscriptions`,
    organizations_url: `${u}/orgs`,
    repos_url: `${u}/repos`,
    events_url: `${u}/events{/privacy}`,
    received_events_url: `${u}/received_events`,
    type,
    site_admin: false,
  };
}

export function invitationJson(i: Invitation, full: string, baseUrl: string) {
  return {
    id: i.id,
    node_id: `RI_${i.id}`,
    repository: minimalRepository(full, baseUrl),
    invitee: simpleUser(i.login, 'User', baseUrl),
    inviter: simpleUser('grantops-admin', 'User', baseUrl),
    permissions: PERMISSION_ROLE[i.permission] ?? i.permission,
    created_at: '2026-11-28T00:00:00Z',
    url: `${baseUrl}/user/repository_invitations/${i.id}`,
    html_url: `https://github.example/${full}/invitations`,
  };
}

export const PERMISSION_ROLE: Record<string, string> = {
  pull: 'read',
  triage: 'triage',
  push: 'write',
  maintain: 'maintain',
  admin: 'admin',
};
const ORDER = ['pull', 'triage', 'push', 'maintain', 'admin'];

export function permissions(p: string) {
  const rank = ORDER.indexOf(p);
  return { pull: rank >= 0, triage: rank >= 1, push: rank >= 2, maintain: rank >= 3, admin: rank >= 4 };
}

export function minimalRepository(full: string, baseUrl: string) {
  const [owner = '', name = ''] = full.split('/');
  const u = `${baseUrl}/repos/${full}`;
  const urls = Object.fromEntries(
    [
      'archive',
      'assignees',
      'blobs',
      'branches',
      'collaborators',
      'comments',
      'commits',
      'compare',
      'contents',
      'contributors',
      'deployments',
      'downloads',
      'events',
      'forks',
      'git_commits',
      'git_refs',
      'git_tags',
      'hooks',
      'issue_comment',
      'issue_events',
      'issues',
      'keys',
      'labels',
      'languages',
      'merges',
      'milestones',
      'notifications',
      'pulls',
      'releases',
      'stargazers',
      'statuses',
      'subscribers',
      'subscription',
      'tags',
      'teams',
      'trees',
    ].map((k) => [`${k}_url`, `${u}/${k}`]),
  );
  return {
    id: 1,
    node_id: 'R_1',
    name,
    full_name: full,
    owner: simpleUser(owner, 'User', baseUrl),
    private: true,
    html_url: `https://github.example/${full}`,
    description: null,
    fork: false,
    url: u,
    ...urls,
  };
}

export function teamJson(org: string, slug: string, members: number, baseUrl: string) {
  const id = [...`${org}/${slug}`].reduce((h, c) => (h * 31 + c.charCodeAt(0)) % 1_000_000, 11);
  const o = `${baseUrl}/orgs/${org}`;
  const t = `${baseUrl}/organizations/1/team/${id}`;
  return {
    id,
    node_id: `T_${id}`,
    url: t,
    members_url: `${t}/members{/member}`,
    name: slug,
    slug,
    description: null,
    privacy: 'closed',
    permission: 'pull',
    html_url: `https://github.example/orgs/${org}/teams/${slug}`,
    repositories_url: `${t}/repos`,
    type: 'organization',
    created_at: '2020-01-01T00:00:00Z',
    updated_at: '2020-01-01T00:00:00Z',
    members_count: members,
    repos_count: 0,
    organization: {
      login: org,
      id: 1,
      node_id: 'O_1',
      url: o,
      repos_url: `${o}/repos`,
      events_url: `${o}/events`,
      hooks_url: `${o}/hooks`,
      issues_url: `${o}/issues`,
      members_url: `${o}/members{/member}`,
      public_members_url: `${o}/public_members{/member}`,
      avatar_url: 'https://avatars.example/o/1',
      description: null,
      html_url: `https://github.example/${org}`,
      has_organization_projects: true,
      has_repository_projects: true,
      public_repos: 0,
      public_gists: 0,
      followers: 0,
      following: 0,
      type: 'Organization',
      created_at: '2020-01-01T00:00:00Z',
      updated_at: '2020-01-01T00:00:00Z',
      archived_at: null,
    },
  };
}
