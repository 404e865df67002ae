import { posix } from 'node:path';
import { Document } from 'yaml';
import { parseDuration } from '../model/duration.js';
import { ConfigError, PolicyViolationError, type Finding } from '../model/errors.js';
import type { FileTree } from '../model/file-tree.js';
import { GRANTS_DIR, type Grant } from '../model/grant.js';
import type { Policy } from '../model/policy.js';
import { floorToMinute, formatTimestamp, parseTimestamp } from '../model/time.js';
import { loadYamlSource } from '../model/yaml-source.js';
import { checkGrant } from '../policy/check-grant.js';
import { loadPolicies, MAX_GRANT_BYTES } from '../policy/load.js';
import type { SchemaRegistry } from '../policy/schema-registry.js';

/** The file was never written, so the reasons are given without a file position. */
function refused(findings: readonly Finding[]): PolicyViolationError {
  return new PolicyViolationError(`request refused: ${findings.map((f) => f.message).join('; ')}`);
}

export interface RequestOptions {
  user: string;
  target: string;
  role: string;
  /** Duration string such as `2h`. */
  for: string;
  reason: string;
  ticket?: string;
  /** RFC 3339; default: now. */
  startsAt?: string;
  now: Date;
}

export interface RequestDeps {
  work: FileTree;
  registry: SchemaRegistry;
  /**
   * Creates a new file; must fail rather than overwrite. Returns false when the path exists (or is
   * otherwise taken: `--open-pr` also counts a branch proposing another grant at that path).
   * `attempt` is 1 for the first name tried, then 2, 3, …
   */
  createFile(
    path: string,
    text: string,
    checked: { grant: Grant; policy: Policy | undefined; attempt: number },
  ): Promise<boolean>;
}

/**
 * Writes a new grant file that the policies accept, or refuses with the policy's reason. The file
 * is checked with exactly the code `validate` uses, so what `request` writes `validate` accepts.
 */
export async function requestGrant(
  opts: RequestOptions,
  deps: RequestDeps,
): Promise<{ path: string; grant: Grant; text: string }> {
  const duration = parseDuration(opts.for);
  if (!duration.ok) throw new ConfigError(`--for: ${duration.reason}`);
  let start = opts.now;
  if (opts.startsAt !== undefined) {
    const s = parseTimestamp(opts.startsAt);
    if (!s.ok) throw new ConfigError(`--starts-at: ${s.reason}`);
    start = s.date;
  }
  const policies = await loadPolicies(deps.work, deps.registry);
  if (policies.findings.length > 0) throw new ConfigError('invalid policy files', policies.findings);

  const body: Record<string, string> = {
    user: opts.user,
    target: opts.target,
    role: opts.role,
    reason: opts.reason,
    ...(opts.ticket !== undefined ? { ticket: opts.ticket } : {}),
    ...(opts.startsAt !== undefined ? { startsAt: formatTimestamp(start) } : {}),
    // Down, not to the nearest: a minute rounded up would let the grant outlast maxDuration.
    expiresAt: formatTimestamp(floorToMinute(new Date(start.getTime() + duration.ms))),
  };
  const stamp = formatTimestamp(opts.now).slice(0, 16).replace(/[-:]/g, '').replace('T', '-');
  const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^[^A-Za-z0-9]+/, '') || 'x';
  const dir = posix.join(GRANTS_DIR, safe(opts.target));
  const stem = `${safe(opts.user)}-${safe(opts.role)}-${stamp}`;

  for (let n = 1; n < 100; n++) {
    const path = posix.join(dir, `${stem}${n > 1 ? `-${n}` : ''}.yaml`);
    const depth = path.split('/').length - 1;
    const schemaRef = `${'../'.repeat(depth)}schemas/grant.schema.json`;
    const text = `# yaml-language-server: $schema=${schemaRef}\n${new Document(body).toString({ lineWidth: 0 })}`;
    const loaded = loadYamlSource(path, new TextEncoder().encode(text), { maxBytes: MAX_GRANT_BYTES });
    if (!loaded.ok) throw refused(loaded.findings);
    const id = path.slice(GRANTS_DIR.length + 1, -'.yaml'.length);
    const checked = checkGrant(id, loaded.doc, {
      registry: deps.registry,
      policies: policies.byTarget,
      now: opts.now,
      expiredSeverity: 'error',
      policySource: deps.work.label,
    });
    const errors = checked.findings.filter((f) => f.severity === 'error');
    if (errors.length > 0 || !checked.grant) throw refused(errors);
    const policy = policies.byTarget.get(checked.grant.target)?.policy;
    if (await deps.createFile(path, text, { grant: checked.grant, policy, attempt: n }))
      return { path, grant: checked.grant, text };
  }
  throw new ConfigError(`too many grant files named ${stem}*.yaml already exist`);
}
