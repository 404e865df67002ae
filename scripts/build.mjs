// Bundles the Action and the CLI into self-contained ESM files that run with plain `node`.
import { readFileSync } from 'node:fs';
import { build } from 'esbuild';

// `grantops --version` reads this literal: the bundle must not need a package.json beside it.
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const { version } = pkg;

// `grantops init` pins the workflows it writes to the release the running grantops came from. A
// commit cannot contain its own sha, so the release workflow passes it when it packs the npm package
// from the tagged commit (GRANTOPS_RELEASE_SHA, and GRANTOPS_RELEASE_REPO, default package.json's
// repository). The committed dist/ is built without it: such a development build asks for --action-ref.
const releaseSha = process.env.GRANTOPS_RELEASE_SHA ?? '';
const releaseRepo =
  process.env.GRANTOPS_RELEASE_REPO || /github\.com\/([^/]+\/[^/.]+)/.exec(pkg.repository?.url ?? '')?.[1];
if (releaseSha !== '' && !/^[0-9a-f]{40}$/.test(releaseSha)) {
  throw new Error(`GRANTOPS_RELEASE_SHA must be a full 40-hex commit sha, got "${releaseSha}"`);
}
if (releaseSha !== '' && !releaseRepo) throw new Error('GRANTOPS_RELEASE_REPO (owner/repo) is needed');
const releaseRef = releaseSha === '' ? undefined : `${releaseRepo}@${releaseSha}`;

const banner =
  "import { createRequire as __grantopsCreateRequire } from 'node:module';\n" +
  'const require = __grantopsCreateRequire(import.meta.url);';

const common = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  legalComments: 'eof',
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: 'warning',
  banner: { js: banner },
  define: {
    __GRANTOPS_VERSION__: JSON.stringify(version),
    __GRANTOPS_RELEASE_REF__: releaseRef === undefined ? 'undefined' : JSON.stringify(releaseRef),
  },
};

await build({ ...common, entryPoints: ['src/action/step.ts'], outfile: 'dist/index.js' });
await build({ ...common, entryPoints: ['src/cli/bin.ts'], outfile: 'dist/cli.js' });
