import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ApprovalEvidence } from '../../src/policy/approval.js';
import {
  evidencePublicKeyFromEnv,
  evidenceSigner,
  evidenceVerifier,
  loadEvidenceVerifier,
} from '../../src/policy/evidence-signature.js';
import { configFromEnvironment } from '../../src/app/config.js';
import { memoryTree } from '../support/memory-tree.js';

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

  it('a key path that is a link or a folder is an error, never "no key" (which would trust notes)', async () => {
    await expect(
      loadEvidenceVerifier(memoryTree({ '.grantops/evidence-key.pub': { symlink: '/etc/passwd' } })),
    ).rejects.toThrow('.grantops/evidence-key.pub is a symlink, not a key file');
    expect(await loadEvidenceVerifier(memoryTree({ 'policies/p.yaml': '' }))).toBeUndefined();
    const committed = await loadEvidenceVerifier(
      memoryTree({ '.grantops/evidence-key.pub': pem(real.publicKey) }),
    );
    const genuine = { ...evidence, signature: evidenceSigner(privatePem).sign('alice', evidence) };
    expect(committed?.('alice', genuine)).toBe(true);
  });
});

describe('the evidence keys in the configuration', () => {
  const a = generateKeyPairSync('ed25519');
  const b = generateKeyPairSync('ed25519');
  const priv = (k: typeof a) => k.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const run = { repo: '/r', now: new Date(0), concurrency: 1 };

  it('derives the public key from the signing key, or takes a matching one', () => {
    expect(configFromEnvironment({ GRANTOPS_EVIDENCE_KEY: priv(a) }, run).evidence).toEqual({
      signingKey: priv(a),
      publicKey: pem(a.publicKey),
    });
    expect(
      configFromEnvironment(
        { GRANTOPS_EVIDENCE_KEY: priv(a), GRANTOPS_EVIDENCE_PUBLIC_KEY: pem(a.publicKey) },
        run,
      ).evidence.keyError,
    ).toBeUndefined();
  });

  it('a broken or mismatched key is a keyError naming the variable, never a crash', () => {
    expect(configFromEnvironment({ GRANTOPS_EVIDENCE_KEY: 'garbage' }, run).evidence.keyError).toMatch(
      /^GRANTOPS_EVIDENCE_KEY is not a PEM private key/,
    );
    expect(configFromEnvironment({ GRANTOPS_EVIDENCE_PUBLIC_KEY: 'garbage' }, run).evidence.keyError).toMatch(
      /^GRANTOPS_EVIDENCE_PUBLIC_KEY is not a PEM public key/,
    );
    expect(
      configFromEnvironment(
        { GRANTOPS_EVIDENCE_KEY: priv(a), GRANTOPS_EVIDENCE_PUBLIC_KEY: pem(b.publicKey) },
        run,
      ).evidence,
    ).toEqual({
      keyError:
        'GRANTOPS_EVIDENCE_PUBLIC_KEY is not the public half of GRANTOPS_EVIDENCE_KEY (a half-done key rotation?)',
    });
  });
});
