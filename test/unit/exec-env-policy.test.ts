import { describe, expect, it } from 'vitest';
import type { Finding } from '../../src/model/errors.js';
import type { ExecTarget } from '../../src/model/policy.js';
import { SchemaRegistry } from '../../src/policy/schema-registry.js';
import { validateAccessRepo } from '../../src/usecases/validate-repo.js';
import { memoryTree } from '../support/memory-tree.js';

const registry = new SchemaRegistry();
const withPolicy = (text: string) =>
  validateAccessRepo(
    { now: new Date('2026-11-28T12:00:00Z') },
    { work: memoryTree({ 'policies/p.yaml': text }), registry },
  );

const brief = (f: Finding) => `${f.file}:${f.line}:${f.column}: ${f.severity}: ${f.message}`;

describe('exec target env setting', () => {
  const vpn = (env: string) => `target: { name: vpn, type: exec, command: [./scripts/vpn.sh], env: ${env} }
roles:
  ops: { maxDuration: 12h, approvals: 0 }
`;

  it('lists the variables a script gets besides the base ones', async () => {
    const r = await withPolicy(vpn('[VPN_API_KEY, VPN_REGION]'));
    expect(r.findings).toEqual([]);
    expect((r.policies.get('vpn')?.target as ExecTarget).env).toEqual(['VPN_API_KEY', 'VPN_REGION']);
    const none = await withPolicy(vpn('[]'));
    expect((none.policies.get('vpn')?.target as ExecTarget).env).toEqual([]);
  });

  it("refuses grantops' own credentials and names that are not variable names", async () => {
    for (const secret of [
      'GITHUB_TOKEN',
      'GH_TOKEN',
      'GRANTOPS_ADMIN_TOKEN',
      'GRANTOPS_EVIDENCE_KEY',
      'GRANTOPS_WEBHOOK_URL',
      'INPUT_TOKEN',
      'ACTIONS_RUNTIME_TOKEN',
    ]) {
      const r = await withPolicy(vpn(`[VPN_API_KEY, ${secret}]`));
      expect(r.policyInvalid).toBe(true);
      expect(r.findings.map((f) => f.message)).toEqual([
        `exec scripts never get grantops' own credentials; "${secret}" cannot be passed (give the script a variable of its own)`,
      ]);
    }
    const lower = await withPolicy(vpn('[vpn_key]'));
    expect(lower.policyInvalid).toBe(true);
    expect(lower.findings.map(brief)).toContain(
      'policies/p.yaml:1:69: error: "target.env.0" must be an environment variable name (upper-case letters, digits, \'_\')',
    );
  });

  it("refuses a postgres urlEnv naming grantops' own credential", async () => {
    const r = await withPolicy(`target: { name: db, type: postgres, urlEnv: GRANTOPS_EVIDENCE_KEY }
roles:
  readonly: { maxDuration: 8h, approvals: 0, dbRoles: [app_read] }
`);
    expect(r.policyInvalid).toBe(true);
    expect(r.findings.map((f) => f.message)).toEqual([
      '"target.urlEnv" cannot name grantops\' own credential "GRANTOPS_EVIDENCE_KEY" (give the database URL a variable of its own)',
    ]);
  });
});
