import { errorMessage } from '../model/errors.js';
import type { Grant } from '../model/grant.js';
import type { Role } from '../model/policy.js';
import type { ApprovalVerdict } from '../policy/approval.js';
import { chainProblem, grantChain, readFileChange } from '../policy/max-total-chain.js';
import type { EvidenceRepo, FileChangeBytes } from '../ports/git.js';

/**
 * Apply's re-check of a role's `maxTotal`, for every grant on such a role (with `extensions` or
 * not: moving expiresAt by hand, or dropping the list, must not escape it). Reads the grant files'
 * own history on main (one `git log` for all of them, each bounded to twice its maxTotal before its
 * expiresAt), then judges each by the pure rules: the chain runs from when its first version landed
 * (a delete and re-add while it held access does not restart it) and from the earliest startsAt any
 * version had, and every change keeps the extension history rules. Returns the verdicts of the
 * grants that may not be applied: refused, or undecided when the history cannot be read (a shallow
 * clone): never skipped.
 */
export async function maxTotalVerdicts(
  git: Pick<EvidenceRepo, 'fileChanges'>,
  items: readonly { grant: Grant; role: Role }[],
  now: Date,
): Promise<Map<string, ApprovalVerdict>> {
  const out = new Map<string, ApprovalVerdict>();
  const capped = items.filter((i) => i.role.maxTotalMs !== undefined);
  if (capped.length === 0) return out;
  const since = (i: { grant: Grant; role: Role }) =>
    new Date(i.grant.expiresAt.getTime() - 2 * i.role.maxTotalMs!);
  const windows = new Map<string, Date>();
  for (const i of capped) {
    const s = since(i);
    const had = windows.get(i.grant.file);
    if (!had || s < had) windows.set(i.grant.file, s);
  }
  let history: Map<string, FileChangeBytes[]> | undefined;
  let failure: string | undefined;
  try {
    history = git.fileChanges ? await git.fileChanges(windows) : undefined;
  } catch (err) {
    failure = `its history on main could not be read: ${errorMessage(err)}`;
  }
  const judged = judge(capped, windows, history, failure, now);
  // A chain that began before its window and passed only on the startsAt of the versions seen (a
  // grant scheduled long ahead): its older versions are read too, from all of history, as the earliest
  // startsAt of any version counts. Rare: a grant whose landing is that old is otherwise over.
  const deeper = capped.filter((i) => judged.get(i.grant.id) === 'partial');
  if (deeper.length > 0 && history) {
    const all = new Map(deeper.map((i) => [i.grant.file, new Date(0)]));
    const full = await git.fileChanges!(all).catch((err: unknown) => {
      failure = `its history on main could not be read: ${errorMessage(err)}`;
      return undefined;
    });
    for (const [id, v] of judge(deeper, all, full, failure, now)) judged.set(id, v);
  }
  for (const [id, v] of judged) if (v !== 'partial' && v !== undefined) out.set(id, v);
  return out;
}

/** Each grant's verdict from its history: refused, undecided, undefined (within), or 'partial' (within, on a chain read in part). */
function judge(
  items: readonly { grant: Grant; role: Role }[],
  windows: ReadonlyMap<string, Date>,
  history: Map<string, FileChangeBytes[]> | undefined,
  failure: string | undefined,
  now: Date,
): Map<string, ApprovalVerdict | 'partial' | undefined> {
  const out = new Map<string, ApprovalVerdict | 'partial' | undefined>();
  for (const i of items) {
    const changes = history?.get(i.grant.file);
    if (!changes) {
      out.set(
        i.grant.id,
        undecided(
          failure ??
            `its role has a maxTotal (${i.role.maxTotal}), measured from when the file landed on main, and this clone's history is cut (shallow): fetch the full history (fetch-depth: 0)`,
        ),
      );
      continue;
    }
    const chain = grantChain(changes.map((c) => readFileChange(i.grant.file, c)));
    const problem = chainProblem(chain, i.grant, i.role, windows.get(i.grant.file)!, now);
    out.set(
      i.grant.id,
      problem
        ? refused(`${problem}, by the policy at the pull request's base`)
        : chain.firstLanded === undefined
          ? 'partial'
          : undefined,
    );
  }
  return out;
}

function undecided(reason: string): ApprovalVerdict {
  return { approved: false, reason, approvers: [], undecided: true };
}

function refused(reason: string): ApprovalVerdict {
  return { approved: false, reason, approvers: [] };
}
