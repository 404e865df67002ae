import { errorMessage } from '../model/errors.js';
import { GRANTS_DIR, type Grant } from '../model/grant.js';
import type { Role } from '../model/policy.js';
import type { EvidenceSigner } from '../policy/evidence-signature.js';
import { loadPolicies, type LoadedPolicies } from '../policy/load.js';
import type { SchemaRegistry } from '../policy/schema-registry.js';
import {
  approverTeams,
  evaluateApproval,
  parseApprovalNote,
  type ApprovalEvidence,
  type ApprovalNote,
  type ApprovalVerdict,
  type ApprovalVerifier,
  type PullRequestCommit,
  type PullRequestFacts,
  type Review,
} from '../policy/approval.js';
import { mapLimited } from '../apply/run-limited.js';
import { checkRetroReviews, editNotUse, judgeUse, mayBeUse, pickReview } from './break-glass.js';
import { cached, durationProblem, refused, samePolicy, undecided } from './approval-verdicts.js';
import type { Clock } from '../ports/clock.js';
import type { EvidenceRepo } from '../ports/git.js';
import type { AccessRepoGitHub } from '../ports/access-repo.js';
import { maxTotalVerdicts } from './extension-check.js';

interface Introduced {
  grant: Grant;
  role: Role;
  commit: string;
  blob: string;
  landedAt: number | undefined;
  added: boolean;
  /** What an earlier run recorded for this grant on that commit (a record, never proof). */
  recorded: ApprovalEvidence | undefined;
}

export interface ApprovalFinderOptions {
  /** GitHub requests in flight at once. */
  concurrency?: number;
  /**
   * Accept evidence recorded in refs/notes/grantops without asking GitHub. Only for deciding what
   * access to *keep* (the reaper, `status --observe`): anyone who can push can write a note, so a
   * note never grants anything.
   */
  trustNotes?: boolean;
  /** Signs new evidence (apply's evidence key), so that `audit --verify` can tell it from a forgery. */
  signer?: EvidenceSigner;
  /**
   * Checks a recorded note's signature (the evidence key's public half). When given, a note that does
   * not verify is ignored: it neither keeps access nor pins an account id.
   */
  verifyEvidence?: (grantId: string, evidence: ApprovalEvidence) => boolean;
  /**
   * Where break-glass retro reviews are read when the finder has no GitHub of its own (the reaper,
   * which keeps access on notes but must see a review on GitHub to keep a break-glass grant).
   */
  reviewsOn?: AccessRepoGitHub;
}

/**
 * Decides, for each grant, whether reviewer approval is in place, from sources a writer of the repo
 * cannot forge: the first-parent commit that brought its file, the policy at that commit's first
 * parent (the PR's base: a PR cannot loosen the rule that judges it), and on GitHub the merged PR,
 * its reviews on the final head, team memberships, the file at the reviewed head and the login's
 * account id. Evidence found is written back as notes by `recordEvidence`, for auditors.
 */
export class ApprovalFinder implements ApprovalVerifier {
  private readonly prs = new Map<string, Promise<PullRequestFacts | undefined>>();
  private readonly reviews = new Map<number, Promise<Review[]>>();
  private readonly commits = new Map<number, Promise<PullRequestCommit[]>>();
  private readonly trees = new Map<string, Promise<Map<string, string> | undefined>>();
  private readonly members = new Map<string, Promise<boolean>>();
  private readonly accounts = new Map<string, Promise<number | undefined>>();
  private readonly policies = new Map<string, Promise<LoadedPolicies | undefined>>();
  private readonly concurrency: number;
  /** Evidence found in this run, by commit, to be written as notes. */
  readonly newEvidence = new Map<string, Record<string, ApprovalEvidence>>();

  constructor(
    private readonly git: EvidenceRepo,
    private readonly github: AccessRepoGitHub | undefined,
    private readonly clock: Pick<Clock, 'now'>,
    private readonly registry: SchemaRegistry,
    private readonly options: ApprovalFinderOptions = {},
  ) {
    this.concurrency = options.concurrency ?? 16;
  }

  async verify(grants: readonly Grant[]): Promise<Map<string, ApprovalVerdict>> {
    const out = new Map<string, ApprovalVerdict>();
    // Every read below is per commit or per tree, never per grant: a bulk import brings thousands
    // of grants in one commit (a lookup or a note parse per grant made apply quadratic in them).
    const introduced = await this.git.introducingCommits(
      grants.map((g) => g.file),
      [GRANTS_DIR],
    );
    const onMain =
      introduced.size > 0 ? await this.git.blobsAt('HEAD', GRANTS_DIR) : new Map<string, string>();
    const notes = new Map<string, ApprovalNote | undefined>();
    const commits = [...new Set([...introduced.values()].map((i) => i.commit))];
    for (const [commit, text] of await this.git.readNotes(commits))
      notes.set(commit, parseApprovalNote(text));
    const sameAtCommit = new Map<string, boolean | undefined>();
    let items: Introduced[] = [];
    for (const grant of grants) {
      const found = introduced.get(grant.file);
      if (!found) {
        out.set(grant.id, refused('the grant file is not committed on this branch'));
        continue;
      }
      const { commit, blob } = found;
      const base = await this.policiesAt(`${commit}^1`);
      const role = base?.byTarget.get(grant.target)?.policy.roles.get(grant.role);
      if (!role) {
        out.set(
          grant.id,
          refused(
            base
              ? `the policy at the base of ${commit.slice(0, 7)} (its first parent) offers no role ${grant.role} on target ${grant.target}: a pull request is judged by the rules it was opened against`
              : `commit ${commit.slice(0, 7)} has no first parent to read the policy from`,
          ),
        );
        continue;
      }
      const tooLong = durationProblem(grant, role, commit, this.clock.now());
      if (tooLong) {
        out.set(grant.id, refused(tooLong));
        continue;
      }
      const key = `${commit}\u0000${grant.target}`;
      if (!sameAtCommit.has(key)) {
        const atCommit = await this.policiesAt(commit);
        sameAtCommit.set(
          key,
          samePolicy(base?.byTarget.get(grant.target)?.policy, atCommit?.byTarget.get(grant.target)?.policy),
        );
      }
      if (sameAtCommit.get(key) === false) {
        out.set(
          grant.id,
          refused(
            `the commit that brought it (${commit.slice(0, 7)}) also changed the policy of target ${grant.target}: a policy change lands on its own first, so no grant rides on the rule it brings`,
          ),
        );
        continue;
      }
      if (blob !== onMain.get(grant.file)) {
        out.set(grant.id, refused(`the file on main is not the one commit ${commit.slice(0, 7)} brought`));
        continue;
      }
      const note = notes.get(commit)?.grants[grant.id];
      const genuine =
        note &&
        note.blob === blob &&
        (!this.options.verifyEvidence || this.options.verifyEvidence(grant.id, note));
      items.push({
        grant,
        role,
        commit,
        blob,
        landedAt: found.landedAt,
        added: found.added === true,
        recorded: genuine ? note : undefined,
      });
    }
    // A role's maxTotal, for every grant on it, from the file's history on main (extension-check.ts).
    const capped = await maxTotalVerdicts(this.git, items, this.clock.now());
    for (const [id, v] of capped) out.set(id, v);
    if (capped.size > 0) items = items.filter((i) => !capped.has(i.grant.id));
    if (this.github) {
      // Fetch each PR's facts once, all PRs concurrently; grants of one PR then share them.
      const pending = new Set(items.filter((i) => !this.trusted(i)).map((i) => i.commit));
      await mapLimited([...pending], this.concurrency, async (commit) => {
        const pr = await this.pullRequestFor(commit);
        if (!pr) return;
        await Promise.all([this.reviewsOf(pr.number), this.commitsOf(pr.number), this.treeAt(pr.headSha)]);
      });
    }
    const results = await mapLimited(items, this.concurrency, (item) => this.verifyOne(item));
    results.forEach((r, i) => {
      const item = items[i]!;
      const v = r.ok ? r.value : undecided(`approval could not be checked: ${errorMessage(r.error)}`);
      // Refused now, approved (and so applied) before: what it gave is to be taken back.
      const withdrawn = !v.approved && !v.undecided && item.recorded !== undefined;
      out.set(item.grant.id, withdrawn ? { ...v, wasApproved: true } : v);
    });
    const gh = this.github ?? this.options.reviewsOn;
    await checkRetroReviews(items, out, {
      now: this.clock.now(),
      ...(gh ? { github: gh } : {}),
      isMember: (team, user) => this.isMember(team, user, gh),
      record: (item, e) => this.addEvidence(item.commit, item.grant.id, e),
      ...(this.options.signer ? { signer: this.options.signer } : {}),
    });
    return out;
  }

  /** Recorded evidence accepted as it is: only when keeping access, never when granting. */
  private trusted(item: Introduced): ApprovalEvidence | undefined {
    const r = item.recorded;
    const enough =
      r && (r.approvers.length >= item.role.approvals || (r.breakGlass !== undefined && mayBeUse(item)));
    return this.options.trustNotes && enough ? r : undefined;
  }

  /**
   * The policies at a revision: `<sha>^1` is what a pull request was judged by (its base), `<sha>`
   * what it left behind. Undefined when the revision does not exist (a root commit has no parent).
   */
  private policiesAt(rev: string): Promise<LoadedPolicies | undefined> {
    return cached(this.policies, rev, async () => {
      try {
        return await loadPolicies(
          this.git.treeAt(rev, rev.replace(/^([0-9a-f]{7})[0-9a-f]*/, '$1')),
          this.registry,
        );
      } catch {
        return undefined;
      }
    });
  }

  private async verifyOne(item: Introduced): Promise<ApprovalVerdict> {
    const trusted = this.trusted(item);
    if (trusted) return { approved: true, evidence: trusted, source: 'notes' };
    if (!this.github) {
      return undecided(
        'approval is verified with GitHub and no token was given (a note in refs/notes/grantops is a record anyone who can push could write, not proof)',
      );
    }
    const pr = await this.pullRequestFor(item.commit);
    const reviews = pr ? await this.reviewsOf(pr.number) : [];
    const commits = pr ? await this.commitsOf(pr.number) : [];
    const headBlob = pr ? (await this.treeAt(pr.headSha))?.get(item.grant.file) : undefined;
    const teams = approverTeams(item.role);
    const membership = new Map<string, boolean>();
    for (const r of reviews) {
      if (r.state !== 'APPROVED') continue;
      for (const team of teams)
        membership.set(`${team}\u0000${r.user.toLowerCase()}`, await this.isMember(team, r.user));
    }
    const verdict = evaluateApproval({
      grant: item.grant,
      role: item.role,
      ...(pr ? { pr } : {}),
      reviews,
      commits,
      headMatchesMerged: headBlob !== undefined && headBlob === item.blob,
      isMember: (team, user) => membership.get(`${team}\u0000${user.toLowerCase()}`) === true,
    });
    // Not approved before merge: applied without approval only as an allowed break-glass use.
    const use =
      !verdict.ok && pr && mayBeUse(item)
        ? await judgeUse(item, pr, headBlob === item.blob, this.clock.now(), (t, u) => this.isMember(t, u))
        : undefined;
    if (use && !use.ok) return refused(`${verdict.reason ?? 'not approved'}; ${use.reason}`, pr!.number);
    const breakGlass = use?.ok ? use.use : undefined;
    if ((!verdict.ok && !breakGlass) || !pr) {
      return {
        approved: false,
        reason: `${verdict.reason ?? 'not approved'}${verdict.ok ? '' : editNotUse(item)}`,
        approvers: verdict.approvers,
        ...(pr ? { pr: pr.number } : {}),
      };
    }
    // Identity is the account, not the login: a login renamed and re-registered by someone else
    // must not inherit the grant.
    const userId = await this.accountOf(item.grant.user);
    if (userId === undefined) {
      return refused(`no GitHub account is called ${item.grant.user}`, pr.number);
    }
    const pinned = item.recorded?.userId;
    if (pinned !== undefined && pinned !== userId) {
      return refused(
        `the login ${item.grant.user} now belongs to another GitHub account (id ${userId}; the grant was approved for id ${pinned})`,
        pr.number,
      );
    }
    const evidence: ApprovalEvidence = {
      pr: pr.number,
      headSha: pr.headSha,
      approvers: verdict.approvers,
      commit: item.commit,
      blob: item.blob,
      userId,
      verifiedAt: this.clock.now().toISOString(),
      ...(breakGlass ? { breakGlass: { ...breakGlass, ...pickReview(item.recorded) } } : {}),
    };
    const same =
      item.recorded &&
      item.recorded.pr === evidence.pr &&
      item.recorded.headSha === evidence.headSha &&
      item.recorded.userId === userId &&
      item.recorded.approvers.join() === evidence.approvers.join() &&
      item.recorded.breakGlass?.author === evidence.breakGlass?.author &&
      (!this.options.signer || item.recorded.signature !== undefined);
    if (!same) {
      const signed = this.options.signer
        ? { ...evidence, signature: this.options.signer.sign(item.grant.id, evidence) }
        : evidence;
      this.addEvidence(item.commit, item.grant.id, signed);
      return { approved: true, evidence: signed, source: 'github' };
    }
    return { approved: true, evidence: item.recorded!, source: 'github' };
  }

  /**
   * Approval so far on an open pull request, for the plan comment on review events: the same rule
   * as at apply time, on the PR's current head.
   */
  async progressOnPullRequest(
    pr: PullRequestFacts,
    grants: readonly Grant[],
    roles: (g: Grant) => Role | undefined,
  ): Promise<Map<string, { approvers: string[]; required: number; ok: boolean }>> {
    const [reviews, commits] = await Promise.all([this.reviewsOf(pr.number), this.commitsOf(pr.number)]);
    const out = new Map<string, { approvers: string[]; required: number; ok: boolean }>();
    for (const grant of grants) {
      const role = roles(grant);
      if (!role) continue;
      const membership = new Map<string, boolean>();
      for (const r of reviews) {
        if (r.state !== 'APPROVED') continue;
        for (const team of approverTeams(role))
          membership.set(`${team}\u0000${r.user.toLowerCase()}`, await this.isMember(team, r.user));
      }
      const v = evaluateApproval({
        grant,
        role,
        pr,
        reviews,
        commits,
        headMatchesMerged: true,
        isMember: (team, user) => membership.get(`${team}\u0000${user.toLowerCase()}`) === true,
      });
      out.set(grant.id, { approvers: v.approvers, required: role.approvals, ok: v.ok });
    }
    return out;
  }

  /** Writes new evidence as notes and pushes them; a rejected push is retried on fresh notes. */
  async recordEvidence(remote: string | undefined, attempts = 3): Promise<number> {
    if (this.newEvidence.size === 0) return 0;
    for (let attempt = 1; ; attempt++) {
      if (remote) await this.git.fetchNotes(remote);
      const current = await this.git.readNotes([...this.newEvidence.keys()]);
      const notes = new Map<string, string>();
      for (const [commit, grants] of this.newEvidence) {
        const existing = parseApprovalNote(current.get(commit));
        const note: ApprovalNote = { grantops: 1, grants: { ...(existing?.grants ?? {}), ...grants } };
        notes.set(commit, `${JSON.stringify(note, null, 2)}\n`);
      }
      await this.git.writeNotes(notes, this.clock.now());
      if (!remote) return this.newEvidence.size;
      try {
        await this.git.pushNotes(remote);
        return this.newEvidence.size;
      } catch (err) {
        // Another run pushed notes meanwhile: fetch theirs, re-add ours, push again.
        if (attempt >= attempts) throw err;
      }
    }
  }

  /** Evidence to write as a note (added in place: a copy per grant was quadratic in its grants). */
  private addEvidence(commit: string, grantId: string, evidence: ApprovalEvidence): void {
    let found = this.newEvidence.get(commit);
    if (!found) this.newEvidence.set(commit, (found = {}));
    found[grantId] = evidence;
  }

  private pullRequestFor(commit: string): Promise<PullRequestFacts | undefined> {
    return cached(this.prs, commit, () => this.github!.pullRequestForCommit(commit));
  }

  private reviewsOf(pr: number): Promise<Review[]> {
    return cached(this.reviews, pr, () => this.github!.reviews(pr));
  }

  private commitsOf(pr: number): Promise<PullRequestCommit[]> {
    return cached(this.commits, pr, () => this.github!.pullRequestCommits(pr));
  }

  /** Blob ids of the files at a commit of the PR (one call per PR head). */
  private treeAt(sha: string): Promise<Map<string, string> | undefined> {
    return cached(this.trees, sha, () => this.github!.fileBlobs(sha));
  }

  private accountOf(login: string): Promise<number | undefined> {
    return cached(this.accounts, login.toLowerCase(), () => this.github!.userId(login));
  }

  private isMember(team: string, user: string, gh = this.github): Promise<boolean> {
    return cached(this.members, `${team}\u0000${user.toLowerCase()}`, () => gh!.isTeamMember(team, user));
  }
}
