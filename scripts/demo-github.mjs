#!/usr/bin/env node
// The demo's stand-in for GitHub: a loopback HTTP server answering the few REST calls grantops makes
// to verify approval (the PR that brought a commit, its reviews, the tree at its head, an account's
// id, team membership), from a JSON file the demo writes as its "pull requests" are merged. Nothing
// leaves the machine. The tests use a fuller server checked against GitHub's OpenAPI description.
//   node scripts/demo-github.mjs STATE.json REPO_DIR PORT_FILE
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';

const [stateFile, repoDir, portFile] = process.argv.slice(2);
const user = (login) => ({ login, id: idOf(login), type: 'User' });
function idOf(login) {
  return [...login.toLowerCase()].reduce((h, c) => (h * 31 + c.charCodeAt(0)) % 1_000_000, 7);
}

const routes = [
  [
    /^\/repos\/[^/]+\/[^/]+\/commits\/([0-9a-f]{40})\/pulls$/,
    (s, [sha]) =>
      s.pulls
        .filter((p) => p.merge === sha)
        .map((p) => ({
          number: p.number,
          user: user(p.author),
          merged_at: p.mergedAt,
          merge_commit_sha: p.merge,
          head: { sha: p.head },
        })),
  ],
  [
    /^\/repos\/[^/]+\/[^/]+\/pulls\/(\d+)\/reviews$/,
    (s, [n]) =>
      (s.pulls.find((p) => p.number === Number(n))?.reviews ?? []).map((r, i) => ({
        id: i + 1,
        user: user(r.user),
        state: r.state,
        commit_id: s.pulls.find((p) => p.number === Number(n)).head,
      })),
  ],
  [
    // The pull request's commits: its author made them (their authors never count as approvers).
    /^\/repos\/[^/]+\/[^/]+\/pulls\/(\d+)\/commits$/,
    (s, [n]) => {
      const p = s.pulls.find((x) => x.number === Number(n));
      return p
        ? [{ sha: p.head, author: user(p.author), committer: user(p.author), commit: { message: 'request' } }]
        : [];
    },
  ],
  [
    /^\/repos\/[^/]+\/[^/]+\/git\/trees\/([0-9a-f]{40})$/,
    (_s, [sha]) => ({
      sha,
      truncated: false,
      tree: execFileSync('git', ['-C', repoDir, 'ls-tree', '-r', sha], { encoding: 'utf8' })
        .split('\n')
        .filter(Boolean)
        .map((line) => {
          const [meta, path] = line.split('\t');
          return { path, type: 'blob', sha: meta.split(' ')[2] };
        }),
    }),
  ],
  [/^\/users\/([^/]+)$/, (_s, [login]) => user(decodeURIComponent(login))],
];

const server = createServer((req, res) => {
  const path = new URL(req.url, 'http://localhost').pathname;
  const state = JSON.parse(readFileSync(stateFile, 'utf8'));
  for (const [pattern, answer] of routes) {
    const m = pattern.exec(path);
    if (req.method === 'GET' && m) {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify(answer(state, m.slice(1))));
    }
  }
  res.writeHead(404, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ message: 'Not Found' }));
});
server.listen(0, '127.0.0.1', () => writeFileSync(portFile, String(server.address().port)));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
