import { stringify } from 'yaml';

/** Fluent grant fixtures: `aGrant().for('alice').on('prod-db', 'readonly').expiresAt('...')`. */
export class GrantBuilder {
  private fields: Record<string, unknown> = {
    user: 'alice',
    target: 'prod-db',
    role: 'readonly',
    reason: 'INC-1 investigate',
    ticket: 'INC-1',
    expiresAt: '2026-11-28T18:00:00Z',
  };
  for(user: string): this {
    this.fields.user = user;
    return this;
  }
  on(target: string, role: string): this {
    this.fields.target = target;
    this.fields.role = role;
    return this;
  }
  expiresAt(at: string): this {
    this.fields.expiresAt = at;
    return this;
  }
  startsAt(at: string): this {
    this.fields.startsAt = at;
    return this;
  }
  with(key: string, value: unknown): this {
    this.fields[key] = value;
    return this;
  }
  without(key: string): this {
    delete this.fields[key];
    return this;
  }
  yaml(): string {
    return stringify(this.fields);
  }
}
export const aGrant = () => new GrantBuilder();

/** The standard policy set most tests use: one target of each type. */
export const POLICIES = {
  'policies/prod-db.yaml': `target:
  name: prod-db
  type: postgres
  urlEnv: PROD_DB_URL
roles:
  readonly: { maxDuration: 8h, approvals: 1, approvers: ["@acme/dba", bob], dbRoles: [pg_read_all_data] }
  readwrite: { maxDuration: 2h, approvals: 2, approvers: ["@acme/dba"], dbRoles: [pg_write_all_data] }
grantSchema:
  required: [ticket]
  properties: { ticket: { pattern: "^INC-[0-9]+$" } }
`,
  'policies/team.yaml': `target: { name: platform-team, type: github-team, org: acme, team: platform }
roles:
  member: { maxDuration: 1d, approvals: 1, approvers: ["@acme/leads"] }
`,
  'policies/repo.yaml': `target: { name: payments-repo, type: github-repo, repo: acme/payments }
roles:
  pull: { maxDuration: 2d, approvals: 0 }
  push: { maxDuration: 12h, approvals: 1, approvers: [bob] }
`,
  'policies/vpn.yaml': `target: { name: vpn, type: exec, command: [./scripts/vpn.sh] }
roles:
  ops: { maxDuration: 12h, approvals: 1, approvers: [bob] }
`,
} as const;

/** The instant most tests run at. */
export const NOW = '2026-11-28T12:00:00Z';
