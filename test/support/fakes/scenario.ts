import { createHash } from 'node:crypto';
import type { ExecTarget, Policy } from '../../../src/model/policy.js';
import type { EvidenceSigner } from '../../../src/policy/evidence-signature.js';
import { SchemaRegistry } from '../../../src/policy/schema-registry.js';
import type { Clock } from '../../../src/ports/clock.js';
import { reapExpired, type ReapReport } from '../../../src/reaper/reap-expired.js';
import { applyGrants, type ApplyOptions, type ApplyReport } from '../../../src/usecases/apply-grants.js';
import { ApprovalFinder } from '../../../src/usecases/find-approvals.js';
import { upsertPullRequest } from '../../../src/usecases/github-threads.js';
import { blobId, MemoryGit, MemoryRemote } from './memory-git.js';
import { MemoryGitHub } from './memory-github.js';
import { MemoryTarget } from './memory-target.js';

/** A clock for fast tests: stopped at `now`, and `sleep` returns at once but is remembered. */
export class FakeClock implements Clock {
  readonly slept: number[] = [];
  constructor(public at: Date) {}
  now(): Date {
    return new Date(this.at.getTime());
  }
  sleep(ms: number): Promise<void> {
    this.slept.push(ms);
    return Promise.resolve();
  }
}

const registry = new SchemaRegistry();

/** An exec target's settings as the policy parser makes them. */
export function execTarget(name: string): ExecTarget {
  return {
    name,
    type: 'exec',
    command: ['./scripts/vpn.sh'],
    timeoutMs: 30_000,
    concurrency: 1,
    enforce: false,
    enforceMaxFraction: 0.25,
    exempt: [],
    env: [],
  };
}

/**
 * An access repo in memory, in the style of actions/stale's scenario builders: policies, pull
 * requests merged with their reviews, targets holding access, and the use cases run against them
 * at a chosen instant. No process, no server: a rule is tested in milliseconds.
 */
export class Scenario {
  readonly remote = new MemoryRemote();
  readonly git: MemoryGit;
  readonly github = new MemoryGitHub();
  readonly targets = new Map<string, MemoryTarget>();
  readonly clock = new FakeClock(new Date('2026-11-28T12:00:00Z'));
  /** Targets whose adapter cannot be built (missing credentials). */
  readonly broken = new Set<string>();
  /** Every call to git and to the targets, in order: "revoke before commit" is checkable. */
  readonly log: string[] = [];
  /** Jitter the reaper draws, in order. */
  randoms: number[] = [];

  constructor(files: Record<string, string>) {
    this.git = new MemoryGit(this.remote, files, this.log);
  }

  /** The target called `name` (created on first use, as the registry would build it). */
  target(name: string): MemoryTarget {
    const t = this.targets.get(name);
    if (!t) throw new Error(`no target ${name} built yet: call holding() or run apply first`);
    return t;
  }

  /** Declares access a target holds before the run. */
  holding(policy: Policy['target'], user: string, entitlement: string): this {
    const t = this.targets.get(policy.name) ?? new MemoryTarget(policy, this.log);
    this.targets.set(policy.name, t);
    t.give(user, entitlement);
    return this;
  }

  /**
   * A pull request merged with a merge commit, as the merge button does: `files` are its changes,
   * reviews are on its final head unless said otherwise.
   */
  mergePullRequest(opts: {
    number: number;
    author: string;
    files: Record<string, string | null>;
    approvedBy?: string[];
    reviews?: { user: string; state: string; onHead?: boolean }[];
    /** The file at the reviewed head differs from what was merged (a commit after approval). */
    headFiles?: Record<string, string>;
  }): string {
    const headSha = createHash('sha1').update(`head of #${opts.number}`).digest('hex');
    const merge = this.git.commit(
      `Merge pull request #${opts.number} from acme/pr-${opts.number}`,
      opts.files,
    );
    const atHead = { ...opts.files, ...(opts.headFiles ?? {}) };
    this.github.addPull({
      number: opts.number,
      author: opts.author,
      headSha,
      mergeCommitSha: merge.sha,
      reviews: [
        ...(opts.approvedBy ?? []).map((user) => ({ user, state: 'APPROVED', commitId: headSha })),
        ...(opts.reviews ?? []).map((r) => ({
          user: r.user,
          state: r.state,
          commitId: r.onHead === false ? 'f'.repeat(40) : headSha,
        })),
      ],
      headFiles: new Map(
        Object.entries(atHead)
          .filter((e): e is [string, string] => e[1] !== null)
          .map(([p, c]) => [p, blobId(c)]),
      ),
    });
    this.git.publish();
    return merge.sha;
  }

  /** A commit pushed straight to main, with no pull request. */
  pushToMain(files: Record<string, string | null>): string {
    const c = this.git.commit('direct push', files);
    this.git.publish();
    return c.sha;
  }

  private createTarget = (policy: Policy) => {
    if (this.broken.has(policy.target.name)) throw new Error(`${policy.target.name}: credentials missing`);
    const t = this.targets.get(policy.target.name) ?? new MemoryTarget(policy.target, this.log);
    this.targets.set(policy.target.name, t);
    return t;
  };

  finder(opts: { github?: boolean; signer?: EvidenceSigner } = {}): ApprovalFinder {
    return new ApprovalFinder(
      this.git,
      opts.github === false ? undefined : this.github,
      this.clock,
      registry,
      {
        concurrency: 4,
        ...(opts.signer ? { signer: opts.signer } : {}),
      },
    );
  }

  /** `grantops apply` at `now`, then the evidence recorded as the Action does. */
  async apply(
    now: string,
    opts: Partial<ApplyOptions> & { github?: boolean; signer?: EvidenceSigner } = {},
  ): Promise<ApplyReport & { recorded: number }> {
    this.clock.at = new Date(now);
    const { github, signer, ...options } = opts;
    const finder = this.finder({
      ...(github !== undefined ? { github } : {}),
      ...(signer ? { signer } : {}),
    });
    const report = await applyGrants(
      { now: this.clock.now(), dryRun: false, concurrency: 4, ...options },
      {
        work: this.git.work,
        registry,
        approvals: finder,
        createTarget: this.createTarget,
        history: this.git,
      },
    );
    const recorded = opts.dryRun ? 0 : await finder.recordEvidence('origin');
    return { ...report, recorded };
  }

  /** `grantops reap --push` at `now`, in this scenario's checkout. */
  async reap(
    now: string,
    opts: { push?: boolean; dryRun?: boolean; git?: MemoryGit } = {},
  ): Promise<ReapReport> {
    this.clock.at = new Date(now);
    const git = opts.git ?? this.git;
    const randoms = [...this.randoms];
    return reapExpired(
      {
        now: this.clock.now(),
        dryRun: opts.dryRun ?? false,
        push: opts.push ?? true,
        remote: 'origin',
        branch: 'main',
        cleanupBranch: 'grantops/cleanup',
        maxPushAttempts: 5,
      },
      {
        git,
        clock: this.clock,
        random: () => randoms.shift() ?? 0.5,
        revokeExpired: () =>
          applyGrants(
            { now: this.clock.now(), dryRun: opts.dryRun ?? false, concurrency: 4, mode: 'reap' },
            {
              work: git.work,
              registry,
              approvals: new ApprovalFinder(git, undefined, this.clock, registry, {
                concurrency: 4,
                trustNotes: true,
              }),
              createTarget: this.createTarget,
              history: git,
            },
          ),
        renderBody: (view) => Promise.resolve(view.grants.map((g) => `- ${g.id}`).join('\n')),
        pulls: { upsert: (h, b, t, body) => upsertPullRequest(this.github, h, b, t, body) },
      },
    );
  }
}
