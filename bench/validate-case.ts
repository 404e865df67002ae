// One measurement in a fresh process, so peak memory (maxRSS) belongs to that measurement alone.
// argv: <repo dir> <ours|floor>
import { Ajv2020 } from 'ajv/dist/2020.js';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { WorkTree } from '../src/adapters/work-tree.js';
import grantSchema from '../schemas/grant.schema.json' with { type: 'json' };
import { SchemaRegistry } from '../src/policy/schema-registry.js';
import { validateAccessRepo } from '../src/usecases/validate-repo.js';

const [dir = '', mode = 'ours'] = process.argv.slice(2);
const now = new Date('2026-11-28T12:00:00Z');

function floor(): number {
  // The least any validator must do: read each file, parse it, check it against one compiled schema.
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  const validate = ajv.compile(grantSchema);
  let valid = 0;
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (validate(parse(readFileSync(p, 'utf8')))) valid++;
    }
  };
  walk(join(dir, 'grants'));
  return valid;
}

const start = performance.now();
let grants: number;
if (mode === 'floor') {
  grants = floor();
} else {
  const report = await validateAccessRepo(
    { now },
    { work: new WorkTree(dir), registry: new SchemaRegistry() },
  );
  if (!report.ok)
    throw new Error(`bench repo should be valid: ${JSON.stringify(report.findings.slice(0, 3))}`);
  grants = report.grants.length;
}
const ms = performance.now() - start;
process.stdout.write(
  `${JSON.stringify({ mode, grants, ms, maxRssMb: process.resourceUsage().maxRSS / 1024 })}\n`,
);
