// GitHub client benchmark: the cost of one call through grantops' client against raw fetch and a plain
// Octokit, against the local GitHub server with 50 ms latency per call. Sequential calls, so any
// per-call overhead (limiters, wrappers) shows in full.
import { Octokit } from '@octokit/rest';
import { createOctokit } from '../src/adapters/github-client.js';
import { FakeGitHub } from '../test/support/github-server.js';

const LATENCY = Number(process.env.BENCH_GITHUB_LATENCY ?? 50);
const CALLS = Number(process.env.BENCH_GITHUB_CALLS ?? 100);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

type Call = (i: number) => Promise<unknown>;

async function perCall(call: Call): Promise<number> {
  await call(-1); // connection set up outside the measurement
  const started = performance.now();
  for (let i = 0; i < CALLS; i++) await call(i);
  return (performance.now() - started) / CALLS;
}

export async function benchGitHub(): Promise<void> {
  const gh = await FakeGitHub.start({ token: 'tok', latencyMs: LATENCY });
  try {
    const headers = { authorization: 'token tok', accept: 'application/vnd.github+json' };
    const raw =
      (method: string): Call =>
      async (i) => {
        const res = await fetch(`${gh.url}/orgs/acme/teams/oncall/memberships/u${i}`, {
          method,
          headers: { ...headers, 'content-type': 'application/json' },
          body: method === 'PUT' ? JSON.stringify({ role: 'member' }) : undefined,
        });
        await res.arrayBuffer();
      };
    const viaOctokit =
      (o: Octokit, method: 'GET' | 'PUT'): Call =>
      async (i) => {
        const params = { org: 'acme', team_slug: 'oncall', username: `u${i}` };
        if (method === 'PUT')
          await o.rest.teams.addOrUpdateMembershipForUserInOrg({ ...params, role: 'member' });
        else await o.rest.teams.getMembershipForUserInOrg(params);
      };
    const plain = new Octokit({ auth: 'tok', baseUrl: gh.url });
    const ours = createOctokit({ token: 'tok', baseUrl: gh.url });
    const cells: { name: string; method: 'GET' | 'PUT'; call: Call }[] = [];
    for (const method of ['PUT', 'GET'] as const) {
      cells.push({ name: 'raw fetch', method, call: raw(method) });
      cells.push({ name: 'plain Octokit', method, call: viaOctokit(plain, method) });
      cells.push({ name: 'grantops client', method, call: viaOctokit(ours, method) });
    }
    const samples = new Map<(typeof cells)[number], number[]>(cells.map((c) => [c, []]));
    // Interleaved, so drift on a shared machine falls on every cell alike.
    for (let r = 0; r < RUNS; r++) for (const c of cells) samples.get(c)!.push(await perCall(c.call));
    console.log(
      `\ngithub: ms per call, ${CALLS} sequential calls, median of ${RUNS} runs; local GitHub server with ${LATENCY} ms latency`,
    );
    console.log('| client | GET ms/call | PUT ms/call | GET vs Octokit | PUT vs Octokit |');
    console.log('| --- | ---: | ---: | ---: | ---: |');
    const cell = (name: string, method: string) =>
      median(samples.get(cells.find((c) => c.name === name && c.method === method)!)!);
    for (const name of ['raw fetch', 'plain Octokit', 'grantops client']) {
      const get = cell(name, 'GET');
      const put = cell(name, 'PUT');
      console.log(
        `| ${name} | ${get.toFixed(1)} | ${put.toFixed(1)} | ${(get / cell('plain Octokit', 'GET')).toFixed(2)}x | ${(put / cell('plain Octokit', 'PUT')).toFixed(2)}x |`,
      );
    }
    if (gh.violations.length) throw new Error(`violations: ${gh.violations.slice(0, 3).join('; ')}`);
  } finally {
    await gh.stop();
  }
}
