/**
 * The example content `grantops init` writes besides the workflows: one policy per target type (each
 * valid as written), the exec script the exec example runs, how to ask for access, and CODEOWNERS.
 */

/** The placeholder team CODEOWNERS names; `init` tells the user to replace it. */
export const CODEOWNERS_PLACEHOLDER = '@OWNER/access-admins';

const POLICY_SCHEMA = '# yaml-language-server: $schema=../schemas/policy.schema.json\n';

const POLICIES: Record<string, string> = {
  'policies/platform-team.yaml': `${POLICY_SCHEMA}# Example github-team target: replace acme and the team names with yours.
description: Membership of @acme/platform-oncall, which holds deploy rights on production.
target:
  name: platform-team
  type: github-team
  org: acme
  team: platform-oncall
roles:
  member:
    maxDuration: 1d
    approvals: 1
    approvers: ['@acme/platform-leads']
`,
  'policies/payments-repo.yaml': `${POLICY_SCHEMA}# Example github-repo target: outside collaborator access to one repository.
description: Collaborator access to acme/payments-service for incident responders outside the team.
target:
  name: payments-repo
  type: github-repo
  repo: acme/payments-service
roles:
  pull:
    maxDuration: 2d
    approvals: 1
    approvers: ['@acme/payments']
  push:
    maxDuration: 12h
    approvals: 2
    approvers: ['@acme/payments']
`,
  'policies/prod-db.yaml': `${POLICY_SCHEMA}# Example postgres target: the connection URL is only named here; the workflows read it from a secret.
description: Production PostgreSQL. Break-glass read access for on-call.
target:
  name: prod-db
  type: postgres
  urlEnv: PROD_DB_URL
  manageLogin: true # grantops sets VALID UNTIL on the login role: the database ends access on time
roles:
  readonly:
    maxDuration: 8h
    approvals: 1
    approvers: ['@acme/dba']
    dbRoles: [pg_read_all_data]
grantSchema:
  required: [ticket]
`,
  'policies/vpn.yaml': `${POLICY_SCHEMA}# Example exec target: any system behind a script speaking the grantops exec protocol.
description: VPN profiles, managed by scripts/vpn-access.mjs.
target:
  name: vpn
  type: exec
  command: [./scripts/vpn-access.mjs]
  timeout: 30s
  env: [VPN_STATE_FILE] # the only variables the script sees, besides PATH, HOME, LANG, TZ, TMPDIR
roles:
  user:
    maxDuration: 8h
    approvals: 0 # merging the pull request is the approval (branch protection decides who may merge)
  admin:
    maxDuration: 2h
    approvals: 1
    approvers: ['@acme/network-leads']
`,
};

const VPN_SCRIPT = `#!/usr/bin/env node
// Exec target for policies/vpn.yaml, speaking the grantops exec protocol: \`grant\` and \`revoke\` read
// one JSON object on stdin ({"id","user","target","role","expiresAt"}) and exit 0 once done, even
// if nothing had to change; \`list\` prints [{"user","role"}]; any failure exits non-zero with the
// reason on stderr. This example keeps its "profiles" in a JSON file (VPN_STATE_FILE, default in the
// temporary directory) so it runs anywhere: replace load/save with calls to your VPN's admin API.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const stateFile = process.env.VPN_STATE_FILE || join(tmpdir(), 'grantops-vpn-state.json');
const load = () => {
  try {
    return JSON.parse(readFileSync(stateFile, 'utf8'));
  } catch {
    return [];
  }
};
const save = (entries) => {
  writeFileSync(\`\${stateFile}.tmp\`, JSON.stringify(entries, null, 2));
  renameSync(\`\${stateFile}.tmp\`, stateFile); // atomic: a killed run never leaves half a file
};
const readRequest = () => {
  const req = JSON.parse(readFileSync(0, 'utf8'));
  if (typeof req.user !== 'string' || typeof req.role !== 'string') throw new Error('user and role are required');
  return req;
};

const verb = process.argv[2];
try {
  if (verb === 'list') {
    process.stdout.write(\`\${JSON.stringify(load().map(({ user, role }) => ({ user, role })))}\\n\`);
  } else if (verb === 'grant') {
    const req = readRequest();
    const entries = load().filter((e) => !(e.user === req.user && e.role === req.role));
    entries.push({ user: req.user, role: req.role, expiresAt: req.expiresAt });
    save(entries);
  } else if (verb === 'revoke') {
    const req = readRequest();
    save(load().filter((e) => !(e.user === req.user && e.role === req.role)));
  } else {
    process.stderr.write('usage: vpn-access.mjs grant|revoke|list\\n');
    process.exit(2);
  }
} catch (err) {
  process.stderr.write(\`vpn-access: \${err instanceof Error ? err.message : String(err)}\\n\`);
  process.exit(1);
}
`;

const GRANTS_README = `# grants/

One file per grant of temporary access. A grant is asked for with a pull request and ends by itself:
once merged (and approved as its target's policy in \`policies/\` requires) the apply workflow gives
the access; when \`expiresAt\` passes the reaper revokes it and removes the file in a commit.

## Asking for access

\`\`\`sh
grantops request --user alice --target vpn --role user --for 2h --reason "CHG-1190 rotate bastion keys"
git switch -c alice-vpn && git add grants && git commit -m "alice: vpn user 2h"
git push -u origin alice-vpn   # then open the pull request
\`\`\`

\`grantops request\` checks the request against the policy (role, \`maxDuration\`, required fields such
as \`--ticket\`) and writes \`grants/<target>/<user>-<role>-<yyyymmdd-hhmm>.yaml\`. The pull request's
check shows the plan and the approvals it still needs; approvers are named by the role in
\`policies/<target>.yaml\`, and neither the grant's user nor the PR's author counts.

## The file format

\`\`\`yaml
# yaml-language-server: $schema=../../schemas/grant.schema.json
user: alice # GitHub login receiving access
target: vpn # target.name of a policy in policies/
role: user # a role that policy offers
reason: CHG-1190 rotate bastion keys
ticket: CHG-1190 # optional, unless the policy's grantSchema requires it
startsAt: 2026-11-28T13:00:00Z # optional: not active before
expiresAt: 2026-11-28T15:00:00Z # RFC 3339, in UTC; at most the role's maxDuration after the start
\`\`\`

The grant's id is its path under \`grants/\` without \`.yaml\`. \`grantops validate\` checks every file;
\`grantops status\` shows which are pending, active, expiring or expired.
`;

const CODEOWNERS = `# Written by grantops init. Replace ${CODEOWNERS_PLACEHOLDER} with the team that owns access in your
# organisation, and require code owner reviews on main (branch protection), or this file protects
# nothing. These paths decide who may approve what and which code runs with the target credentials.
# grants/ has no owner here: each grant's policy names who must approve it.
/policies/    ${CODEOWNERS_PLACEHOLDER}
/scripts/     ${CODEOWNERS_PLACEHOLDER}
/schemas/     ${CODEOWNERS_PLACEHOLDER}
/templates/   ${CODEOWNERS_PLACEHOLDER}
/.github/     ${CODEOWNERS_PLACEHOLDER}
/.grantops/   ${CODEOWNERS_PLACEHOLDER}
`;

/** The example files: path (repo-relative), text, and whether it is a program to be run. */
export function exampleFiles(): { path: string; text: string; executable?: true }[] {
  return [
    ...Object.entries(POLICIES).map(([path, text]) => ({ path, text })),
    { path: 'scripts/vpn-access.mjs', text: VPN_SCRIPT, executable: true },
    { path: 'grants/README.md', text: GRANTS_README },
    { path: '.github/CODEOWNERS', text: CODEOWNERS },
  ];
}
