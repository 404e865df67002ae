import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import type { FileTree } from '../model/file-tree.js';
import type { ApprovalEvidence } from './approval.js';

/**
 * Approval evidence is kept in refs/notes/grantops, which anyone who can push can write (branch
 * protection does not cover refs/notes/*). So the apply workflow signs each record with an Ed25519
 * key only it holds (a secret), and `audit --verify` checks the signature with the public half,
 * committed in the repo and guarded by CODEOWNERS (or given out of band with --evidence-key).
 * A note without a valid signature is a finding, never proof.
 */
export interface EvidenceSigner {
  sign(grantId: string, evidence: ApprovalEvidence): string;
}

/** Where an access repo keeps the public key that verifies its evidence. */
export const EVIDENCE_KEY_DIR = '.grantops';
export const EVIDENCE_KEY_PATH = `${EVIDENCE_KEY_DIR}/evidence-key.pub`;

/** The bytes a signature covers: every field an auditor relies on, in a fixed order. */
export function evidencePayload(grantId: string, e: ApprovalEvidence): Buffer {
  return Buffer.from(
    JSON.stringify([
      'grantops-evidence-v1',
      grantId,
      e.commit,
      e.blob,
      e.pr,
      e.headSha,
      [...e.approvers],
      e.userId ?? null,
      e.verifiedAt,
      // Only break-glass evidence carries it, so signatures made before break-glass still verify.
      ...(e.breakGlass ? [['break-glass', e.breakGlass.author, e.breakGlass.landedAt]] : []),
    ]),
    'utf8',
  );
}

/**
 * What a retro review's signature covers, as evidence the usual signer and verifier take: the use's
 * record with the review (who, when) in place of `verifiedAt`. That slot otherwise holds an RFC 3339
 * time, so a use's signature never passes for a review's, nor the reverse. The review is signed
 * when the reaper (holding the key) records it; a review a writer adds to a note has none.
 */
export function reviewEvidence(
  e: ApprovalEvidence,
  review: { by: string; at: string; signature?: string },
): ApprovalEvidence {
  const { signature: _use, ...rest } = e;
  return {
    ...rest,
    verifiedAt: `retro-review ${JSON.stringify([review.by, review.at])}`,
    ...(review.signature !== undefined ? { signature: review.signature } : {}),
  };
}

/** A signer from a PEM private key (PKCS#8, Ed25519): `openssl genpkey -algorithm ed25519`. */
export function evidenceSigner(privateKeyPem: string): EvidenceSigner {
  const key = createPrivateKey(privateKeyPem);
  if (key.asymmetricKeyType !== 'ed25519') throw new Error('the evidence key must be an Ed25519 private key');
  return { sign: (id, e) => sign(null, evidencePayload(id, e), key).toString('base64') };
}

/** Checks evidence against a PEM public key: true only for an intact record signed by its key. */
export function evidenceVerifier(publicKeyPem: string): (grantId: string, e: ApprovalEvidence) => boolean {
  const key: KeyObject = createPublicKey(publicKeyPem);
  if (key.asymmetricKeyType !== 'ed25519') throw new Error('the evidence key must be an Ed25519 public key');
  return (id, e) => {
    if (typeof e.signature !== 'string') return false;
    try {
      return verify(null, evidencePayload(id, e), key, Buffer.from(e.signature, 'base64'));
    } catch {
      return false;
    }
  };
}

/** Environment variable holding the apply workflow's Ed25519 private key (PEM), a secret. */
export const EVIDENCE_KEY_ENV = 'GRANTOPS_EVIDENCE_KEY';

/** The signer the environment provides, if any: `{ signer }` to spread into the finder's options. */
export function evidenceSignerFromEnv(env: Record<string, string | undefined>): { signer?: EvidenceSigner } {
  const pem = env[EVIDENCE_KEY_ENV];
  return pem ? { signer: evidenceSigner(pem) } : {};
}

/** Environment variable with the evidence key's public half (PEM), given out of band. */
export const EVIDENCE_PUBLIC_KEY_ENV = 'GRANTOPS_EVIDENCE_PUBLIC_KEY';

/**
 * The public key the environment gives (its own variable, or derived from the private key), so that
 * a reaper does not take the key that judges notes from the very tree a writer can push to.
 */
export function evidencePublicKeyFromEnv(env: Record<string, string | undefined>): string | undefined {
  const pub = env[EVIDENCE_PUBLIC_KEY_ENV];
  if (pub) return pub;
  const priv = env[EVIDENCE_KEY_ENV];
  return priv ? createPublicKey(priv).export({ type: 'spki', format: 'pem' }).toString() : undefined;
}

/**
 * The evidence verifier for an audit: from a PEM given out of band (`--evidence-key`), else from
 * .grantops/evidence-key.pub in `tree` (the audited ref's tip), else none.
 */
export async function loadEvidenceVerifier(
  tree: FileTree,
  pem?: string,
): Promise<((grantId: string, e: ApprovalEvidence) => boolean) | undefined> {
  if (pem !== undefined) return evidenceVerifier(pem);
  const entry = (await tree.list(EVIDENCE_KEY_DIR)).find((e) => e.path === EVIDENCE_KEY_PATH);
  if (!entry) return undefined; // no key committed
  // Present but not a plain file (a link, a folder): an error, never "no key" (which trusts notes).
  if (entry.kind !== 'file') throw new Error(`${EVIDENCE_KEY_PATH} is a ${entry.kind}, not a key file`);
  const bytes = await tree.read(EVIDENCE_KEY_PATH, 16 * 1024);
  if (!(bytes instanceof Uint8Array)) throw new Error(`${EVIDENCE_KEY_PATH} is too large for a public key`);
  return evidenceVerifier(new TextDecoder().decode(bytes));
}
