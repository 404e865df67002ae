import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ApprovalEvidence } from '../../src/policy/approval.js';
import {
  evidencePublicKeyFromEnv,
  evidenceSigner,
  evidenceVerifier,
} from '../../src/policy/evidence-signature.js';

const pem = (k: ReturnType<typeof generateKeyPairSync>['publicKey']) =>
  k.export({ type: 'spki', format: 'pem' }).toString();

describe('the evidence key from the environment (the reaper judges notes with it)', () => {
  const real = generateKeyPairSync('ed25519');
  const writer = generateKeyPairSync('ed25519');
  const evidence: ApprovalEvidence = {
    pr: 1,
    headSha: 'a'.repeat(40),
    approvers: ['lead'],
    commit: 'b'.repeat(40),
    blob: 'c'.repeat(40),
    verifiedAt: '2026-11-28T12:00:00.000Z',
  };
  const privatePem = real.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const writerPem = writer.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

  it('takes the public key as given, or derives it from the private key', () => {
    expect(evidencePublicKeyFromEnv({ GRANTOPS_EVIDENCE_PUBLIC_KEY: pem(real.publicKey) })).toBe(
      pem(real.publicKey),
    );
    expect(evidencePublicKeyFromEnv({ GRANTOPS_EVIDENCE_KEY: privatePem })).toBe(pem(real.publicKey));
    expect(evidencePublicKeyFromEnv({})).toBeUndefined();
  });

  it('refuses a note signed by a key a writer committed, accepts one signed by the workflow', () => {
    const verify = evidenceVerifier(evidencePublicKeyFromEnv({ GRANTOPS_EVIDENCE_KEY: privatePem })!);
    const genuine = { ...evidence, signature: evidenceSigner(privatePem).sign('alice', evidence) };
    const forged = { ...evidence, signature: evidenceSigner(writerPem).sign('alice', evidence) };
    expect(verify('alice', genuine)).toBe(true);
    expect(verify('alice', forged)).toBe(false);
  });
});
