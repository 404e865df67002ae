import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { GitRepo } from '../adapters/git/repo.js';
import type { GitHubOctokit } from '../adapters/github-client.js';
import { WorkTree } from '../adapters/work-tree.js';
import { gitGrantHistory } from '../adapters/git/audit-log.js';
import { ConfigError, errorMessage } from '../model/errors.js';
import type { ApprovalEvidence } from '../policy/approval.js';
import { POLICIES_DIR } from '../model/grant.js';
import type { Policy } from '../model/policy.js';
import { fixedClock, type Clock } from '../ports/clock.js';
import type { GrantHistory } from '../ports/git.js';
import type { AccessRepoGitHub } from '../ports/access-repo.js';
import type { PullRequestOpener } from '../ports/pull-request-opener.js';
import type { Target } from '../ports/target.js';
import { evidenceSigner, evidenceVerifier, loadEvidenceVerifier } from '../policy/evidence-signature.js';
import { SchemaRegistry } from '../policy/schema-registry.js';
import { templateSource } from '../render/template-source.js';
import type { TemplateSource } from '../render/render.js';
import type { ApprovalFinder } from '../usecases/find-approvals.js';
import { MAX_GITHUB_WRITES, type AppConfig } from './config.js';

/** Where the edges want GitHub's retry and rate-limit messages (the Action's log; the CLI drops them). */
export interface WiringLog {
  warning?: (message: string) => void;
  debug?: (message: string) => void;
}

/**
 * The adapters of one run, built from one `AppConfig` and nothing else: the CLI and the Action get
 * the same git, GitHub clients, targets, approval finder and evidence keys for the same configuration.
 * Costly parts (Octokit, pg, the approval finder) are built only when a command asks for them.
 */
export interface Wiring {
  readonly config: AppConfig;
  /** The access repo's top level (the directory itself when it is not in a git repository). */
  readonly root: string;
  /** Undefined when the access repo is not a git repository (validate and status still work). */
  readonly git: GitRepo | undefined;
  readonly work: WorkTree;
  readonly registry: SchemaRegistry;
  readonly clock: Clock;
  /** Template overrides from the access repo's templates/. */
  readonly templates: TemplateSource;
  /** The git repository, or a usage error saying the command needs one. */
  requireGit(): GitRepo;
  /** The access repo on GitHub; undefined offline (no token or repository). */
  accessRepo(): Promise<AccessRepoGitHub | undefined>;
  /**
   * Branches and pull requests made through GitHub's API (`request --open-pr`, request-from-issue);
   * undefined offline (no token or repository).
   */
  pullRequestOpener(): Promise<PullRequestOpener | undefined>;
  /** What builds the adapter for a policy's target (it throws TargetError when it cannot). */
  targets(): Promise<(policy: Policy) => Target>;
  /** Every grant file main has held, from git history. */
  grantHistory(): GrantHistory;
  /**
   * Approval decisions. `grant`: asks GitHub (reviews on the merged PR), signs what it records.
   * `keep`: recorded evidence only, for deciding what access to keep (a note never grants).
   */
  approvals(purpose: 'grant' | 'keep'): Promise<ApprovalFinder>;
  /** Why recorded evidence could not be judged (a broken key), once `approvals('keep')` ran. */
  evidenceProblem(): string | undefined;
  /** The remote approval evidence (refs/notes/grantops) is shared with: origin, if there is one. */
  notesRemote(): Promise<string | undefined>;
  /** What was built, as plain data: the same for the same configuration, whichever edge built it. */
  describe(): WiringDescription;
}

export interface WiringDescription {
  root: string;
  git: boolean;
  concurrency: number;
  github:
    | {
        apiUrl: string;
        slug: string;
        accessRepo: 'token' | 'none';
        targets: 'admin-token' | 'token' | 'none';
        targetWrites: number;
      }
    | 'offline';
  /** Variables targets may pick from (names only). */
  targetEnv: string[];
  evidence: { signs: boolean; verifiesWith: 'configured key' | 'key committed on main' };
  webhook: boolean;
}

/** Builds the run's adapters from its configuration: the composition root. */
export async function compose(config: AppConfig, log: WiringLog = {}): Promise<Wiring> {
  let git: GitRepo | undefined;
  try {
    git = await GitRepo.open(config.repo);
  } catch {
    git = undefined;
  }
  const root = git?.root ?? config.repo;
  // A wrong --repo or path: must not pass as "0 grant files checked against 0 policies".
  try {
    const st = await lstat(join(root, POLICIES_DIR));
    // A link is let through: loading reports it at its line, as for any linked folder.
    if (!st.isDirectory() && !st.isSymbolicLink()) throw new Error('not a directory');
  } catch {
    throw new ConfigError(
      `not an access repo: no ${POLICIES_DIR}/ in ${root}${root === config.repo ? '' : ` (the top level of ${config.repo})`}; run grantops init`,
    );
  }
  const work = new WorkTree(root);
  const registry = new SchemaRegistry();
  const clock = fixedClock(config.now);
  const gh = config.github;

  const clients = new Map<string, Promise<GitHubOctokit>>();
  const client = (token: string, writeConcurrency?: number) => {
    const key = `${token}\u0000${writeConcurrency ?? ''}`;
    let c = clients.get(key);
    if (!c) {
      c = import('../adapters/github-client.js').then(({ createOctokit }) =>
        createOctokit({
          token,
          baseUrl: gh!.apiUrl,
          ...(log.warning ? { log: log.warning } : {}),
          ...(log.debug ? { debug: log.debug } : {}),
          ...(writeConcurrency ? { writeConcurrency } : {}),
        }),
      );
      clients.set(key, c);
    }
    return c;
  };
  let accessRepo: Promise<AccessRepoGitHub | undefined> | undefined;
  const adminToken = gh?.adminToken ?? gh?.token;
  const finders = new Map<string, Promise<ApprovalFinder>>();
  let evidenceProblem: string | undefined;

  const wiring: Wiring = {
    config,
    root,
    git,
    work,
    registry,
    clock,
    templates: templateSource(work),
    requireGit() {
      if (!git) throw new ConfigError(`${config.repo} is not inside a git repository`);
      return git;
    },
    accessRepo() {
      accessRepo ??=
        gh?.token !== undefined && gh.owner && gh.repo
          ? Promise.all([client(gh.token), import('../adapters/github-client.js')]).then(
              ([octokit, { OctokitAccessRepo }]) =>
                new OctokitAccessRepo(octokit, gh.owner, gh.repo, gh.botLogin),
            )
          : Promise.resolve(undefined);
      return accessRepo;
    },
    async pullRequestOpener() {
      if (gh?.token === undefined || !gh.owner || !gh.repo) return undefined;
      const [octokit, { OctokitPullRequestOpener }] = await Promise.all([
        client(gh.token),
        import('../adapters/github-pull-request.js'),
      ]);
      return new OctokitPullRequestOpener(octokit, gh.owner, gh.repo, gh.botLogin);
    },
    async targets() {
      const { createTarget } = await import('../targets/registry.js');
      const octokit = adminToken
        ? await client(adminToken, Math.min(config.concurrency, MAX_GITHUB_WRITES))
        : undefined;
      return (policy) =>
        createTarget(policy, { repoRoot: root, env: config.env, ...(octokit ? { octokit } : {}) });
    },
    grantHistory() {
      return gitGrantHistory(wiring.requireGit(), 'HEAD', {
        cache: config.historyCache !== false,
        ...(config.historyCacheKey ? { cacheKey: config.historyCacheKey } : {}),
      });
    },
    approvals(purpose) {
      let f = finders.get(purpose);
      if (!f) {
        f = (async () => {
          const repo = wiring.requireGit();
          const { ApprovalFinder } = await import('../usecases/find-approvals.js');
          const base = { concurrency: config.concurrency };
          let verifyEvidence: ((grantId: string, e: ApprovalEvidence) => boolean) | undefined;
          try {
            if (config.evidence.keyError) throw new ConfigError(config.evidence.keyError);
            verifyEvidence = config.evidence.publicKey
              ? evidenceVerifier(config.evidence.publicKey)
              : await loadEvidenceVerifier(work);
          } catch (err) {
            // Granting needs working keys: fail loudly. Keeping access must not stop revocation:
            // trust no note at all (live grants are held), and let the run report why.
            if (purpose === 'grant') throw err;
            evidenceProblem = `the evidence key cannot be used: ${errorMessage(err)}; no recorded approval was trusted, so the access of live grants was held, neither kept nor revoked`;
            return new ApprovalFinder(repo, undefined, clock, registry, base);
          }
          // The reaper signs only the break-glass reviews it records (it never writes a use).
          const signer = config.evidence.signingKey ? evidenceSigner(config.evidence.signingKey) : undefined;
          return new ApprovalFinder(
            repo,
            purpose === 'grant' ? await wiring.accessRepo() : undefined,
            clock,
            registry,
            {
              ...base,
              ...(purpose === 'keep' ? { trustNotes: true } : {}),
              // Keeping a break-glass grant past its review deadline needs the review, from GitHub.
              ...(purpose === 'keep' && gh?.token ? { reviewsOn: await wiring.accessRepo() } : {}),
              ...(signer ? { signer } : {}),
              ...(verifyEvidence ? { verifyEvidence } : {}),
            },
          );
        })();
        finders.set(purpose, f);
      }
      return f;
    },
    evidenceProblem: () => evidenceProblem,
    async notesRemote() {
      return git && (await git.hasRemote('origin')) ? 'origin' : undefined;
    },
    describe() {
      return {
        root,
        git: git !== undefined,
        concurrency: config.concurrency,
        github: gh
          ? {
              apiUrl: gh.apiUrl,
              slug: `${gh.owner}/${gh.repo}`,
              accessRepo: gh.token && gh.owner && gh.repo ? 'token' : 'none',
              targets: gh.adminToken ? 'admin-token' : gh.token ? 'token' : 'none',
              targetWrites: Math.min(config.concurrency, MAX_GITHUB_WRITES),
            }
          : 'offline',
        targetEnv: Object.keys(config.env)
          .filter((k) => config.env[k] !== undefined)
          .sort(),
        evidence: {
          signs: config.evidence.signingKey !== undefined,
          verifiesWith: config.evidence.publicKey ? 'configured key' : 'key committed on main',
        },
        webhook: config.webhookUrl !== undefined,
      };
    },
  };
  return wiring;
}
