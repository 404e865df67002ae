import { afterEach, describe, expect, it } from 'vitest';
import { cliIn } from '../support/cli.js';
import { tempRepo, type TempRepo } from '../support/repo.js';

/**
 * `audit --verify` reports a version that broke the extension history rules (the checks
 * `validate --base` and apply make): a field other than expiresAt changed with an extension, the
 * list dropped, an extension rewritten, one not starting at the expiresAt before it. Real git, commits
 * at pinned times (~09:00), each version a commit of its own on main.
 */
const repos: TempRepo[] = [];
afterEach(() => {
  for (const r of repos.splice(0)) r.cleanup();
});

const POLICY = `target: { name: vpn, type: exec, command: [./scripts/vpn.cjs] }
roles:
  ops: { maxDuration: 8h, approvals: 0 }
`;
const grant = (user: string, extra: string) =>
  `user: ${user}\ntarget: vpn\nrole: ops\nreason: INC-7 restore the VPN\nticket: INC-7\n${extra}`;
const ext = (from: string, to: string, reason = 'still on it') =>
  `  - { from: "2026-11-28T${from}:00Z", to: "2026-11-28T${to}:00Z", reason: ${reason} }\n`;

interface Finding {
  kind: string;
  grant: string;
  commit: string;
  message: string;
}

async function findings(repo: TempRepo): Promise<Finding[]> {
  const r = await cliIn(repo.dir, ['audit', '--verify', '--format', 'json', '--now', '2026-11-28T10:00:00Z']);
  return (JSON.parse(r.stdout) as { violations: Finding[] }).violations.filter(
    (v) => v.kind === 'extension-history',
  );
}

describe('audit --verify: the extension history rules', () => {
  it('reports each version that broke them, and none that kept them', async () => {
    const repo = tempRepo({ 'policies/vpn.yaml': POLICY }, { git: true });
    repos.push(repo);
    const step = (files: Record<string, string>, message: string) => {
      repo.write(files);
      return repo.commit(message);
    };
    step(
      {
        'grants/alice.yaml': grant('alice', 'expiresAt: 2026-11-28T12:00:00Z\n'),
        'grants/bob.yaml': grant('bob', 'expiresAt: 2026-11-28T12:00:00Z\n'),
        'grants/carol.yaml': grant(
          'carol',
          `expiresAt: 2026-11-28T14:00:00Z\nextensions:\n${ext('12:00', '14:00')}`,
        ),
      },
      'grants',
    );
    // A proper extension: no finding.
    step(
      {
        'grants/alice.yaml': grant(
          'alice',
          `expiresAt: 2026-11-28T14:00:00Z\nextensions:\n${ext('12:00', '14:00')}`,
        ),
      },
      'extend alice',
    );
    // startsAt moved by hand together with an extension.
    const startsAt = step(
      {
        'grants/alice.yaml': grant(
          'alice',
          `startsAt: 2026-11-28T08:00:00Z\nexpiresAt: 2026-11-28T15:00:00Z\nextensions:\n${ext('12:00', '14:00')}${ext('14:00', '15:00')}`,
        ),
      },
      'extend alice, and move startsAt',
    );
    // The list dropped.
    const dropped = step(
      {
        'grants/alice.yaml': grant(
          'alice',
          'startsAt: 2026-11-28T08:00:00Z\nexpiresAt: 2026-11-28T15:00:00Z\n',
        ),
      },
      'drop the extensions',
    );
    // An extension that does not start at the expiresAt before it.
    const moved = step(
      {
        'grants/bob.yaml': grant(
          'bob',
          `expiresAt: 2026-11-28T14:00:00Z\nextensions:\n${ext('11:00', '14:00')}`,
        ),
      },
      'extend bob from earlier',
    );
    // An extension rewritten (its reason), expiresAt unchanged.
    const rewritten = step(
      {
        'grants/carol.yaml': grant(
          'carol',
          `expiresAt: 2026-11-28T14:00:00Z\nextensions:\n${ext('12:00', '14:00', 'other')}`,
        ),
      },
      'rewrite carol',
    );
    const found = await findings(repo);
    expect(found.map((f) => [f.grant, f.commit])).toEqual([
      ['alice', startsAt],
      ['alice', dropped],
      ['bob', moved],
      ['carol', rewritten],
    ]);
    expect(found[0]!.message).toContain('"startsAt" must stay as it is');
    expect(found[0]!.message).toMatch(
      /^the change that landed at 2026-11-28T09:00:\d\dZ broke the extension rules/,
    );
    expect(found[1]!.message).toContain('extensions are history and cannot be removed');
    expect(found[2]!.message).toContain(
      '"extensions.0.from" (2026-11-28T11:00:00Z) must be the expiresAt at the base',
    );
    expect(found[3]!.message).toContain('extension 0 differs from the base');
    // The filter applies as to every finding.
    const r = await cliIn(repo.dir, [
      'audit',
      '--verify',
      '--format',
      'json',
      '--user',
      'bob',
      '--now',
      '2026-11-28T10:00:00Z',
    ]);
    const forBob = (JSON.parse(r.stdout) as { violations: Finding[] }).violations.filter(
      (v) => v.kind === 'extension-history',
    );
    expect(forBob.map((f) => f.grant)).toEqual(['bob']);
  });

  it('a delete and re-add while the grant still held access is judged as one change', async () => {
    const repo = tempRepo({ 'policies/vpn.yaml': POLICY }, { git: true });
    repos.push(repo);
    repo.write({
      'grants/dave.yaml': grant(
        'dave',
        `expiresAt: 2026-11-28T14:00:00Z\nextensions:\n${ext('12:00', '14:00')}`,
      ),
    });
    repo.commit('dave');
    repo.git('rm', '-q', 'grants/dave.yaml');
    repo.commit('remove dave');
    repo.write({ 'grants/dave.yaml': grant('dave', 'expiresAt: 2026-11-28T14:00:00Z\n') });
    const readded = repo.commit('dave again, without the list');
    const found = await findings(repo);
    expect(found.map((f) => [f.grant, f.commit])).toEqual([['dave', readded]]);
    expect(found[0]!.message).toContain('cannot be removed');
  });
});
