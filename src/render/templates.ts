/**
 * Built-in templates. An access repo overrides one by committing `templates/<name>.hbs`; overrides
 * are read from the same tree as the policies (a PR's base), so a PR cannot restyle its own review.
 * Every string in a template's view is already Markdown-escaped, so `{{value}}` is always safe.
 */
export const DEFAULT_TEMPLATES = {
  'pr-comment.md': `### {{#if ok}}✅ grantops: this pull request is valid{{else}}❌ grantops: {{errorCount}} problem(s) to fix{{/if}}

{{#if ruleChanges.length}}
> [!WARNING]
> This pull request changes the rules themselves. The changes take effect only once merged: it is judged by the policies at **{{policySource}}**.
{{#each ruleChanges}}
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
} as const;

export type TemplateName = keyof typeof DEFAULT_TEMPLATES;
