import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Writes an access repo with `policies` policies and `grants` grants spread over them. */
export function generateAccessRepo(dir: string, grants: number, policies = 20): void {
  mkdirSync(join(dir, 'policies'), { recursive: true });
  for (let p = 0; p < policies; p++) {
    const kind = p % 4;
    const target =
      kind === 0
        ? `{ name: t${p}, type: postgres, urlEnv: DB_${p}_URL }`
        : kind === 1
          ? `{ name: t${p}, type: github-team, org: acme, team: team-${p} }`
          : kind === 2
            ? `{ name: t${p}, type: github-repo, repo: acme/repo-${p} }`
            : `{ name: t${p}, type: exec, command: [./scripts/t${p}.sh] }`;
    const role = kind === 0 ? 'readonly' : kind === 1 ? 'member' : kind === 2 ? 'push' : 'ops';
    const extra = kind === 0 ? ', dbRoles: [pg_read_all_data]' : '';
    writeFileSync(
      join(dir, 'policies', `t${p}.yaml`),
      `target: ${target}\nroles:\n  ${role}: { maxDuration: 8h, approvals: 1, approvers: [bob, "@acme/leads"]${extra} }\n` +
        `grantSchema:\n  required: [ticket]\n  properties: { ticket: { pattern: "^INC-[0-9]+$" } }\n`,
    );
  }
  const roles = ['readonly', 'member', 'push', 'ops'];
  for (let i = 0; i < grants; i++) {
    const p = i % policies;
    const sub = join(dir, 'grants', `t${p}`, String(Math.floor(i / 1000)));
    if (i < policies * Math.ceil(grants / 1000) || i % 1000 < policies) mkdirSync(sub, { recursive: true });
    const hour = 13 + (i % 6);
    writeFileSync(
      join(sub, `user${i}.yaml`),
      `user: user${i}\ntarget: t${p}\nrole: ${roles[p % 4]}\nreason: INC-${i} investigate incident number ${i}\nticket: INC-${i}\nexpiresAt: 2026-11-28T${hour}:00:00Z\n`,
    );
  }
}
