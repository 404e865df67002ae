// Bundles the Action and the CLI into self-contained ESM files that run with plain `node`.
import { readFileSync } from 'node:fs';
import { build } from 'esbuild';

// `grantops --version` reads this literal: the bundle must not need a package.json beside it.
const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

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
  define: { __GRANTOPS_VERSION__: JSON.stringify(version) },
};

await build({ ...common, entryPoints: ['src/action/step.ts'], outfile: 'dist/index.js' });
await build({ ...common, entryPoints: ['src/cli/bin.ts'], outfile: 'dist/cli.js' });
