/**
 * The in-memory model behind the local GitHub server: teams, collaborators and invitations, pull
 * requests, trees, issues and their comments, and which users exist. Tests read and seed it
 * directly through the FakeGitHub that extends it; the route handlers change it.
 */
export interface StoredComment {
  id: number;
  body: string;
  user: string;
  userType: 'User' | 'Bot';
  created_at: string;
  updated_at: string;
}

export interface FakePull {
  number: number;
  author: string;
  headSha: string;
  headRef?: string;
  mergeCommitSha: string;
  mergedAt: string;
  /** Commits whose associated PRs include this one (the merge commit at least). */
  commits: string[];
  reviews: { user: string; state: string; commitId: string }[];
  /**
   * Who GitHub says authored and committed each commit (login, or null for an email that is no
   * account's); a commit not listed was written and committed by the PR's author.
   */
  commitAuthors?: Record<string, { author: string | null; committer: string | null }>;
}

export interface FakeOpenPull {
  number: number;
  head: string;
  base: string;
  title: string;
  body: string;
  state: 'open' | 'closed';
  /** Who opened it: the token's actor when opened through the API; a test may seed another. */
  author?: string;
}

export interface FakeIssue {
  number: number;
  title: string;
  body: string;
  state: 'open' | 'closed';
  labels: string[];
  /** Who opened it and when; defaults: github-actions[bot] (a Bot), 2026-11-28T00:00:00Z. */
  user?: string;
  userType?: 'User' | 'Bot';
  created_at?: string;
}

export interface TeamMember {
  login: string;
  role: 'member' | 'maintainer';
}
export interface Collaborator {
  login: string;
  permission: string;
}
export interface Invitation {
  id: number;
  login: string;
  permission: string;
}

let lastId = 999;

/** Ids for invitations and comments, unique in the process. */
export function nextId(): number {
  return ++lastId;
}

export class GitHubState {
  /** Comments by `owner/repo#number`. */
  readonly comments = new Map<string, StoredComment[]>();
  /** Team members by `org/slug`, keyed by lower-case login. */
  readonly teams = new Map<string, Map<string, TeamMember>>();
  /** Direct collaborators by `owner/repo`, keyed by lower-case login; permission is pull..admin. */
  readonly collaborators = new Map<string, Map<string, Collaborator>>();
  readonly invitations = new Map<string, Invitation[]>();
  /** Pull requests by `owner/repo`. */
  readonly pulls = new Map<string, FakePull[]>();
  /** Trees by commit sha: path -> blob sha. */
  readonly trees = new Map<string, Map<string, string>>();
  /** Pull requests opened through the API (the reaper's cleanup PR), by `owner/repo`. */
  readonly openPulls = new Map<string, FakeOpenPull[]>();
  /** Issues by `owner/repo`. */
  readonly issues = new Map<string, FakeIssue[]>();
  /**
   * Bare git repositories by `owner/repo`: the Git Data API (refs, commits, trees, blobs), the
   * repository's default branch (its HEAD) and the branches pull requests are opened from.
   */
  readonly gitRepos = new Map<string, string>();
  /** Logins that do not exist on this GitHub (looking them up answers 404, adding them 422). */
  readonly unknownUsers = new Set<string>();
  /** What `issues/create` stamps as created_at; undefined: the real clock (tests pin it to `--now`). */
  issueClock: (() => string) | undefined;
  /** The login that made each commit through `git/create-commit` (the compare API's `author`). */
  readonly apiCommitAuthors = new Map<string, string>();
  /** Account ids by login (lower case), where a test renames and re-registers a login. */
  readonly accountIds = new Map<string, number>();

  team(slug: string): Map<string, TeamMember> {
    let t = this.teams.get(slug);
    if (!t) this.teams.set(slug, (t = new Map<string, TeamMember>()));
    return t;
  }

  repoCollaborators(repo: string): Map<string, Collaborator> {
    let c = this.collaborators.get(repo);
    if (!c) this.collaborators.set(repo, (c = new Map<string, Collaborator>()));
    return c;
  }

  repoInvitations(repo: string): Invitation[] {
    let c = this.invitations.get(repo);
    if (!c) this.invitations.set(repo, (c = []));
    return c;
  }

  repoPulls(repo: string): FakePull[] {
    let c = this.pulls.get(repo);
    if (!c) this.pulls.set(repo, (c = []));
    return c;
  }

  repoIssues(repo: string): FakeIssue[] {
    let c = this.issues.get(repo);
    if (!c) this.issues.set(repo, (c = []));
    return c;
  }

  /** The invitee accepts: the invitation becomes a collaborator. */
  acceptInvitation(repo: string, login: string): void {
    const list = this.repoInvitations(repo);
    const i = list.findIndex((x) => x.login.toLowerCase() === login.toLowerCase());
    if (i < 0) throw new Error(`no invitation for ${login}`);
    const [inv] = list.splice(i, 1);
    this.repoCollaborators(repo).set(login.toLowerCase(), { login: inv!.login, permission: inv!.permission });
  }

  commentsOn(repo: string, issue: number): StoredComment[] {
    const key = `${repo}#${issue}`;
    let list = this.comments.get(key);
    if (!list) this.comments.set(key, (list = []));
    return list;
  }
}
