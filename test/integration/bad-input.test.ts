import { afterAll, describe, expect, it } from 'vitest';
import { aGrant, NOW, POLICIES } from '../support/builders.js';
import { cli } from '../support/cli.js';
import { tempRepo, type Files, type TempRepo } from '../support/repo.js';

/**
 * The bad-input corpus: each case is a small access repo on disk with one broken file, the exact
 * lines validate must print, and its exit code. None may crash, hang, or pass.
 */
interface Case {
  name: string;
  files: Files;
  exit: 1 | 2;
  lines: string[];
}

const bomb = (() => {
  const lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i < 12; i++) {
    const prev = String.fromCharCode(96 + i);
    const cur = String.fromCharCode(97 + i);
    lines.push(`${cur}: &${cur} [${Array(9).fill(`*${prev}`).join(',')}]`);
  }
  return `${lines.join('\n')}\n`;
})();

const CASES: Case[] = [
  {
    name: 'malformed YAML',
    files: { 'grants/a.yaml': 'user: alice\ntarget: [prod-db\nrole: readonly\n' },
    exit: 1,
    lines: [
      'grants/a.yaml:3:1: error: Flow sequence in block collection must be sufficiently indented and end with a ]',
    ],
  },
  {
    name: 'duplicate keys',
    files: { 'grants/a.yaml': `${aGrant().yaml()}user: mallory\n` },
    exit: 1,
    lines: ['grants/a.yaml:7:1: error: Map keys must be unique'],
  },
  {
    name: 'an alias bomb',
    files: { 'grants/a.yaml': bomb },
    exit: 1,
    lines: [
      'grants/a.yaml:2:8: error: YAML aliases (*a) are not allowed in grantops files; write the value out',
    ],
  },
  {
    name: 'a 5 MiB file',
    files: { 'grants/a.yaml': `${aGrant().yaml()}# ${'x'.repeat(5 * 1024 * 1024)}\n` },
    exit: 1,
    lines: [
      'grants/a.yaml:1:1: error: file is 5242998 bytes, over the limit of 65536 bytes; refusing to parse it',
    ],
  },
  {
    name: 'non-UTF-8 bytes',
    files: {
      'grants/a.yaml': new Uint8Array([
        ...new TextEncoder().encode('user: alice\nreason: caf'),
        0xe9,
        ...new TextEncoder().encode('\n'),
      ]),
    },
    exit: 1,
    lines: ['grants/a.yaml:2:12: error: file is not valid UTF-8 (byte 0xe9 at offset 23)'],
  },
  {
    name: 'a symlink pointing outside the repo',
    files: { 'grants/a.yaml': { symlink: '../../../../etc/passwd' } },
    exit: 1,
    lines: [
      'grants/a.yaml:1:1: error: is a symbolic link (to ../../../../etc/passwd, outside the repository); grantops reads only regular files',
    ],
  },
  {
    name: 'a date without an offset',
    files: { 'grants/a.yaml': aGrant().expiresAt('2026-11-28 18:00').yaml() },
    exit: 1,
    lines: [
      'grants/a.yaml:6:12: error: "expiresAt": "2026-11-28 18:00" has no time-zone offset; write it as RFC 3339 with Z or an explicit offset, e.g. 2026-11-28T18:00:00Z',
    ],
  },
  {
    name: 'a hostile user name',
    files: { 'grants/a.yaml': aGrant().for('alice"; DROP ROLE x').yaml() },
    exit: 1,
    lines: [
      'grants/a.yaml:1:7: error: "user" must be a GitHub login: letters, digits and single inner hyphens, at most 39 characters',
    ],
  },
  {
    name: 'hostile strings in every field',
    files: {
      'grants/a.yaml': aGrant()
        .for('$(id)')
        .on('prod-db; rm -rf /', '../../etc')
        .with('reason', '')
        .with('ticket', 'INC-1\u001b[31m')
        .with('startsAt', '${now}')
        .expiresAt("'; DROP TABLE grants; --")
        .yaml(),
    },
    exit: 1,
    lines: [
      'grants/a.yaml:1:7: error: "user" must be a GitHub login: letters, digits and single inner hyphens, at most 39 characters',
      'grants/a.yaml:2:9: error: "target" must be a target name: lower-case letters, digits and inner hyphens',
      "grants/a.yaml:3:7: error: \"role\" must be a role name: letters, digits, '-' and '_'",
      'grants/a.yaml:4:9: error: "reason" must say why access is needed (not empty)',
      'grants/a.yaml:5:9: error: "ticket" must be a single line of text',
      'grants/a.yaml:6:12: error: "expiresAt": "\'; DROP TABLE grants; --" is not an RFC 3339 date-time such as 2026-11-28T18:00:00Z',
      'grants/a.yaml:7:11: error: "startsAt": "${now}" is not an RFC 3339 date-time such as 2026-11-28T18:00:00Z',
    ],
  },
  {
    name: 'a hostile file name',
    files: { 'grants/$(reboot).yaml': aGrant().yaml() },
    exit: 1,
    lines: [
      `grants/$(reboot).yaml:1:1: error: "$(reboot).yaml" is not a usable grant file name: each part of the path must be letters, digits, '.', '-' or '_' (the grant id is the path under grants/ without .yaml)`,
    ],
  },
  {
    name: 'a document that is not a mapping',
    files: { 'grants/a.yaml': '- user: alice\n' },
    exit: 1,
    lines: ['grants/a.yaml:1:1: error: the document must be a mapping'],
  },
  {
    name: 'an empty file',
    files: { 'grants/a.yaml': '' },
    exit: 1,
    lines: ['grants/a.yaml:1:1: error: the document must be a mapping'],
  },
  {
    name: 'an unknown policy key',
    files: { 'policies/x.yaml': POLICIES['policies/repo.yaml'].replace('roles:', 'maxGrants: 3\nroles:') },
    exit: 2,
    lines: ['policies/x.yaml:2:1: error: unknown key "maxGrants"'],
  },
  {
    name: 'malformed policy YAML',
    files: { 'policies/x.yaml': 'target: {name: x, type: exec\n' },
    exit: 2,
    lines: [
      'policies/x.yaml:2:1: error: Flow map in block collection must be sufficiently indented and end with a }',
    ],
  },
  {
    name: 'a symlinked folder inside grants/',
    files: { 'grants/elsewhere': { symlink: '/tmp' } },
    exit: 1,
    lines: [
      'grants/elsewhere:1:1: error: is a symbolic link (to /tmp, outside the repository); grantops reads only regular files',
    ],
  },
  {
    name: 'grants/ itself a symlink out of the repo',
    files: { grants: { symlink: '/etc' } },
    exit: 1,
    lines: [
      'grants:1:1: error: is a symbolic link (to /etc, outside the repository); grantops reads only regular files',
    ],
  },
  {
    name: 'a policy symlink',
    files: { 'policies/x.yaml': { symlink: 'repo.yaml' } },
    exit: 2,
    lines: [
      'policies/x.yaml:1:1: error: is a symbolic link (to repo.yaml); grantops reads only regular files',
    ],
  },
];

const repos: TempRepo[] = [];
afterAll(() => repos.forEach((r) => r.cleanup()));

describe('bad input gets a clear error and loses nothing', () => {
  it.each(CASES)('$name', async ({ files, exit, lines }) => {
    const repo = tempRepo({ ...POLICIES, ...files });
    repos.push(repo);
    const r = await cli(repo.dir, 'validate', '--now', NOW);
    expect(r.code).toBe(exit);
    const printed = r.stderr.split('\n').filter((l) => /^[^\s]+:\d+:\d+: (error|warning): /.test(l));
    expect(printed).toEqual(lines);
  });

  it('keeps every file in place', async () => {
    const repo = tempRepo({ ...POLICIES, 'grants/a.yaml': bomb, 'grants/b.yaml': aGrant().yaml() });
    repos.push(repo);
    await cli(repo.dir, 'validate', '--now', NOW);
    await cli(repo.dir, 'status', '--now', NOW);
    const { readFileSync } = await import('node:fs');
    expect(readFileSync(`${repo.dir}/grants/a.yaml`, 'utf8')).toBe(bomb);
  });
});
