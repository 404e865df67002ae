import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { aGrant } from './builders.js';
import { STATE_FILE_SCRIPT } from './cli.js';
import { tempRepo, type TempRepo } from './repo.js';

/** Text a writer of the access repo could put in a grant, meant to break out of every sink. */
export const HOSTILE_REASON =
  'INC-9 </script><script>window.pwned=1</script><img src=x onerror="window.pwned=2"> "; DROP TABLE grants;-- \u0007bell \u202eevil';
export const HOSTILE_ID = 'vpn/<img src=x onerror=alert(1)>';

/** The instant the fixture is read at. */
export const REPORT_NOW = '2026-11-28T12:00:00Z';

/**
 * An access repo for the dashboard, with real commits at pinned dates (2026-11-28 from 09:00, a
 * second apart) and merge commits that name their PRs:
 *   #1 alice ops on vpn until 18:00 (active), with an (unsigned) approval note by bob
 *   #2 bob ops on vpn until 13:00 (expiring: vpn's window is 12h / 4 = 3h)
 *   #3 carol ops on vpn until 10:00 (overdue: still on main at 12:00)
 *   #4 dave ops on vpn from tomorrow 00:00 (pending)
 *   #5 erin ops on vpn, removed again by #6 (past, on the timeline)
 *   #7 eve ops on vpn with hostile text in its id and reason
 * The vpn target is the state-file exec script holding alice, carol and zed (access no grant
 * explains; bob's is missing); the `down` target's script does not exist (unreadable).
 */
export function reportFixture(): TempRepo {
  const repo = tempRepo(
    {
      'policies/vpn.yaml': `target: { name: vpn, type: exec, command: [./scripts/vpn.cjs] }
roles:
  ops: { maxDuration: 12h, approvals: 0 }
`,
      'policies/down.yaml': `target: { name: down, type: exec, command: [./scripts/missing.sh] }
roles:
  ops: { maxDuration: 1d, approvals: 0 }
`,
      'scripts/vpn.cjs': STATE_FILE_SCRIPT,
      '.gitignore': '.state.json\n',
    },
    { git: true },
  );
  chmodSync(join(repo.dir, 'scripts/vpn.cjs'), 0o755);
  const grant = (user: string) => aGrant().for(user).on('vpn', 'ops').without('ticket');
  const merges: Record<number, string> = {};
  const merge = (pr: number, files: Record<string, string | null>) => {
    repo.git('checkout', '-q', '-b', `pr-${pr}`, 'main');
    for (const [path, text] of Object.entries(files)) {
      if (text === null) repo.git('rm', '-q', path);
      else repo.write({ [path]: text });
    }
    repo.commit(`change for #${pr}`);
    repo.git('checkout', '-q', 'main');
    repo.git('merge', '-q', '--no-ff', '-m', `Merge pull request #${pr} from acme/pr-${pr}`, `pr-${pr}`);
    merges[pr] = repo.git('rev-parse', 'HEAD');
  };
  merge(1, {
    'grants/vpn/alice.yaml': grant('alice')
      .with('reason', 'INC-4211 checkout latency')
      .expiresAt('2026-11-28T18:00:00Z')
      .yaml(),
  });
  merge(2, {
    'grants/vpn/bob.yaml': grant('bob').with('reason', 'deploy').expiresAt('2026-11-28T13:00:00Z').yaml(),
  });
  merge(3, {
    'grants/vpn/carol.yaml': grant('carol')
      .with('reason', 'backfill')
      .expiresAt('2026-11-28T10:00:00Z')
      .yaml(),
  });
  merge(4, {
    'grants/vpn/dave.yaml': grant('dave')
      .with('reason', 'night shift')
      .startsAt('2026-11-29T00:00:00Z')
      .expiresAt('2026-11-29T06:00:00Z')
      .yaml(),
  });
  merge(5, {
    'grants/vpn/erin.yaml': grant('erin').with('reason', 'one-off').expiresAt('2026-11-28T20:00:00Z').yaml(),
  });
  merge(6, { 'grants/vpn/erin.yaml': null });
  merge(7, {
    [`grants/${HOSTILE_ID}.yaml`]: grant('eve')
      .with('reason', HOSTILE_REASON)
      .expiresAt('2026-11-28T19:00:00Z')
      .yaml(),
  });
  const blob = repo.git('rev-parse', `${merges[1]}:grants/vpn/alice.yaml`);
  const evidence = {
    pr: 1,
    headSha: merges[1],
    approvers: ['bob'],
    commit: merges[1],
    blob,
    verifiedAt: '2026-11-28T09:30:00Z',
  };
  repo.git(
    'notes',
    '--ref=grantops',
    'add',
    '-m',
    JSON.stringify({ grantops: 1, grants: { 'vpn/alice': evidence } }),
    merges[1]!,
  );
  writeFileSync(
    join(repo.dir, '.state.json'),
    JSON.stringify([
      { user: 'alice', role: 'ops' },
      { user: 'carol', role: 'ops' },
      { user: 'zed', role: 'ops' },
    ]),
  );
  return repo;
}
