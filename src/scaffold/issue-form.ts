import { parse } from 'yaml';

/**
 * The access-request issue form `init` writes (`.github/ISSUE_TEMPLATE/access-request.yml`, GitHub's
 * issue forms syntax). Its labels are the headings src/model/issue-form.ts parses, and its label
 * `access-request` is what marks an issue as a request; the targets and roles offered are those of
 * the policies written with it (a value no policy offers is refused on the issue, not here).
 */
export const ISSUE_FORM_PATH = '.github/ISSUE_TEMPLATE/access-request.yml';

export const DURATIONS = ['30m', '1h', '2h', '4h', '8h', '12h', '1d', '2d'];

/** The targets and their roles, from policy texts (the example policies `init` writes). */
export function targetsOf(policyTexts: readonly string[]): { name: string; roles: string[] }[] {
  return policyTexts
    .map((text) => parse(text) as { target?: { name?: unknown }; roles?: Record<string, unknown> })
    .filter((p) => typeof p.target?.name === 'string')
    .map((p) => ({ name: String(p.target!.name), roles: Object.keys(p.roles ?? {}) }))
    .sort((a, b) => (a.name < b.name ? -1 : 1));
}

const list = (items: readonly string[]) => `[${items.map((i) => `'${i.replace(/'/g, "''")}'`).join(', ')}]`;

/** The form's YAML, offering `targets` and their roles. */
export function accessRequestForm(targets: readonly { name: string; roles: readonly string[] }[]): string {
  const roles = [...new Set(targets.flatMap((t) => t.roles))].sort();
  const offered = targets.map((t) => `${t.name}: ${t.roles.join(', ')}`).join('; ');
  return `# Written by grantops init. An access request as an issue: the request-from-issue workflow turns a
# submitted form into the pull request \`grantops request --open-pr\` would open, for the issue's author.
# Keep the labels (Target, Role, Duration, Reason, Ticket) and the access-request label as they are;
# keep the options in step with policies/ (a target or role no policy offers is refused on the issue).
name: Access request
description: Ask for temporary access to a production system; grantops opens the pull request that grants it.
title: 'Access request'
labels: [access-request]
body:
  - type: markdown
    attributes:
      value: |
        The access is for **you**, the author of this issue. grantops checks the request against the
        target's policy and answers here with a pull request (or with what is wrong). Reviewer approval
        of that pull request is the grant; it ends by itself when the duration is over.
  - type: dropdown
    id: target
    attributes:
      label: Target
      description: The system, as named in policies/.
      options: ${list(targets.map((t) => t.name))}
    validations:
      required: true
  - type: dropdown
    id: role
    attributes:
      label: Role
      description: 'One the target offers (${offered}).'
      options: ${list(roles)}
    validations:
      required: true
  - type: dropdown
    id: duration
    attributes:
      label: Duration
      description: How long from the merge; at most the role's maxDuration.
      options: ${list(DURATIONS)}
    validations:
      required: true
  - type: textarea
    id: reason
    attributes:
      label: Reason
      description: Why you need it, in a sentence or two (at most 500 characters; kept in the audit log).
    validations:
      required: true
  - type: input
    id: ticket
    attributes:
      label: Ticket
      description: The incident or change ticket, e.g. INC-4211 (some policies require one).
      placeholder: INC-4211
    validations:
      required: false
`;
}
