import { errorMessage } from '../model/errors.js';
import { GRANTS_DIR, type Grant } from '../model/grant.js';
import type { Role } from '../model/policy.js';
import {
  approverTeams,
  evaluateApproval,
  parseApprovalNote,
  type ApprovalEvidence,
  type ApprovalNote,
  type ApprovalVerdict,
  type ApprovalVerifier,
  type PullRequestFacts,
  type Review,
} from '../policy/approval.js';
import { mapLimited } from '../apply/run-limited.js';
import type { Clock } from '../ports/clock.js';
import type { EvidenceRepo } from '../ports/git.js';
import type { AccessRepoGitHub } from '../ports/github.js';

interface Introduced {
  grant: Grant;
  role: Role;
  commit: string;
  blob: string;
  /** The grantops note on the commit, if any. */
  note: string | undefined;
}

/**
 * Finds each grant's evidence: the first-parent commit that brought its file, the evidence already
 * recorded in refs/notes/grantops for it, or else (with GitHub) the merged PR, its reviews, team
 * memberships and the file at the PR's head. New evidence is written back as notes by `recordEvidence`.
 */
export class ApprovalFinder implements ApprovalVerifier {
  private readonly prs = new Map<string, Promise<PullRequestFacts | undefined>>();
  private readonly reviews = new Map<number, Promise<Review[]>>();
  private readonly trees = new Map<string, Promise<Map<string, string> | undefined>>();
  private readonly members = new Map<string, Promise<boolean>>();
  /** Evidence found in this run, by commit, to be written as notes. */
  readonly newEvidence = new Map<string, Record<string, ApprovalEvidence>>();

  constructor(
    private readonly git: EvidenceRepo,
    private readonly github: AccessRepoGitHub | undefined,
    private readonly clock: Pick<Clock, 'now'>,
    private readonly concurrency = 16,
  ) {}

  async verify(
    grants: readonly Grant[],
    roles: (g: Grant) => Role | undefined,
  ): Promise<Map<string, ApprovalVerdict>> {
    const out = new Map<string, ApprovalVerdict>();
    const commits = await this.git.introducingCommits(
      grants.map((g) => g.file),
      [GRANTS_DIR],
    );
    const items: Introduced[] = [];
    const specs: string[] = [];
    for (const grant of grants) {
      const commit = commits.get(grant.file);
      if (commit) specs.push(`${commit}:${grant.file}`);
    }
    const blobs = await this.git.resolveMany(specs);
    const notes = await this.git.readNotes([...new Set(commits.values())]);
    for (const grant of grants) {
      const role = roles(grant);
      const commit = commits.get(grant.file);
      if (!role) continue;
      if (!commit) {
        out.set(grant.id, {
          approved: false,
          reason: 'the grant file is not committed on this branch',
          approvers: [],
        });
        continue;
      }
      const blob = blobs.get(`${commit}:${grant.file}`) ?? '';
      items.push({ grant, role, commit, blob, note: notes.get(commit) });
    }
    if (this.github) {
      // Fetch each PR's facts once, all PRs concurrently; grants of one PR then share them.
      const pending = new Set(items.filter((i) => !this.recorded(i)).map((i) => i.commit));
      await mapLimited([...pending], this.concurrency, async (commit) => {
        const pr = await this.pullRequestFor(commit);
        if (!pr) return;
        await this.reviewsOf(pr.number);
        await this.treeAt(pr.headSha);
      });
    }
    const results = await mapLimited(items, this.concurrency, (item) => this.verifyOne(item));
    results.forEach((r, i) => {
      const item = items[i]!;
      out.set(
        item.grant.id,
        r.ok
          ? r.value
          : {
              approved: false,
              reason: `approval could not be checked: ${errorMessage(r.error)}`,
              approvers: [],
            },
      );
    });
    return out;
  }

  /** Evidence recorded earlier that still holds: same file content, still enough approvers. */
  private recorded(item: Introduced): ApprovalEvidence | undefined {
    const recorded = parseApprovalNote(item.note)?.grants[item.grant.id];
    return recorded && recorded.blob === item.blob && recorded.approvers.length >= item.role.approvals
      ? recorded
      : undefined;
  }

  private async verifyOne(item: Introduced): Promise<ApprovalVerdict> {
    const recorded = this.recorded(item);
    if (recorded) return { approved: true, evidence: recorded, source: 'notes' };
    if (!this.github) {
      return {
        approved: false,
        reason: 'no approval evidence recorded in refs/notes/grantops, and no GitHub token to look it up',
        approvers: [],
      };
    }
    const pr = await this.pullRequestFor(item.commit);
    const reviews = pr ? await this.reviewsOf(pr.number) : [];
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
      headMatchesMerged: headBlob !== undefined && headBlob === item.blob,
      isMember: (team, user) => membership.get(`${team}\u0000${user.toLowerCase()}`) === true,
    });
    if (!verdict.ok || !pr) {
      return {
        approved: false,
        reason: verdict.reason ?? 'not approved',
        approvers: verdict.approvers,
        ...(pr ? { pr: pr.number } : {}),
      };
    }
    const evidence: ApprovalEvidence = {
      pr: pr.number,
      headSha: pr.headSha,
      approvers: verdict.approvers,
      commit: item.commit,
      blob: item.blob,
      verifiedAt: this.clock.now().toISOString(),
    };
    this.newEvidence.set(item.commit, {
      ...(this.newEvidence.get(item.commit) ?? {}),
      [item.grant.id]: evidence,
    });
    return { approved: true, evidence, source: 'github' };
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
    const reviews = await this.reviewsOf(pr.number);
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

  private pullRequestFor(commit: string): Promise<PullRequestFacts | undefined> {
    return cached(this.prs, commit, () => this.github!.pullRequestForCommit(commit));
  }

  private reviewsOf(pr: number): Promise<Review[]> {
    return cached(this.reviews, pr, () => this.github!.reviews(pr));
  }

  /** Blob ids of the files at a commit of the PR (one call per PR head). */
  private treeAt(sha: string): Promise<Map<string, string> | undefined> {
    return cached(this.trees, sha, () => this.github!.fileBlobs(sha));
  }

  private isMember(team: string, user: string): Promise<boolean> {
    return cached(this.members, `${team}\u0000${user.toLowerCase()}`, () =>
      this.github!.isTeamMember(team, user),
    );
  }
}

/** One request per key and run, however many grants ask (concurrent askers share the promise). */
function cached<K, V>(cache: Map<K, Promise<V>>, key: K, load: () => Promise<V>): Promise<V> {
  let p = cache.get(key);
  if (!p) {
    p = load();
    cache.set(key, p);
  }
  return p;
}
