import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A throwaway PostgreSQL cluster on loopback (Debian's package): initdb, pg_ctl start on a free
 * port, trust auth for the test superuser. Runs as the postgres user when the tests run as root.
 */
export interface TestPostgres {
  url: string;
  /** Connection URL for another role, which authenticates with a password. */
  urlFor(role: string, password: string): string;
  stop(): void;
}

function binary(name: string): string {
  for (const dir of (process.env.PATH ?? '').split(':'))
    if (existsSync(join(dir, name))) return join(dir, name);
  const base = '/usr/lib/postgresql';
  if (existsSync(base)) {
    for (const v of readdirSync(base).sort().reverse())
      if (existsSync(join(base, v, 'bin', name))) return join(base, v, 'bin', name);
  }
  throw new Error(`${name} not found: install PostgreSQL (Debian package postgresql); .ci/run does`);
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

export async function startPostgres(): Promise<TestPostgres> {
  const root = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), 'grantops-pg-'));
  chmodSync(dir, 0o700);
  const data = join(dir, 'data');
  const asPg = (cmd: string, args: string[]) =>
    (root ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args]) as [string, string[]];
  if (root) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
  }
  const port = await freePort();
  const run = (cmd: string, args: string[]) => {
    const [c, a] = asPg(cmd, args);
    const r = spawnSync(c, a, { encoding: 'utf8', timeout: 60_000 });
    if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr || r.stdout}`);
  };
  run(binary('initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8']);
  // The superuser connects without a password; everyone else with one, so VALID UNTIL (which only
  // limits password authentication) is enforced as in production.
  const hba = join(data, 'pg_hba.conf');
  const [c, a] = asPg('sh', [
    '-c',
    `printf '%s\\n' 'local all all trust' 'host all postgres 127.0.0.1/32 trust' 'host all all 127.0.0.1/32 scram-sha-256' > ${hba}`,
  ]);
  execFileSync(c, a);
  run(binary('pg_ctl'), [
    '-D',
    data,
    '-w',
    '-l',
    join(dir, 'log'),
    '-o',
    `-p ${port} -c listen_addresses=127.0.0.1 -k ${dir} -c fsync=off`,
    'start',
  ]);
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  return {
    url,
    urlFor: (role, password) =>
      `postgres://${encodeURIComponent(role)}:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`,
    stop() {
      try {
        run(binary('pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
