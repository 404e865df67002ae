import { RequestError } from '@octokit/request-error';
import type { GitHubOctokit } from '../adapters/github-client.js';
import { errorMessage, TargetError } from '../model/errors.js';
import { FIXED_ROLES, type GithubRepoTarget, type GithubTeamTarget } from '../model/policy.js';
import type { Access, AccessChange, Target } from '../ports/target.js';
import { identityModel } from './identity-model.js';

const isStatus = (err: unknown, status: number) => err instanceof RequestError && err.status === status;

function wrap(target: string, what: string, err: unknown): TargetError {
  if (err instanceof TargetError) return err;
  // Octokit gives status 500 to a request that got no response at all (a timeout, a reset): only
  // an answer from GitHub has an HTTP status worth naming.
  const status = err instanceof RequestError && err.response ? ` (HTTP ${err.status})` : '';
  return new TargetError(`${what}${status}: ${err instanceof Error ? err.message : String(err)}`, target);
}

/**
 * A 404 on a revoking call is success only once a read shows the user holds nothing: GitHub also
 * answers 404 when the token may not see the team or repository, and then nothing was removed.
 * `heldBy` describes what the user still holds (undefined: nothing) and throws when it cannot tell.
 */
async function confirmRevoked(
  target: string,
  what: string,
  user: string,
  notFound: unknown,
  heldBy: () => Promise<string | undefined>,
): Promise<void> {
  const request = notFound instanceof RequestError ? notFound.request : undefined;
  const call = request ? `${request.method} ${new URL(request.url).pathname}` : 'the call';
  let held: string | undefined;
  try {
    held = await heldBy();
  } catch (err) {
    const status = err instanceof RequestError && err.response ? `HTTP ${err.status}: ` : '';
    throw new TargetError(
      `${what}: ${call} answered 404 and the read to confirm it failed: ${status}${errorMessage(err)}`,
      target,
    );
  }
  if (held !== undefined) {
    throw new TargetError(`${what}: ${call} answered 404 but ${user} still holds access (${held})`, target);
  }
}

/** Membership of one org team: `member` or `maintainer`. */
export class GithubTeamTargetAdapter implements Target {
  readonly nativeExpiry = false;
  readonly model = identityModel(FIXED_ROLES['github-team']);

  constructor(
    readonly config: GithubTeamTarget,
    private readonly octokit: GitHubOctokit,
  ) {}

  async observe(): Promise<Access[]> {
    const { org, team } = this.config;
    try {
      const list = async (role: 'member' | 'maintainer') =>
        (
          await this.octokit.paginate(this.octokit.rest.teams.listMembersInOrg, {
            org,
            team_slug: team,
            role,
            per_page: 100,
          })
        ).map((u) => ({ user: u.login, entitlement: role }));
      return [...(await list('maintainer')), ...(await list('member'))];
    } catch (err) {
      throw wrap(this.config.name, `list members of ${org}/${team}`, err);
    }
  }

  /** The token can read the team's members (one page of one: the check costs one request). */
  async check(): Promise<string[]> {
    const { org, team } = this.config;
    try {
      await this.octokit.rest.teams.listMembersInOrg({ org, team_slug: team, per_page: 1 });
      return [];
    } catch (err) {
      return [wrap(this.config.name, `the token cannot read the members of ${org}/${team}`, err).message];
    }
  }

  async grant(change: AccessChange): Promise<void> {
    try {
      await this.octokit.rest.teams.addOrUpdateMembershipForUserInOrg({
        org: this.config.org,
        team_slug: this.config.team,
        username: change.user,
        role: change.entitlement === 'maintainer' ? 'maintainer' : 'member',
      });
    } catch (err) {
      throw wrap(this.config.name, `add ${change.user} to ${this.config.org}/${this.config.team}`, err);
    }
  }

  async revoke(change: AccessChange): Promise<void> {
    const what = `remove ${change.user} from ${this.config.org}/${this.config.team}`;
    try {
      await this.octokit.rest.teams.removeMembershipForUserInOrg({
        org: this.config.org,
        team_slug: this.config.team,
        username: change.user,
      });
    } catch (err) {
      if (!isStatus(err, 404)) throw wrap(this.config.name, what, err);
      await confirmRevoked(this.config.name, what, change.user, err, () => this.membership(change.user));
    }
  }

  /** The user's role in the team (`pending` when the org invitation is unaccepted), if any. */
  private async membership(user: string): Promise<string | undefined> {
    const { org, team } = this.config;
    try {
      const { data } = await this.octokit.rest.teams.getMembershipForUserInOrg({
        org,
        team_slug: team,
        username: user,
      });
      return data.state === 'active' ? data.role : `${data.state} ${data.role}`;
    } catch (err) {
      if (!isStatus(err, 404)) throw err;
    }
    // "Not a member" and "no such team for this token" are the same 404: only a team the token can
    // see makes the first answer true.
    try {
      await this.octokit.rest.teams.getByName({ org, team_slug: team });
    } catch (err) {
      if (isStatus(err, 404)) throw new Error(`the token cannot see the team ${org}/${team}`);
      throw err;
    }
    return undefined;
  }
}

// GitHub names repo permissions two ways: role_name (read/write) and the API's pull/push.
const FROM_ROLE_NAME: Record<string, string> = {
  read: 'pull',
  write: 'push',
  triage: 'triage',
  maintain: 'maintain',
  admin: 'admin',
};

/** Collaborator permission on one repository, pending invitations included. */
export class GithubRepoTargetAdapter implements Target {
  readonly nativeExpiry = false;
  readonly model = identityModel(FIXED_ROLES['github-repo']);
  private readonly owner: string;
  private readonly repo: string;

  constructor(
    readonly config: GithubRepoTarget,
    private readonly octokit: GitHubOctokit,
  ) {
    [this.owner = '', this.repo = ''] = config.repo.split('/');
  }

  async observe(): Promise<Access[]> {
    try {
      const collaborators = await this.octokit.paginate(this.octokit.rest.repos.listCollaborators, {
        owner: this.owner,
        repo: this.repo,
        affiliation: 'direct',
        per_page: 100,
      });
      const invitations = await this.invitations();
      return [
        ...collaborators.map((c) => ({
          user: c.login,
          entitlement: permissionOf(c.role_name, c.permissions),
        })),
        ...invitations.map((i) => ({ user: i.login, entitlement: i.permission, pending: true })),
      ];
    } catch (err) {
      throw wrap(this.config.name, `list collaborators of ${this.config.repo}`, err);
    }
  }

  /** The token can read the collaborators and the invitations (the latter needs admin on the repo). */
  async check(): Promise<string[]> {
    const params = { owner: this.owner, repo: this.repo, per_page: 1 };
    const problems: string[] = [];
    try {
      await this.octokit.rest.repos.listCollaborators({ ...params, affiliation: 'direct' });
    } catch (err) {
      problems.push(
        wrap(this.config.name, `the token cannot read the collaborators of ${this.config.repo}`, err).message,
      );
    }
    try {
      await this.octokit.rest.repos.listInvitations(params);
    } catch (err) {
      problems.push(
        wrap(this.config.name, `the token cannot read the invitations of ${this.config.repo}`, err).message,
      );
    }
    return problems;
  }

  async grant(change: AccessChange): Promise<void> {
    try {
      await this.octokit.rest.repos.addCollaborator({
        owner: this.owner,
        repo: this.repo,
        username: change.user,
        permission: change.entitlement,
      });
    } catch (err) {
      throw wrap(this.config.name, `add ${change.user} to ${this.config.repo}`, err);
    }
  }

  async revoke(change: AccessChange): Promise<void> {
    const what = `remove ${change.user} from ${this.config.repo}`;
    try {
      // An unaccepted invitation is access waiting to happen: cancel it too.
      for (const inv of await this.invitations()) {
        if (inv.login.toLowerCase() === change.user.toLowerCase()) {
          await this.octokit.rest.repos.deleteInvitation({
            owner: this.owner,
            repo: this.repo,
            invitation_id: inv.id,
          });
        }
      }
      await this.octokit.rest.repos.removeCollaborator({
        owner: this.owner,
        repo: this.repo,
        username: change.user,
      });
    } catch (err) {
      if (!isStatus(err, 404)) throw wrap(this.config.name, what, err);
      await confirmRevoked(this.config.name, what, change.user, err, () => this.heldBy(change.user));
    }
  }

  /** What the user holds on the repository by observe's reading: a permission or an invitation. */
  private async heldBy(user: string): Promise<string | undefined> {
    const held = (await this.observe()).find((a) => a.user.toLowerCase() === user.toLowerCase());
    if (!held) return undefined;
    return held.pending ? `an invitation for ${held.entitlement}` : held.entitlement;
  }

  private async invitations(): Promise<{ id: number; login: string; permission: string }[]> {
    const list = await this.octokit.paginate(this.octokit.rest.repos.listInvitations, {
      owner: this.owner,
      repo: this.repo,
      per_page: 100,
    });
    return list
      .filter((i) => i.invitee?.login)
      .map((i) => ({
        id: i.id,
        login: i.invitee?.login ?? '',
        permission: FROM_ROLE_NAME[i.permissions] ?? i.permissions,
      }));
  }
}

function permissionOf(
  roleName: string | undefined,
  p: { admin?: boolean; maintain?: boolean; push?: boolean; triage?: boolean; pull?: boolean } | undefined,
): string {
  if (roleName && FROM_ROLE_NAME[roleName]) return FROM_ROLE_NAME[roleName];
  if (p?.admin) return 'admin';
  if (p?.maintain) return 'maintain';
  if (p?.push) return 'push';
  if (p?.triage) return 'triage';
  return 'pull';
}
