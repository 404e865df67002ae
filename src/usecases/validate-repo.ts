import { posix } from 'node:path';
import type { Finding } from '../model/errors.js';
import { narrowTree, type FileTree } from '../model/file-tree.js';
import type { PathChange, RepoHistory } from '../ports/git.js';
import {
  GRANTS_DIR,
  grantIdFromPath,
  POLICIES_DIR,
  SCHEMAS_DIR,
  SCRIPTS_DIR,
  TEMPLATES_DIR,
  type Grant,
} from '../model/grant.js';
import type { Policy } from '../model/policy.js';
import { describeGrantChange, type GrantChangeRow } from '../plan/grant-change.js';
import {
  loadGrants,
  loadPolicies,
  MAX_GRANT_BYTES,
  sortFindings,
  type LoadedPolicies,
} from '../policy/load.js';
import type { ChainFacts } from '../policy/check-grant.js';
import type { RawGrantFields } from '../policy/extension.js';
import { parseTimestamp } from '../model/time.js';
import { loadYamlSource } from '../model/yaml-source.js';
import type { ParsedPolicy } from '../policy/parse-policy.js';
import type { SchemaRegistry } from '../policy/schema-registry.js';

export interface ValidateOptions {
  now: Date;
  /** Judge the changes since this ref by the policies at its tip. */
  base?: string;
  /** How to name the base in messages when `base` is a bare sha (e.g. the PR's base branch). */
  baseLabel?: string;
}

export interface ValidateDeps {
  work: FileTree;
  registry: SchemaRegistry;
  /** Needed only with `base`. */
  history?: RepoHistory;
}

export interface CodeChange extends PathChange {
  /** The exec targets whose `command` names this file (none: it is under scripts/). */
  targets: string[];
}

export interface ValidationReport {
  ok: boolean;
  /** A policy (or the policies the PR proposes) is itself invalid: a configuration error, exit 2. */
  policyInvalid: boolean;
  grantsChecked: number;
  grants: Grant[];
  findings: Finding[];
  /** Where the judging policies came from. */
  policySource: string;
  base?: { ref: string; commit: string; diffFrom: string };
  /** Rows for the plan: grants added or changed since base (empty without a base). */
  plan: GrantChangeRow[];
  removed: PathChange[];
  /**
   * Changes to policies/, schemas/, templates/ and to code grantops runs (`codeChanges`) since base:
   * reviewers must look at these.
   */
  ruleChanges: PathChange[];
  /**
   * The part of `ruleChanges` that is code an exec target runs: anything under scripts/, and any file
   * an exec policy's `command` names (at the base or as the PR proposes it). Once merged it runs
   * with the target's credentials on the next apply: reviewers must read it.
   */
  codeChanges: CodeChange[];
  policies: ReadonlyMap<string, Policy>;
}

/**
 * Validates an access repo at `now`. With `base`, the policies and schemas are read from git at the
 * base ref's tip and only grants changed since the merge base are judged, so that a pull request
 * cannot loosen the rules that judge it.
 */
export async function validateAccessRepo(
  opts: ValidateOptions,
  deps: ValidateDeps,
): Promise<ValidationReport> {
  let policyTree = deps.work;
  let changes: PathChange[] | undefined;
  let base: ValidationReport['base'];
  let policies: LoadedPolicies;
  let baseGrants: ReadonlyMap<string, string> = new Map();
  if (opts.base !== undefined) {
    if (!deps.history) throw new Error('validate --base needs git history');
    const history = deps.history;
    const [commit, head] = await Promise.all([
      history.resolveCommit(opts.base),
      history.resolveCommit('HEAD'),
    ]);
    const label = opts.baseLabel ?? opts.base;
    const baseTree = history.treeAt(commit, label);
    policyTree = baseTree;
    // The git processes this needs run side by side: every PR waits for this check (issue 15).
    let diffFrom: string;
    [{ diffFrom, changes }, policies, baseGrants] = await Promise.all([
      history.mergeBase(commit, head).then(async (found) => {
        const from = found ?? commit;
        const dirs = [GRANTS_DIR, POLICIES_DIR, SCHEMAS_DIR, TEMPLATES_DIR, SCRIPTS_DIR];
        return { diffFrom: from, changes: await history.changedPaths(from, dirs) };
      }),
      // The base's policies judge only the grants the change brings: a policy's grantSchema is
      // compiled when one of them needs it (compiling them all cost more than the rest of the check).
      loadPolicies(baseTree, deps.registry, { lazyGrantSchema: true }),
      // Only the paths, in a listing of their own: the policies' (with sizes) is not held up by it.
      history.blobsAt(commit, GRANTS_DIR),
    ]);
    base = { ref: label, commit, diffFrom };
  } else {
    policies = await loadPolicies(policyTree, deps.registry);
  }

  const findings: Finding[] = [...policies.findings];
  let policyInvalid = policies.findings.length > 0;

  let ruleChanges = (changes ?? []).filter((c) => !c.path.startsWith(`${GRANTS_DIR}/`));
  let codeChanges: CodeChange[] = [];
  if (base && changes && deps.history) {
    let proposed: Map<string, ParsedPolicy> | undefined;
    if (ruleChanges.some((c) => c.path.startsWith(`${POLICIES_DIR}/`) && c.status !== 'deleted')) {
      // The PR's own policy files must be valid too, though they do not judge it.
      const loadedProposed = await loadPolicies(deps.work, deps.registry);
      proposed = loadedProposed.byTarget;
      const changed = new Set(ruleChanges.map((c) => c.path));
      const own = loadedProposed.findings.filter((f) => changed.has(f.file));
      if (own.length > 0) policyInvalid = true;
      findings.push(...own.map((f) => ({ ...f, message: `${f.message} (proposed policy)` })));
    }
    // Exec targets run files of this repository with their credentials, after the merge: a change
    // to one is a change to what grantops does, whichever folder it lives in.
    const runBy = execFiles([policies.byTarget, proposed]);
    const outside = [...runBy.keys()].filter((p) => !p.startsWith(`${SCRIPTS_DIR}/`));
    if (outside.length > 0) {
      const seen = new Set(ruleChanges.map((c) => c.path));
      const more = await deps.history.changedPaths(base.diffFrom, outside);
      ruleChanges = [...ruleChanges, ...more.filter((c) => !seen.has(c.path))].sort((a, b) =>
        a.path < b.path ? -1 : 1,
      );
    }
    // A command argument may name a folder (a script's library): everything below it counts.
    const runners = (path: string) =>
      [...runBy].filter(([p]) => path === p || path.startsWith(`${p}/`)).flatMap(([, t]) => [...t]);
    codeChanges = ruleChanges
      .filter((c) => c.path.startsWith(`${SCRIPTS_DIR}/`) || runners(c.path).length > 0)
      .map((c) => ({ ...c, targets: [...new Set(runners(c.path))].sort() }));
  }

  const grantChanges = new Map(
    (changes ?? []).filter((c) => c.path.startsWith(`${GRANTS_DIR}/`)).map((c) => [c.path, c.status]),
  );
  // After the merge, a new grants/vpn/BOB.yaml sits next to the live grants/vpn/bob.yaml and one of the
  // two is refused as a duplicate id: the PR must be refused now, against every grant of the base.
  const taken = base ? idsAtBase(baseGrants, policyTree.label, grantChanges) : undefined;
  // With a base, only the grants the change adds or modifies are listed and read.
  const readable = [...grantChanges].filter(([, status]) => status !== 'deleted').map(([path]) => path);
  const chains =
    base && deps.history
      ? await chainFacts(deps.history, policyTree, base.commit, baseGrants, readable)
      : undefined;
  const loaded = await loadGrants(
    changes ? narrowTree(deps.work, readable) : deps.work,
    {
      registry: deps.registry,
      policies: policies.byTarget,
      now: opts.now,
      expiredSeverity: base ? 'error' : 'warning',
      policySource: policyTree.label,
      ...(chains ? { chains } : {}),
    },
    changes ? (path) => grantChanges.has(path) && grantChanges.get(path) !== 'deleted' : undefined,
    taken,
  );
  findings.push(...loaded.findings);
  for (const parsed of policies.byTarget.values()) {
    const invalid = parsed.grantSchemaFinding?.();
    if (!invalid) continue;
    findings.push(invalid);
    policyInvalid = true;
  }

  const byTarget = new Map([...policies.byTarget].map(([k, v]) => [k, v.policy]));
  // The plan is what a change grants: only meaningful against a base (a PR), not for all of main.
  const plan = base
    ? loaded.grants.map((g) => {
        const facts = chains?.get(g.file);
        const before = facts && !facts.added ? facts.base?.raw.extensions : undefined;
        const grew = (g.extensions?.length ?? 0) > (Array.isArray(before) ? before.length : 0);
        const change = grantChanges.get(g.file) ?? 'added';
        const shown = change === 'modified' && grew ? 'extended' : change;
        return describeGrantChange(g, shown, byTarget.get(g.target), opts.now);
      })
    : [];
  const removed = [...grantChanges]
    .filter(([path, status]) => status === 'deleted' && /\.yaml$/.test(path))
    .map(([path, status]) => ({ path, status }));

  sortFindings(findings);
  return {
    ok: !findings.some((f) => f.severity === 'error'),
    policyInvalid,
    grantsChecked: loaded.checked,
    grants: loaded.grants,
    findings,
    policySource: base ? (opts.base ?? '') : policyTree.label,
    ...(base ? { base } : {}),
    plan,
    removed,
    ruleChanges,
    codeChanges,
    policies: byTarget,
  };
}

/**
 * What git says of each changed grant file for the extension rules: a file not on the base is new;
 * one on the base comes with its base version and when it landed there (main's first-parent commit
 * that added it: a time no writer of the file can edit).
 */
async function chainFacts(
  history: RepoHistory,
  baseTree: FileTree,
  commit: string,
  baseGrants: ReadonlyMap<string, string>,
  paths: readonly string[],
): Promise<Map<string, ChainFacts>> {
  const facts = new Map<string, ChainFacts>();
  const onBase = paths.filter((p) => baseGrants.has(p));
  for (const p of paths) if (!baseGrants.has(p)) facts.set(p, { added: true });
  if (onBase.length === 0) return facts;
  const [landed, docs] = await Promise.all([
    history.landedAt(commit, onBase),
    Promise.all(
      onBase.map(async (p): Promise<RawGrantFields | undefined> => {
        const bytes = await baseTree.read(p, MAX_GRANT_BYTES).catch(() => undefined);
        if (!(bytes instanceof Uint8Array)) return undefined;
        const doc = loadYamlSource(p, bytes, { maxBytes: MAX_GRANT_BYTES });
        const value = doc.ok ? doc.doc.value : undefined;
        return value && typeof value === 'object' ? value : undefined;
      }),
    ),
  ]);
  onBase.forEach((p, i) => {
    const landedAt = landed.get(p);
    const raw = docs[i];
    // Unreadable at the base: judged as a new grant would be, so nothing can ride on its history.
    // No landing (a shallow clone): the history rules still hold, maxTotal is left to apply.
    if (!raw) return void facts.set(p, { added: true });
    const starts = typeof raw.startsAt === 'string' ? parseTimestamp(raw.startsAt) : undefined;
    facts.set(p, { landedAt, base: { raw, startsAt: starts?.ok ? starts.date : undefined } });
  });
  return facts;
}

/**
 * The grant ids in use at the base (lower-cased id -> `path at base`), except the files the change
 * itself adds, modifies or deletes: a modification keeps its id, a deletion frees it.
 */
function idsAtBase(
  baseGrants: ReadonlyMap<string, string>,
  baseLabel: string,
  changed: ReadonlyMap<string, PathChange['status']>,
): Map<string, string> {
  const taken = new Map<string, string>();
  // Only the ids a changed grant could clash with: an id is its path under grants/ without .yaml, and
  // ids are ASCII, so equal ids ignoring case are equal lower-cased paths, of equal length (parsing
  // all 10,000 cost ~15 ms).
  const near = new Set([...changed.keys()].map((path) => path.toLowerCase()));
  const lengths = new Set([...changed.keys()].map((path) => path.length));
  for (const path of baseGrants.keys()) {
    if (!lengths.has(path.length) || !near.has(path.toLowerCase())) continue;
    if (!path.endsWith('.yaml') || changed.has(path)) continue;
    const id = grantIdFromPath(path);
    const folded = id.ok ? id.id.toLowerCase() : undefined;
    if (folded !== undefined && !taken.has(folded)) taken.set(folded, `${path} at ${baseLabel}`);
  }
  return taken;
}

/**
 * The repository files exec policies run (path -> target names): every argument of `command` that is
 * a relative path inside the repository, the program and any script it is given alike.
 */
function execFiles(
  sets: readonly (ReadonlyMap<string, ParsedPolicy> | undefined)[],
): Map<string, Set<string>> {
  const files = new Map<string, Set<string>>();
  for (const set of sets) {
    for (const { policy } of set?.values() ?? []) {
      if (policy.target.type !== 'exec') continue;
      for (const arg of policy.target.command) {
        if (arg === '' || arg.startsWith('-') || posix.isAbsolute(arg) || arg.includes('\\')) continue;
        const path = posix.normalize(arg).replace(/\/+$/, '');
        if (path === '' || path === '.' || path === '..' || path.startsWith('../')) continue;
        const targets = files.get(path) ?? new Set<string>();
        targets.add(policy.target.name);
        files.set(path, targets);
      }
    }
  }
  return files;
}
