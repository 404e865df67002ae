import { EVIDENCE_KEY_PATH } from '../policy/evidence-signature.js';
import { loadPolicies } from '../policy/load.js';
import { checkTargets, type DoctorReport } from '../usecases/check-targets.js';
import type { Wiring } from './wiring.js';

/** The oldest Node.js grantops runs on (package.json `engines`). */
const MIN_NODE_MAJOR = 20;

export interface DoctorJobReport extends DoctorReport {
  /** What the run's environment lacks (node, git, GitHub, the evidence key), one entry each. */
  environment: { check: string; problem: string }[];
}

/** `doctor`: what the environment and each target lack (privileges, scripts, tokens). */
export async function doctorJob(w: Wiring): Promise<DoctorJobReport> {
  const [targets, environment] = await Promise.all([
    checkTargets({ work: w.work, registry: w.registry, createTarget: await w.targets() }),
    checkEnvironment(w),
  ]);
  return { ...targets, environment };
}

async function checkEnvironment(w: Wiring): Promise<DoctorJobReport['environment']> {
  const out: DoctorJobReport['environment'] = [];
  const major = Number(process.versions.node.split('.')[0]);
  if (major < MIN_NODE_MAJOR)
    out.push({
      check: 'node',
      problem: `v${process.versions.node} is too old; grantops needs ${MIN_NODE_MAJOR} or later`,
    });
  if (!w.git) {
    out.push({
      check: 'git',
      problem: `${w.root} is not a git repository (or git is not installed): apply, reap and audit read its history`,
    });
  } else if (await w.git.isShallow()) {
    out.push({
      check: 'git',
      problem:
        "this clone is shallow: apply, reap and audit need main's full history (git fetch --unshallow; fetch-depth: 0)",
    });
  }
  const policies = await loadPolicies(w.work, w.registry);
  const needApproval = [...policies.byTarget.values()].some((p) =>
    [...p.policy.roles.values()].some((r) => r.approvals > 0),
  );
  const gh = w.config.github;
  if (needApproval && !gh?.token)
    out.push({
      check: 'github',
      problem:
        'no GITHUB_TOKEN: approvals cannot be read from GitHub, so every grant that needs one is refused',
    });
  else if (needApproval && (!gh?.owner || !gh.repo))
    out.push({
      check: 'github',
      problem: 'GITHUB_REPOSITORY (owner/name of the access repo) is not set: approvals cannot be read',
    });
  let keyCommitted = false;
  try {
    await w.work.read(EVIDENCE_KEY_PATH, 16 * 1024);
    keyCommitted = true;
  } catch {
    keyCommitted = false;
  }
  if (keyCommitted && !w.config.evidence.signingKey)
    out.push({
      check: 'evidence',
      problem: `${EVIDENCE_KEY_PATH} is committed but GRANTOPS_EVIDENCE_KEY is not set: evidence apply records would not verify`,
    });
  return out;
}
