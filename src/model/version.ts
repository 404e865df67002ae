import { readFileSync } from 'node:fs';

/** Written into the bundle by scripts/build.mjs (esbuild `define`); not defined when run from source. */
declare const __GRANTOPS_VERSION__: string | undefined;

/**
 * The package version `grantops --version` prints. The bundle carries it as a literal, so dist/cli.js
 * needs no package.json beside it (an `npx`, a copied file, a vendored Action); from source (tests,
 * tsx) it is read from the repository's package.json.
 */
export const VERSION: string =
  typeof __GRANTOPS_VERSION__ === 'string' ? __GRANTOPS_VERSION__ : versionFromSource();

function versionFromSource(): string {
  try {
    const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
    return (JSON.parse(text) as { version: string }).version;
  } catch {
    // Bundled without the define (a benchmark's or a test's own bundle): no package.json beside it.
    return '0.0.0-unbundled';
  }
}

/** Written into the bundle by scripts/build.mjs when GRANTOPS_RELEASE_SHA is set (a release build). */
declare const __GRANTOPS_RELEASE_REF__: string | undefined;

/**
 * `OWNER/REPO@SHA` of the release this bundle was packed from, which `init` pins the workflows to.
 * A release commit cannot name its own sha, so only the npm package built by the release workflow
 * carries it; a development build (the committed dist/, or running from source) has none.
 */
export const RELEASE_ACTION_REF: string | undefined =
  typeof __GRANTOPS_RELEASE_REF__ === 'string' ? __GRANTOPS_RELEASE_REF__ : undefined;
