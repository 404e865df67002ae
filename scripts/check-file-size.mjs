// Fails when a TypeScript file in src/ or test/support/ is over MAX_LINES lines (issue 13: a file
// that long holds more than one meaning; split it by meaning, never by line count alone).
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const MAX_LINES = 400;
const ROOTS = ['src', 'test/support'];
const root = fileURLToPath(new URL('..', import.meta.url));

function* tsFiles(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* tsFiles(path);
    else if (entry.isFile() && entry.name.endsWith('.ts')) yield path;
  }
}

const lineCount = (text) => (text === '' ? 0 : text.split('\n').length - (text.endsWith('\n') ? 1 : 0));

const tooLong = [];
for (const dir of ROOTS) {
  for (const file of tsFiles(join(root, dir))) {
    const lines = lineCount(readFileSync(file, 'utf8'));
    if (lines > MAX_LINES) tooLong.push(`${relative(root, file)}: ${lines} lines`);
  }
}
if (tooLong.length > 0) {
  console.error(`files over ${MAX_LINES} lines (split them by meaning):\n  ${tooLong.sort().join('\n  ')}`);
  process.exit(1);
}
