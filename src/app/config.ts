import { createPublicKey } from 'node:crypto';
import { errorMessage } from '../model/errors.js';
import {
  EVIDENCE_KEY_ENV,
  EVIDENCE_PUBLIC_KEY_ENV,
  evidencePublicKeyFromEnv,
} from '../policy/evidence-signature.js';

/** Mutations in flight against GitHub at once, whatever the apply concurrency: well under its limits. */
export const MAX_GITHUB_WRITES = 10;

/** The access repository on GitHub and the tokens that may act on it. */
export interface GitHubConfig {
  /** `GITHUB_API_URL`, exactly as in production (a local server in tests). */
  apiUrl: string;
  /** `GITHUB_REPOSITORY`'s two halves; empty when it is not set (targets still work, the repo does not). */
  owner: string;
  repo: string;
  /** Reads reviews and writes comments, issues and cleanup pull requests in the access repo. */
  token?: string;
  /** Manages GitHub targets (teams, collaborators); default: `token`. */
  adminToken?: string;
  /**
   * `GRANTOPS_BOT_LOGIN`: the login `token` acts as, where GitHub will not say (a GitHub App's
   * installation token: `<app-slug>[bot]`). Pull requests and comments grantops made are known by it.
   */
  botLogin?: string;
}

/**
 * Everything one run of one command is built from, whichever edge read it: the CLI fills it from
 * flags and the environment, the Action from its inputs and the event. `compose` turns it into
 * adapters, so the same configuration always means the same dependencies.
 */
export interface AppConfig {
  /** Where the access repo is (absolute): its top level, or a directory in it. */
  repo: string;
  /** The one instant every decision of this run is made at. */
  now: Date;
  /** Calls in flight at once on each target (and GitHub writes, up to GitHub's own cap). */
  concurrency: number;
  /** Absent: offline. Approvals are then undecided (never granted), and nothing is posted. */
  github?: GitHubConfig;
  /**
   * Where targets take the variables their policy names (`env:`, `urlEnv`); a script sees only
   * those, never the rest of it.
   */
  env: Readonly<Record<string, string | undefined>>;
  evidence: {
    /** Private key (PEM) that signs new approval evidence. */
    signingKey?: string;
    /** Public key (PEM) recorded evidence must be signed with; else the one committed on main. */
    publicKey?: string;
    /**
     * Why the configured keys cannot be used (not a key, or a pair that does not match). Then no
     * note is trusted and nothing is signed; revocation still runs, and the run reports it.
     */
    keyError?: string;
  };
  /** Incoming webhook alerts are sent to besides GitHub issues. */
  webhookUrl?: string;
  /**
   * Reuse the cache of what git answered about history (under the git directory): false with
   * GRANTOPS_NO_CACHE=1 or `audit --no-cache`. Only a speed-up, never evidence.
   */
  historyCache?: boolean;
  /**
   * GRANTOPS_CACHE_KEY: the history cache is checked with an HMAC under this key, and a cache not
   * made with it is not used (for a cache restored from somewhere others can write, e.g. the Actions
   * cache).
   */
  historyCacheKey?: string;
}

/** The variables both edges read the same way: GitHub's own, and grantops' keys. */
export function configFromEnvironment(
  env: Readonly<Record<string, string | undefined>>,
  run: Pick<AppConfig, 'repo' | 'now' | 'concurrency'> & {
    /** The Action's `token` input; the CLI reads GITHUB_TOKEN. */
    token?: string;
    /** The Action's `admin-token` input; the CLI reads GRANTOPS_ADMIN_TOKEN. */
    adminToken?: string;
    /** Name of the variable holding the webhook URL (Action input `webhook-url-env`). */
    webhookEnv?: string;
  },
): AppConfig {
  const [owner = '', repo = ''] = (env.GITHUB_REPOSITORY ?? '').split('/');
  const token = run.token || undefined;
  const adminToken = run.adminToken || undefined;
  const { signingKey, publicKey, keyError } = evidenceKeys(env);
  const webhookUrl = env[run.webhookEnv ?? 'GRANTOPS_WEBHOOK_URL'] || undefined;
  return {
    repo: run.repo,
    now: run.now,
    concurrency: run.concurrency,
    ...(token || adminToken
      ? {
          github: {
            apiUrl: env.GITHUB_API_URL || 'https://api.github.com',
            owner,
            repo,
            ...(token ? { token } : {}),
            ...(adminToken ? { adminToken } : {}),
            ...(env.GRANTOPS_BOT_LOGIN ? { botLogin: env.GRANTOPS_BOT_LOGIN } : {}),
          },
        }
      : {}),
    env,
    evidence: {
      ...(signingKey ? { signingKey } : {}),
      ...(publicKey ? { publicKey } : {}),
      ...(keyError ? { keyError } : {}),
    },
    ...(webhookUrl ? { webhookUrl } : {}),
    ...(env.GRANTOPS_NO_CACHE && env.GRANTOPS_NO_CACHE !== '0' ? { historyCache: false } : {}),
    ...(env.GRANTOPS_CACHE_KEY ? { historyCacheKey: env.GRANTOPS_CACHE_KEY } : {}),
  };
}

/**
 * The evidence keys the environment gives: the signing key, and the public key notes are judged
 * with (given out of band, or derived from the signing key: never only the key a writer could
 * commit). A key that does not parse, or a pair that does not match, is a `keyError` naming the
 * variable, never a crash: the reaper must still revoke.
 */
function evidenceKeys(env: Readonly<Record<string, string | undefined>>): AppConfig['evidence'] {
  const signingKey = env[EVIDENCE_KEY_ENV] || undefined;
  const given = env[EVIDENCE_PUBLIC_KEY_ENV] || undefined;
  let derived: string | undefined;
  try {
    derived = signingKey ? evidencePublicKeyFromEnv({ [EVIDENCE_KEY_ENV]: signingKey }) : undefined;
  } catch (err) {
    return { keyError: `${EVIDENCE_KEY_ENV} is not a PEM private key (${errorMessage(err)})` };
  }
  if (given !== undefined) {
    let spki: string;
    try {
      spki = createPublicKey(given).export({ type: 'spki', format: 'pem' }).toString();
    } catch (err) {
      return { keyError: `${EVIDENCE_PUBLIC_KEY_ENV} is not a PEM public key (${errorMessage(err)})` };
    }
    if (derived !== undefined && derived !== spki)
      return {
        keyError: `${EVIDENCE_PUBLIC_KEY_ENV} is not the public half of ${EVIDENCE_KEY_ENV} (a half-done key rotation?)`,
      };
    return { ...(signingKey ? { signingKey } : {}), publicKey: given };
  }
  return { ...(signingKey ? { signingKey } : {}), ...(derived ? { publicKey: derived } : {}) };
}
