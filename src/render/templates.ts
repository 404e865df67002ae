/**
 * Built-in templates. An access repo overrides one by committing `templates/<name>.hbs`; overrides
 * are read from the same tree as the policies (a PR's base), so a PR cannot restyle its own review.
 * Every string in a template's view is already Markdown-escaped, so `{{value}}` is always safe.
 */
export const DEFAULT_TEMPLATES = {
  'pr-comment.md': `### {{#if ok}}✅ grantops: this pull request is valid{{else}}❌ grantops: {{errorCount}} problem(s) to fix{{/if}}

{{#if codeChanges.length}}
> [!CAUTION]
> This pull request changes code that grantops runs for exec targets. Once merged, it runs on the next apply or reap with the targets' credentials, like a policy change but unchecked by any schema: **reviewers must read these changes before approving.**
{{#each codeChanges}}
> - {{path}} ({{status}}){{#if targets}}, run by target {{targets}}{{/if}}
{{/each}}

{{/if}}
{{#if policyChanges.length}}
> [!WARNING]
> This pull request changes the rules themselves. The changes take effect only once merged: it is judged by the policies at **{{policySource}}**.
{{#each policyChanges}}
> - {{path}} ({{status}})
{{/each}}

{{/if}}
{{#if rows.length}}
| | User | Target | Role | From | Until | Duration | Approvals needed |
| --- | --- | --- | --- | --- | --- | --- | --- |
{{#each rows}}
| {{change}} | {{user}} | {{target}} | {{role}} | {{from}} | {{until}} | {{duration}} | {{approvalsText}} |
{{/each}}

{{/if}}
{{#if removed.length}}
Removing a grant file revokes its access on merge:
{{#each removed}}
- {{path}}
{{/each}}

{{/if}}
{{#if errors.length}}
**Errors**
{{#each errors}}
- {{file}}:{{line}}:{{column}} {{message}}
{{/each}}

{{/if}}
{{#if warnings.length}}
**Warnings**
{{#each warnings}}
- {{file}}:{{line}}:{{column}} {{message}}
{{/each}}

{{/if}}
{{#unless rows.length}}{{#unless errors.length}}{{#unless removed.length}}
No grant changes in this pull request.

{{/unless}}{{/unless}}{{/unless}}
<sub>{{grantsChecked}} grant file(s) checked against the policies at {{policySource}} · {{now}}</sub>
`,
  'apply-summary.md': `### grantops apply{{#if dryRun}} (dry run: nothing was changed){{/if}}

{{#if rows.length}}
| Action | Target | User | Access | Why | Until | Result |
| --- | --- | --- | --- | --- | --- | --- |
{{#each rows}}
| {{kind}} | {{target}} | {{user}} | {{entitlement}} | {{reason}} | {{expiresAt}} | {{result}}{{#if error}}: {{error}}{{/if}} |
{{/each}}
{{else}}
Every target matches the approved grants: nothing to do.
{{/if}}

{{#if refused.length}}
**Not applied: reviewer approval missing**
{{#each refused}}
- {{file}}: {{reason}}
{{/each}}

{{/if}}
{{#if unobserved.length}}
**Targets that could not be read (nothing was planned for them)**
{{#each unobserved}}
- {{target}}: {{error}}
{{/each}}

{{/if}}
{{#if drift.length}}
**Access without a grant**
{{#each drift}}
- {{target}}: {{user}} holds {{entitlement}}{{#if heldByGuard}} (enforcement held back by the guard){{else}}{{#if enforced}} (revoked: enforce){{/if}}{{/if}}
{{/each}}

{{/if}}
`,
  'refused-issue.md': `The grant **{{grant}}** ({{file}}) was merged but **not applied**: {{reason}}

| User | Target | Role | Approvals needed | From |
| --- | --- | --- | --- | --- |
| {{user}} | {{target}} | {{role}} | {{approvals}} | {{approvers}} |

To resolve: get the required approvals on a pull request that re-submits this grant (for example one that
touches its reason), or remove the file. This issue closes by itself once the grant is applied or gone.
`,
  'expiry-warning.md': `{{mention}} your **{{role}}** access on **{{target}}** (grant {{grant}}) ends at **{{expiresAt}}**, in {{remaining}}.

To extend it, open a pull request that moves \`expiresAt\` in {{file}}; it is judged by the same policy (at most {{maxDuration}} for this role) and needs its approvals again.
`,
  'overdue-issue.md': `Access of the expired grant **{{grant}}** ({{file}}) could not be confirmed revoked.

| User | Target | Role | Expired | Overdue by |
| --- | --- | --- | --- | --- |
| {{user}} | {{target}} | {{role}} | {{expiresAt}} | {{overdue}} |

Last error: {{reason}}

The reaper retries on every run; this issue closes by itself once the revocation succeeds. Until then,
revoke the access by hand if the target allows it.
`,
  'break-glass-issue.md': `**Break-glass**: {{mention}} gave themselves **{{role}}** on **{{target}}** (grant {{grant}}, {{file}}) without prior approval, through PR #{{pr}}.

| User | Target | Role | Until | Landed on main | Review by |
| --- | --- | --- | --- | --- | --- |
| {{user}} | {{target}} | {{role}} | {{expiresAt}} | {{landedAt}} | **{{reviewBy}}** |

Reason: {{reason}}

**To review:** an approver of role {{role}} ({{approvers}}), other than {{user}} and the PR's author, comments \`/grantops approve\` (alone on the first line) on this issue by {{reviewBy}}. Without that, the reaper revokes the access at its first run after {{reviewBy}} and alerts.
`,
  'break-glass-reviewed.md': `Reviewed in time: {{by}} approved at {{at}} (due by {{reviewBy}}). The access stays until {{expiresAt}}.
`,
  'break-glass-revoked.md': `**Not reviewed in time**: the access of {{user}} ({{role}} on {{target}}) was revoked early at {{now}}, {{reviewWithin}} after the merge. {{reason}}
`,
  'break-glass-webhook.txt': `grantops: break-glass access of {{user}} ({{role}} on {{target}}, grant {{grant}}) in {{repo}} was not reviewed in time and was revoked early: {{reason}}`,
  'review-unread-issue.md': `The retro review of the break-glass grant **{{grant}}** ({{file}}) was due at **{{due}}** ({{late}} ago) and could not be read from GitHub.

| User | Target | Role | Review due | Past due by |
| --- | --- | --- | --- | --- |
| {{user}} | {{target}} | {{role}} | {{due}} | {{late}} |

Last error: {{reason}}

Its access is neither kept nor revoked on a read failure: the reaper asks GitHub again on every run
and decides from GitHub's own timestamps; this issue closes by itself once it has.
`,
  'review-unread-webhook.txt': `grantops: {{count}} break-glass grant(s) in {{repo}} past their review deadline could not be decided (GitHub failed):{{#each items}} {{grant}} ({{user}}, {{role}} on {{target}}, review due {{due}}, {{late}} ago: {{reason}});{{/each}}`,
  'break-glass-never-reviewed.md': `**Used and never reviewed**: the access of {{user}} ({{role}} on {{target}}) ended at its expiresAt, {{expiresAt}} (revoked as any expired grant); no eligible \`/grantops approve\` was found on this issue (review due by {{reviewBy}}). A review posted now is no longer read by grantops: review the use by hand.
`,
  'break-glass-never-reviewed-webhook.txt': `grantops: break-glass access of {{user}} ({{role}} on {{target}}, grant {{grant}}) in {{repo}} ended at {{expiresAt}}, used and never reviewed (review due by {{reviewBy}})`,
  'webhook.txt': `grantops: {{count}} grant(s) could not be revoked in {{repo}}:{{#each items}} {{grant}} ({{user}} on {{target}}, expired {{expiresAt}}: {{reason}});{{/each}}`,
  'reap-summary.md': `### grantops reap{{#if dryRun}} (dry run: nothing was changed){{/if}}

{{#if revoked.length}}
| Grant | User | Target | Role | Expired | Revoked | Exposure (lag) |
| --- | --- | --- | --- | --- | --- | --- |
{{#each revoked}}
| {{id}} | {{user}} | {{target}} | {{role}} | {{expiresAt}} | {{revokedAt}} | {{lag}} |
{{/each}}

{{else}}
No expired grants.

{{/if}}
{{#if failed.length}}
**Not revoked (files kept, run fails)**
{{#each failed}}
- {{grant}}: {{reason}}
{{/each}}

{{/if}}
{{#if problems.length}}
**Problems (the run fails; the revocations above are done)**
{{#each problems}}
- {{this}}
{{/each}}

{{/if}}
{{#if commit}}Cleanup commit {{commit}}{{#if pushed}}, pushed{{/if}}{{#if pullRequest}}; main is protected: cleanup pull request #{{pullRequest}}{{/if}}.{{/if}}
`,
  'cleanup-commit.txt': `{{#each grants}}
- {{id}}: {{user}} had {{role}} on {{target}}; {{#if unreviewed}}break-glass not reviewed by {{expiresAt}}, revoked early {{revokedAt}}{{else}}expired {{expiresAt}}, revoked {{revokedAt}} ({{lag}} after expiry){{#if neverReviewed}}; break-glass, never reviewed{{/if}}{{/if}}
{{/each}}
`,
} as const;

export type TemplateName = keyof typeof DEFAULT_TEMPLATES;

/** Where each template's text ends up, which decides how the strings of its view are escaped. */
export const TEMPLATE_SINKS: Record<TemplateName, 'markdown' | 'slack' | 'line'> = {
  'pr-comment.md': 'markdown',
  'apply-summary.md': 'markdown',
  'refused-issue.md': 'markdown',
  'expiry-warning.md': 'markdown',
  'overdue-issue.md': 'markdown',
  'reap-summary.md': 'markdown',
  'break-glass-issue.md': 'markdown',
  'break-glass-reviewed.md': 'markdown',
  'break-glass-revoked.md': 'markdown',
  'break-glass-webhook.txt': 'slack',
  'break-glass-never-reviewed.md': 'markdown',
  'break-glass-never-reviewed-webhook.txt': 'slack',
  'review-unread-issue.md': 'markdown',
  'review-unread-webhook.txt': 'slack',
  'webhook.txt': 'slack',
  'cleanup-commit.txt': 'line',
};
