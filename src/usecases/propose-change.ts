import { errorMessage, GrantopsError } from '../model/errors.js';
import type {
  FoundPullRequest,
  OpenedPullRequestRef,
  ProposedFile,
  PullRequestOpener,
} from '../ports/pull-request-opener.js';

/** A change to propose as a pull request: the files it writes on the base, and what the PR says. */
export interface ChangeProposal {
  /** The branch to create, e.g. `grantops/request/vpn/alice-ops-20261128-1200`. */
  branch: string;
  base: { branch: string; commit: string };
  files: readonly ProposedFile[];
  commitMessage: string;
  title: string;
  body: string;
}

export type ProposalResult =
  | {
      /**
       * `opened`: branch and PR made now; `found`: both existed; `resumed`: the branch existed, the PR
       * is new; `moved`: grantops' own branch and PR existed on an older base, the branch now holds
       * the change on the base's tip (same PR).
       */
      outcome: 'opened' | 'found' | 'resumed' | 'moved';
      branch: string;
      commit: string;
      pullRequest: OpenedPullRequestRef;
      /**
       * `found` or `moved` only: the pull request's title or body was not this change's `title` and
       * `body`, and both were set to them (its author's login may be shared: see ownText).
       */
      textReplaced: boolean;
    }
  | { outcome: 'taken'; branch: string };

/**
 * Opens a pull request for `change` through GitHub's API, at most once: a second run finds the
 * branch and its pull request instead of making new ones, and a run that stopped between the two
 * (branch made, PR not) is finished by the next. An existing branch is this proposal only when its
 * tip is exactly these files written on the base (anyone who can push could have made a branch of
 * that name: its content, not its name, says what it is); otherwise the name is `taken` and the
 * caller picks the next one. Likewise an open pull request from it counts only when grantops' own
 * identity opened it on that very commit. When a step fails, the error says what exists.
 */
export async function proposeChange(
  change: ChangeProposal,
  github: PullRequestOpener,
): Promise<ProposalResult> {
  const { branch, base } = change;
  const taken = { outcome: 'taken', branch } as const;
  let commit = await github.branchTip(branch);
  let outcome: 'opened' | 'resumed' = 'resumed';
  if (commit !== undefined) {
    if (!(await github.holdsExactly(commit, base.commit, change.files)))
      return (await moveOwnBranch(change, github, commit)) ?? taken;
  } else {
    const made = await github.commitFiles(base.commit, change.files, change.commitMessage);
    if (await github.createBranch(branch, made)) {
      commit = made;
      outcome = 'opened';
    } else {
      // Another run made the branch between our look and our create: judge what it holds.
      commit = await github.branchTip(branch);
      if (commit === undefined) throw new GrantopsError(`branch ${branch} exists and vanished at once`, 1);
      if (!(await github.holdsExactly(commit, base.commit, change.files))) return taken;
    }
  }
  const open = await github.openPullRequests(branch, base.branch);
  if (open.length > 0) {
    const me = (await github.identity()).toLowerCase();
    const ours = open.find((p) => p.author.toLowerCase() === me && p.headSha === commit);
    // Someone else's pull request from this branch is not ours to vouch for, and GitHub allows
    // one open pull request per head and base: the name is taken.
    if (!ours) return taken;
    const textReplaced = await ownText(change, github, ours);
    return {
      outcome: 'found',
      branch,
      commit,
      pullRequest: { number: ours.number, url: ours.url },
      textReplaced,
    };
  }
  try {
    const pullRequest = await github.createPullRequest(branch, base.branch, change.title, change.body);
    return { outcome, branch, commit, pullRequest, textReplaced: false };
  } catch (err) {
    throw new GrantopsError(
      `branch ${branch} ${outcome === 'opened' ? 'was created' : 'exists'} at ${commit.slice(0, 12)} in ${github.slug}, but the pull request into ${base.branch} could not be opened (${errorMessage(err)}); run the same command again to open it from that branch, or delete the branch`,
      1,
    );
  }
}

/**
 * The rerun after the base moved: the branch is moved onto the base's tip, keeping its pull request,
 * only when it is wholly grantops' own: grantops' login opened its open pull request on this very
 * tip, and the branch has one commit the base has not, authored by that login, holding exactly these
 * files on a commit of the base. Anything else (a commit pushed by someone, another change, another's
 * pull request) leaves the branch as it is: undefined, and the caller takes the next name.
 */
async function moveOwnBranch(
  change: ChangeProposal,
  github: PullRequestOpener,
  tip: string,
): Promise<ProposalResult | undefined> {
  const me = (await github.identity()).toLowerCase();
  const open = await github.openPullRequests(change.branch, change.base.branch);
  const ours = open.find((p) => p.author.toLowerCase() === me && p.headSha === tip);
  if (!ours || open.length !== 1) return undefined;
  const since = await github.commitsSince(change.base.commit, tip);
  const only = since.commits[0];
  if (since.aheadBy !== 1 || since.commits.length !== 1 || only?.sha !== tip) return undefined;
  const parent = only.parents.length === 1 ? only.parents[0] : undefined;
  if (parent === undefined || only.author?.toLowerCase() !== me) return undefined;
  if (!(await github.holdsExactly(tip, parent, change.files))) return undefined;
  const commit = await github.commitFiles(change.base.commit, change.files, change.commitMessage);
  // GitHub has no compare-and-swap on refs: a push landing between the checks and this update is
  // lost, a window of one request (the branch is grantops' own, named for this very change).
  await github.moveBranch(change.branch, commit);
  return {
    outcome: 'moved',
    branch: change.branch,
    commit,
    pullRequest: { number: ours.number, url: ours.url },
    textReplaced: await ownText(change, github, ours),
  };
}

/**
 * Makes a pull request grantops vouches for say what grantops would write for this change now:
 * under GITHUB_TOKEN its login is `github-actions[bot]`, which any workflow a writer runs also is,
 * so a pull request "grantops opened" may carry a writer's title and body, which reviewers read as
 * grantops' plan. Both are set when either differs (true); nothing is sent when both match.
 */
async function ownText(change: ChangeProposal, github: PullRequestOpener, pull: FoundPullRequest) {
  if (pull.title === change.title && pull.body === change.body) return false;
  try {
    await github.updatePullRequest(pull.number, change.title, change.body);
  } catch (err) {
    throw new GrantopsError(
      `pull request #${pull.number} from ${change.branch} in ${github.slug} holds this change, but its title or body is not grantops' and could not be replaced (${errorMessage(err)}); run the same command again, or close it`,
      1,
    );
  }
  return true;
}
