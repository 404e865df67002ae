import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { evidenceSigner, evidenceVerifier } from '../../src/policy/evidence-signature.js';
import type { ApprovalNote } from '../../src/policy/approval.js';
import { aGrant } from '../support/builders.js';
import { blobId } from '../support/fakes/memory-git.js';
import { Scenario } from '../support/fakes/scenario.js';

/**
 * Issue 10, as an attacker with write access to the access repo: every way to get access without
 * the approval the rules ask for. Each test failed on the code before the fix.
 */
const STRICT = `target: { name: vpn, type: exec, command: [./scripts/vpn.sh] }
roles:
  ops: { maxDuration: 12h, approvals: 2, approvers: [bob, carol] }
`;
const LOOSE = `target: { name: vpn, type: exec, command: [./scripts/vpn.sh] }
roles:
  ops: { maxDuration: 12h, approvals: 1, approvers: [eve] }
`;
const grant = (user: string, expiresAt = '2026-11-28T18:00:00Z') =>
  aGrant().for(user).on('vpn', 'ops').expiresAt(expiresAt).without('ticket').yaml();

/** A note as an attacker writes it: the right blob, enough approvers, no GitHub behind it. */
function forgeNote(s: Scenario, commit: string, id: string, file: string): void {
  const note: ApprovalNote = {
    grantops: 1,
    grants: {
      [id]: {
        pr: 1,
        headSha: commit,
        approvers: ['bob', 'carol'],
        commit,
        blob: blobId(s.git.head.files.get(file)!),
        verifiedAt: '2026-11-28T10:00:00Z',
      },
    },
  };
  s.remote.notes.set(commit, JSON.stringify(note));
  s.git.notes.set(commit, JSON.stringify(note));
}

describe('approval cannot be forged', () => {
  it('a grant pushed straight to main with a hand-written note is refused, with or without a token', async () => {
    const s = new Scenario({ 'policies/vpn.yaml': STRICT });
    const commit = s.pushToMain({ 'grants/mallory.yaml': grant('mallory') });
    forgeNote(s, commit, 'mallory', 'grants/mallory.yaml');

    const online = await s.apply('2026-11-28T12:00:00Z');
    expect(online.refused.map((r) => r.reason)).toEqual([expect.stringContaining('no merged pull request')]);
    const offline = await s.apply('2026-11-28T12:00:00Z', { github: false });
    expect(offline.refused.map((r) => r.reason)).toEqual([expect.stringContaining('verified with GitHub')]);
    expect(s.log.filter((c) => c.startsWith('grant '))).toEqual([]);
  });

  it('a PR merged with one ineligible approval plus a forged note is refused', async () => {
    const s = new Scenario({ 'policies/vpn.yaml': STRICT });
    const merge = s.mergePullRequest({
      number: 1,
      author: 'mallory',
      files: { 'grants/mallory.yaml': grant('mallory') },
      approvedBy: ['eve'],
    });
    forgeNote(s, merge, 'mallory', 'grants/mallory.yaml');
    const r = await s.apply('2026-11-28T12:00:00Z');
    expect(r.refused.map((x) => x.grant.id)).toEqual(['mallory']);
    expect(r.refused[0]!.reason).toContain('0 of the 2 approval(s)');
  });
});

describe('a PR is judged by the policy of its base', () => {
  it('a PR that loosens the policy judging it is refused, though its own rule is met', async () => {
    const s = new Scenario({ 'policies/vpn.yaml': STRICT });
    s.mergePullRequest({
      number: 1,
      author: 'mallory',
      files: { 'policies/vpn.yaml': LOOSE, 'grants/mallory.yaml': grant('mallory') },
      approvedBy: ['eve'],
    });
    const r = await s.apply('2026-11-28T12:00:00Z');
    expect(r.refused.map((x) => [x.grant.id, x.reason])).toEqual([
      ['mallory', expect.stringContaining('also changed the policy of target vpn')],
    ]);
  });

  it('a PR that changes what a target’s role confers cannot ride on it, even where merge alone grants', async () => {
    // Red-team finding: approval was judged by the base, the target built from the PR's own policy.
    const base = `target: { name: vpn, type: exec, command: [./scripts/vpn.sh] }
roles:
  ops: { maxDuration: 12h, approvals: 0 }
`;
    const s = new Scenario({ 'policies/vpn.yaml': base });
    s.mergePullRequest({
      number: 1,
      author: 'mallory',
      files: {
        'policies/vpn.yaml': base.replace('./scripts/vpn.sh', './scripts/root-shell.sh'),
        'grants/mallory.yaml': grant('mallory'),
      },
    });
    const r = await s.apply('2026-11-28T12:00:00Z');
    expect(r.refused.map((x) => x.grant.id)).toEqual(['mallory']);
    expect(s.log.filter((c) => c.startsWith('grant '))).toEqual([]);
  });

  it('a later policy change neither approves nor refuses grants merged before it', async () => {
    const s = new Scenario({ 'policies/vpn.yaml': STRICT });
    s.mergePullRequest({
      number: 1,
      author: 'alice',
      files: { 'grants/alice.yaml': grant('alice') },
      approvedBy: ['bob', 'carol'],
    });
    s.mergePullRequest({
      number: 2,
      author: 'dan',
      files: { 'grants/dan.yaml': grant('dan') },
      approvedBy: ['eve'],
    });
    // Approved by two of bob and carol (the rule then), reviewed by every approver of the rule now.
    s.mergePullRequest({
      number: 3,
      author: 'lead',
      files: { 'policies/vpn.yaml': LOOSE },
      approvedBy: ['bob'],
    });
    const r = await s.apply('2026-11-28T12:00:00Z');
    expect([...r.approved].map(([id, v]) => [id, v.approved])).toEqual([
      ['alice', true],
      ['dan', false],
    ]);
  });

  it('maxDuration is the base policy’s too: a PR that raises it cannot use the raise', async () => {
    const s = new Scenario({ 'policies/vpn.yaml': STRICT.replace('12h', '1h') });
    s.mergePullRequest({
      number: 1,
      author: 'mallory',
      files: { 'policies/vpn.yaml': STRICT, 'grants/mallory.yaml': grant('mallory', '2026-11-28T20:00:00Z') },
      approvedBy: ['bob', 'carol'],
    });
    const r = await s.apply('2026-11-28T12:00:00Z');
    expect(r.refused.map((x) => x.reason)).toEqual([expect.stringContaining('over the maxDuration 1h')]);
  });
});

describe('identity is the account, not the login', () => {
  it('records the account id with the evidence, and refuses once the login belongs to someone else', async () => {
    const s = new Scenario({ 'policies/vpn.yaml': STRICT });
    const merge = s.mergePullRequest({
      number: 1,
      author: 'lead',
      files: { 'grants/alice.yaml': grant('alice') },
      approvedBy: ['bob', 'carol'],
    });
    s.github.accounts.set('alice', 101);
    const first = await s.apply('2026-11-28T12:00:00Z');
    expect(first.refused).toEqual([]);
    const note = JSON.parse(s.remote.notes.get(merge)!) as ApprovalNote;
    expect(note.grants.alice?.userId).toBe(101);

    // alice renamed her account; someone else registered the login.
    s.github.accounts.set('alice', 202);
    const again = await s.apply('2026-11-28T13:00:00Z');
    expect(again.refused.map((x) => x.reason)).toEqual([
      expect.stringContaining(
        'now belongs to another GitHub account (id 202; the grant was approved for id 101)',
      ),
    ]);
  });

  it('asks GitHub again on every apply: a recorded note alone never grants', async () => {
    const s = new Scenario({ 'policies/vpn.yaml': STRICT });
    s.mergePullRequest({
      number: 1,
      author: 'lead',
      files: { 'grants/alice.yaml': grant('alice') },
      approvedBy: ['bob', 'carol'],
    });
    await s.apply('2026-11-28T12:00:00Z');
    // The approvals are dismissed on GitHub after the first run: the note stays, the grant does not.
    s.github.pulls[0]!.reviews = [];
    const r = await s.apply('2026-11-28T13:00:00Z');
    expect(r.refused.map((x) => x.grant.id)).toEqual(['alice']);
  });
});

describe('signed evidence', () => {
  it('signs what apply records; a note changed afterwards no longer verifies', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const signer = evidenceSigner(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
    const verify = evidenceVerifier(publicKey.export({ type: 'spki', format: 'pem' }).toString());
    const s = new Scenario({ 'policies/vpn.yaml': STRICT });
    const merge = s.mergePullRequest({
      number: 1,
      author: 'lead',
      files: { 'grants/alice.yaml': grant('alice') },
      approvedBy: ['bob', 'carol'],
    });
    await s.apply('2026-11-28T12:00:00Z', { signer });
    const evidence = (JSON.parse(s.remote.notes.get(merge)!) as ApprovalNote).grants.alice!;
    expect(verify('alice', evidence)).toBe(true);
    expect(verify('alice', { ...evidence, approvers: ['mallory', 'bob'] })).toBe(false);
    expect(verify('mallory', evidence)).toBe(false);
    expect(verify('alice', { ...evidence, signature: undefined })).toBe(false);
  });
});
