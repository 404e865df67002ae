import { errorMessage, GrantopsError } from '../model/errors.js';
import type { OpenedPullRequestRef, ProposedFile, PullRequestOpener } from '../ports/pull-request-opener.js';

/** A change to propose as a pull request: the files it writes on the base, and what the PR says. */
export interface ChangeProposal {
  /** The branch to create, e.g. `grantops/request/vpn/alice-ops-20261128-1200`. */
  branch: string;
  base: { branch: string; commit: string };
  files: readonly ProposedFile[];
  commitMessage: string;
  title: string;
  body: string;
  /**
   * What an existing branch of this name means. `same-files`: it is this proposal only when it
   * already holds exactly these files (an earlier run of the same request), otherwise the name is
   * `taken`. `reuse`: it is this proposal whatever it holds (one branch per issue).
   */
  existing: 'same-files' | 'reuse';
}

export type ProposalResult =
  | {
      /** `opened`: branch and PR made now; `found`: both existed; `resumed`: the branch existed, the PR is new. */
      outcome: 'opened' | 'found' | 'resumed';
      branch: string;
      commit: string;
      pullRequest: OpenedPullRequestRef;
    }
  | { outcome: 'taken'; branch: string };

/**
 * Opens a pull request for `change` through GitHub's API, at most once: a second run finds the
 * branch and its pull request instead of making new ones, and a run that stopped between the two
 * (branch made, PR not) is finished by the next. When a step fails, the error says what exists.
 */
export async function proposeChange(
  change: ChangeProposal,
  github: PullRequestOpener,
): Promise<ProposalResult> {
  const { branch, base } = change;
  let commit = await github.branchTip(branch);
  let outcome: 'opened' | 'resumed' = 'resumed';
  if (commit !== undefined) {
    if (change.existing === 'same-files' && !(await holds(github, commit, change.files))) {
      return { outcome: 'taken', branch };
    }
  } else {
    const made = await github.commitFiles(base.commit, change.files, change.commitMessage);
    if (await github.createBranch(branch, made)) {
      commit = made;
      outcome = 'opened';
    } else {
      // Another run made the branch between our look and our create: judge what it holds.
      commit = await github.branchTip(branch);
      if (commit === undefined) throw new GrantopsError(`branch ${branch} exists and vanished at once`, 1);
      if (change.existing === 'same-files' && !(await holds(github, commit, change.files)))
        return { outcome: 'taken', branch };
    }
  }
  const open = await github.openPullRequests(branch, base.branch);
  if (open[0]) return { outcome: 'found', branch, commit, pullRequest: open[0] };
  try {
    const pullRequest = await github.createPullRequest(branch, base.branch, change.title, change.body);
    return { outcome, branch, commit, pullRequest };
  } catch (err) {
    throw new GrantopsError(
      `branch ${branch} ${outcome === 'opened' ? 'was created' : 'exists'} at ${commit.slice(0, 12)} in ${github.slug}, but the pull request into ${base.branch} could not be opened (${errorMessage(err)}); run the same command again to open it from that branch, or delete the branch`,
      1,
    );
  }
}

/** Whether `commit` holds exactly these texts at these paths (an earlier run of the same request). */
async function holds(
  github: PullRequestOpener,
  commit: string,
  files: readonly ProposedFile[],
): Promise<boolean> {
  const tree = github.treeAt(commit, commit.slice(0, 12));
  for (const f of files) {
    const want = Buffer.from(f.text, 'utf8');
    let got: Uint8Array | { tooLarge: number };
    try {
      got = await tree.read(f.path, want.length);
    } catch {
      return false;
    }
    if (!(got instanceof Uint8Array) || !Buffer.from(got).equals(want)) return false;
  }
  return true;
}
