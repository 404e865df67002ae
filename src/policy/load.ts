import { posix } from 'node:path';
import type { Finding } from '../model/errors.js';
import type { FileTree, TreeEntry } from '../model/file-tree.js';
import { GRANTS_DIR, grantIdFromPath, POLICIES_DIR, type Grant } from '../model/grant.js';
import { loadYamlSource, type SourceDocument } from '../model/yaml-source.js';
import { checkGrant, type GrantCheckContext } from './check-grant.js';
import { parsePolicy, type ParsedPolicy, type ParsePolicyOptions } from './parse-policy.js';
import type { SchemaRegistry } from './schema-registry.js';

/** Grant files are a handful of lines; anything this large is a mistake or an attack. */
export const MAX_GRANT_BYTES = 64 * 1024;
export const MAX_POLICY_BYTES = 256 * 1024;
const READ_CONCURRENCY = 64;

export interface LoadedPolicies {
  byTarget: Map<string, ParsedPolicy>;
  findings: Finding[];
  files: string[];
}

/**
 * Reads and validates every `policies/*.yaml` of a tree. The files are asked for all at once, so that
 * a git tree reads them with one `git cat-file --batch` (one process each cost `validate --base` 20).
 */
export async function loadPolicies(
  tree: FileTree,
  registry: SchemaRegistry,
  opts: ParsePolicyOptions = {},
): Promise<LoadedPolicies> {
  const entries = (await tree.list(POLICIES_DIR)).filter((e) => isYamlName(e.path) || e.kind === 'symlink');
  const findings: Finding[] = [];
  const byTarget = new Map<string, ParsedPolicy>();
  const files: string[] = [];
  const nested = (entry: TreeEntry) => posix.dirname(entry.path) !== POLICIES_DIR && entry.kind !== 'symlink';
  const reads = await Promise.all(
    entries.map(async (entry) => {
      const own: Finding[] = [];
      const doc = nested(entry) ? undefined : await readDocument(tree, entry, MAX_POLICY_BYTES, own);
      return { doc, own };
    }),
  );
  for (const [i, entry] of entries.entries()) {
    if (nested(entry)) {
      findings.push(
        at(entry.path, `policy files live directly in ${POLICIES_DIR}/, not in subfolders`, 'layout'),
      );
      continue;
    }
    const { doc, own } = reads[i]!;
    findings.push(...own);
    if (!doc) continue;
    files.push(entry.path);
    const result = parsePolicy(doc, registry, opts);
    if (!result.ok) {
      findings.push(...result.findings);
      continue;
    }
    const name = result.value.policy.target.name;
    const existing = byTarget.get(name);
    if (existing) {
      findings.push({
        file: doc.file,
        ...doc.locate(['target', 'name']),
        message: `target "${name}" is already defined by ${existing.policy.file}`,
        rule: 'duplicate-target',
        severity: 'error',
      });
      continue;
    }
    byTarget.set(name, result.value);
  }
  return { byTarget, findings, files };
}

export interface LoadedGrants {
  grants: Grant[];
  findings: Finding[];
  /** Grant files examined (valid or not). */
  checked: number;
}

/**
 * Reads and checks the grant files of a tree; `include` narrows to some paths (e.g. changed ones).
 * `taken` holds ids already in use elsewhere (lower-cased id -> where, for the message): a grant whose
 * id equals one of them ignoring case is refused, as if it clashed with a file of this tree.
 */
export async function loadGrants(
  tree: FileTree,
  ctx: GrantCheckContext,
  include?: (path: string) => boolean,
  taken?: ReadonlyMap<string, string>,
): Promise<LoadedGrants> {
  // Symlinks are always reported, whatever their name: a linked folder could hide grants elsewhere.
  const entries = (await tree.list(GRANTS_DIR)).filter(
    (e) => (isYamlName(e.path) || e.kind === 'symlink') && (!include || include(e.path)),
  );
  const findings: Finding[] = [];
  const grants: Grant[] = [];
  const idsSeen = new Map<string, string>(taken);
  const results: (Grant | undefined)[] = [];

  for (let i = 0; i < entries.length; i += READ_CONCURRENCY) {
    const batch = entries.slice(i, i + READ_CONCURRENCY);
    const docs = await Promise.all(batch.map((e) => readDocument(tree, e, MAX_GRANT_BYTES, findings)));
    docs.forEach((doc, k) => {
      const entry = batch[k]!;
      if (!doc) return;
      const id = grantIdFromPath(entry.path);
      if (!id.ok) {
        findings.push(at(entry.path, id.reason, 'grant-id'));
        return;
      }
      const folded = id.id.toLowerCase();
      const clash = idsSeen.get(folded);
      if (clash !== undefined) {
        findings.push(
          at(
            entry.path,
            `grant id "${id.id}" clashes with ${clash} (ids must differ in more than letter case)`,
            'duplicate-id',
          ),
        );
        return;
      }
      idsSeen.set(folded, entry.path);
      const r = checkGrant(id.id, doc, ctx);
      findings.push(...r.findings);
      results[i + k] = r.grant;
    });
  }
  for (const g of results) if (g) grants.push(g);
  return { grants, findings: sortFindings(findings), checked: entries.length };
}

function isYamlName(path: string): boolean {
  return path.endsWith('.yaml') || path.endsWith('.yml');
}

async function readDocument(
  tree: FileTree,
  entry: TreeEntry,
  maxBytes: number,
  findings: Finding[],
): Promise<SourceDocument | undefined> {
  if (entry.path.endsWith('.yml')) {
    findings.push(
      at(
        entry.path,
        `grantops reads only .yaml files; rename this file to ${entry.path.replace(/\.yml$/, '.yaml')}`,
        'extension',
      ),
    );
    return undefined;
  }
  if (entry.kind === 'symlink') {
    const escapes = escapesRepo(entry.path, entry.linkTarget ?? '');
    findings.push(
      at(
        entry.path,
        `is a symbolic link (to ${entry.linkTarget}${escapes ? ', outside the repository' : ''}); grantops reads only regular files`,
        'symlink',
      ),
    );
    return undefined;
  }
  if (entry.kind !== 'file') {
    findings.push(at(entry.path, 'is not a regular file', 'file-kind'));
    return undefined;
  }
  let bytes: Uint8Array | { tooLarge: number };
  try {
    bytes = await tree.read(entry.path, maxBytes);
  } catch (err) {
    findings.push(
      at(entry.path, `cannot be read: ${err instanceof Error ? err.message : String(err)}`, 'read'),
    );
    return undefined;
  }
  if (!(bytes instanceof Uint8Array)) {
    findings.push(
      at(
        entry.path,
        `file is ${bytes.tooLarge} bytes, over the limit of ${maxBytes} bytes; refusing to parse it`,
        'file-too-large',
      ),
    );
    return undefined;
  }
  const loaded = loadYamlSource(entry.path, bytes, { maxBytes });
  if (!loaded.ok) {
    findings.push(...loaded.findings);
    return undefined;
  }
  return loaded.doc;
}

function escapesRepo(linkPath: string, target: string): boolean {
  if (target.startsWith('/')) return true;
  const resolved = posix.normalize(posix.join(posix.dirname(linkPath), target));
  return resolved === '..' || resolved.startsWith('../');
}

function at(file: string, message: string, rule: string): Finding {
  return { file, line: 1, column: 1, message, rule, severity: 'error' };
}

/** Findings in file, then position order: stable output for people, diffs and tests. */
export function sortFindings(findings: Finding[]): Finding[] {
  return findings.sort((a, b) =>
    a.file !== b.file ? (a.file < b.file ? -1 : 1) : a.line - b.line || a.column - b.column,
  );
}
