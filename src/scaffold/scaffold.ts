import grantSchema from '../../schemas/grant.schema.json' with { type: 'json' };
import policySchema from '../../schemas/policy.schema.json' with { type: 'json' };
import type { ActionRef } from './action-ref.js';
import { exampleFiles } from './examples.js';
import { accessRequestForm, ISSUE_FORM_PATH, targetsOf } from './issue-form.js';
import { workflowFiles } from './workflows.js';

export { parseActionRef, type ActionRef } from './action-ref.js';
export { CODEOWNERS_PLACEHOLDER } from './examples.js';

/** One file of a new access repo. */
export interface ScaffoldFile {
  /** Repo-relative, forward slashes, no `.` or `..` parts. */
  path: string;
  text: string;
  /** A script a target runs: written executable. */
  executable?: true;
}

/**
 * Every file `grantops init` writes, as data: workflows pinned to `action` (commented with
 * `version`), example policies, the access-request issue form, the exec script, grants/README.md, CODEOWNERS, and the JSON Schemas
 * this grantops validates with, so that the `$schema` comments of policies and grants resolve.
 */
export function scaffoldFiles(action: ActionRef, version: string): ScaffoldFile[] {
  const grantops = { uses: `${action.repo}@${action.sha}`, version: `v${version}` };
  const examples = exampleFiles();
  const policies = examples.filter((f) => f.path.startsWith('policies/')).map((f) => f.text);
  return [
    ...examples,
    { path: ISSUE_FORM_PATH, text: accessRequestForm(targetsOf(policies)) },
    ...workflowFiles(grantops),
    { path: 'schemas/grant.schema.json', text: `${JSON.stringify(grantSchema, null, 2)}\n` },
    { path: 'schemas/policy.schema.json', text: `${JSON.stringify(policySchema, null, 2)}\n` },
  ];
}
