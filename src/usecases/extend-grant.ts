import { isMap, isScalar, isSeq, parseDocument, type Document } from 'yaml';
import { formatDuration, parseDuration } from '../model/duration.js';
import { ConfigError, PolicyViolationError, type Finding } from '../model/errors.js';
import { narrowTree, type FileTree } from '../model/file-tree.js';
import { GRANTS_DIR, grantIdFromPath, type Grant } from '../model/grant.js';
import { formatTimestamp } from '../model/time.js';
import { loadYamlSource, type SourceDocument } from '../model/yaml-source.js';
import { checkGrant, type GrantCheckContext } from '../policy/check-grant.js';
import { extendedExpiry, type RawGrantFields } from '../policy/extension.js';
import { loadPolicies, MAX_GRANT_BYTES } from '../policy/load.js';
import type { SchemaRegistry } from '../policy/schema-registry.js';

export interface ExtendOptions {
  /** The grant id: its path under grants/ without .yaml. */
  id: string;
  /** Duration string such as `2h`: how much later the grant ends. */
  for: string;
  reason: string;
  ticket?: string;
  now: Date;
}

export interface ExtendDeps {
  work: FileTree;
  registry: SchemaRegistry;
  /** When the file landed on main (from git; undefined: not committed there yet). */
  landedAt(path: string): Promise<Date | undefined>;
}

/** What an extension does, for people and for a pull request's body. */
export interface ExtensionPlan {
  id: string;
  file: string;
  user: string;
  target: string;
  role: string;
  from: Date;
  to: Date;
  /** How much later the grant ends. */
  byMs: number;
  reason: string;
  ticket?: string;
  /** Approvals the role requires for the change, and from whom. */
  approvals: number;
  approvers: string[];
}

/** The change an extension makes: the file's text before and after. Nothing is written. */
export interface Extension {
  path: string;
  oldText: string;
  newText: string;
  grant: Grant;
  plan: ExtensionPlan;
}

/** The reasons, without file positions: they are about a text that was not written. */
function refused(findings: readonly Finding[]): PolicyViolationError {
  return new PolicyViolationError(`extend refused: ${findings.map((f) => f.message).join('; ')}`);
}

/**
 * Plans moving a grant's expiresAt later: the same file with `expiresAt` moved and the extension
 * appended to its `extensions`, comments and layout kept. The new text is judged with the code
 * `validate --base` runs (policy, maxDuration, maxTotal from when the file landed, the extension
 * rules); a refusal is a PolicyViolationError. The caller writes `newText` (or opens a PR with it).
 */
export async function planExtension(opts: ExtendOptions, deps: ExtendDeps): Promise<Extension> {
  const duration = parseDuration(opts.for);
  if (!duration.ok) throw new ConfigError(`--for: ${duration.reason}`);
  const path = `${GRANTS_DIR}/${opts.id}.yaml`;
  const id = grantIdFromPath(path);
  if (!id.ok || id.id !== opts.id) throw new ConfigError(`"${opts.id}" is not a grant id`);
  const [entry] = await narrowTree(deps.work, [path]).list(GRANTS_DIR);
  if (!entry) throw new ConfigError(`unknown grant id "${opts.id}": there is no ${path}`);
  if (entry.kind !== 'file')
    throw new ConfigError(`${path} is not a regular file; grantops writes only regular files`);
  const bytes = await deps.work.read(path, MAX_GRANT_BYTES);
  if (!(bytes instanceof Uint8Array))
    throw new ConfigError(`${path} is ${bytes.tooLarge} bytes, over the limit of ${MAX_GRANT_BYTES} bytes`);
  const oldText = new TextDecoder().decode(bytes);

  const [policies, landedAt] = await Promise.all([
    loadPolicies(deps.work, deps.registry),
    deps.landedAt(path),
  ]);
  if (policies.findings.length > 0) throw new ConfigError('invalid policy files', policies.findings);
  const ctx: GrantCheckContext = {
    registry: deps.registry,
    policies: policies.byTarget,
    now: opts.now,
    expiredSeverity: 'warning',
    policySource: deps.work.label,
  };
  const loaded = loadYamlSource(path, bytes, { maxBytes: MAX_GRANT_BYTES });
  if (!loaded.ok) throw new ConfigError(`${path} is not valid YAML; fix it first`, loaded.findings);
  const current = checkGrant(opts.id, loaded.doc, ctx);
  if (!current.grant) {
    const errors = current.findings.filter((f) => f.severity === 'error');
    throw new ConfigError(`${path} is not a valid grant now; fix it first`, errors);
  }
  const old = current.grant;
  if (old.expiresAt.getTime() <= opts.now.getTime())
    throw new PolicyViolationError(
      `${opts.id} expired at ${formatTimestamp(old.expiresAt)}: an expired grant is being revoked and cannot be extended; request a new one`,
    );

  const to = extendedExpiry(old.expiresAt, duration.ms);
  const newText = rewrite(oldText, {
    from: formatTimestamp(old.expiresAt),
    to: formatTimestamp(to),
    reason: opts.reason,
    ...(opts.ticket !== undefined ? { ticket: opts.ticket } : {}),
  });

  const next = loadYamlSource(path, new TextEncoder().encode(newText), { maxBytes: MAX_GRANT_BYTES });
  if (!next.ok) throw refused(next.findings);
  const checked = checkGrant(opts.id, next.doc, {
    ...ctx,
    expiredSeverity: 'error',
    // Judged as `validate --base` will judge the pull request: against this version as its base.
    chains: new Map([
      [
        path,
        {
          landedAt: landedAt ?? opts.now,
          base: { raw: loaded.doc.value as RawGrantFields, startsAt: old.startsAt },
        },
      ],
    ]),
  });
  const errors = checked.findings.filter((f) => f.severity === 'error');
  if (errors.length > 0 || !checked.grant) throw refused(errors);
  assertRoundTrip(next.doc, checked.grant, opts);

  const role = policies.byTarget.get(old.target)?.policy.roles.get(old.role);
  return {
    path,
    oldText,
    newText,
    grant: checked.grant,
    plan: {
      id: opts.id,
      file: path,
      user: old.user,
      target: old.target,
      role: old.role,
      from: old.expiresAt,
      to,
      byMs: duration.ms,
      reason: opts.reason,
      ...(opts.ticket !== undefined ? { ticket: opts.ticket } : {}),
      approvals: role?.approvals ?? 0,
      approvers: role?.approvers ?? [],
    },
  };
}

/** A one-line account of an extension, for messages (escape it for the medium). */
export function describeExtension(plan: ExtensionPlan): string {
  return `${plan.user} → ${plan.target}/${plan.role} until ${formatTimestamp(plan.to)} (was ${formatTimestamp(plan.from)}, ${formatDuration(plan.byMs)} more)`;
}

interface NewExtension {
  from: string;
  to: string;
  reason: string;
  ticket?: string;
}

/**
 * The file with `expiresAt` set to `ext.to` and `ext` appended to `extensions`. Edited through the
 * yaml Document (the nodes keep their comments and styles), so the rest of the file reads as before.
 */
function rewrite(text: string, ext: NewExtension): string {
  const doc: Document = parseDocument(text, { version: '1.2', schema: 'core', uniqueKeys: true });
  if (doc.errors.length > 0 || !isMap(doc.contents))
    throw new ConfigError('the grant file is not a YAML mapping');
  const expires = doc.get('expiresAt', true);
  if (!isScalar(expires)) throw new ConfigError('"expiresAt" is not a plain value');
  expires.value = ext.to;
  const item = doc.createNode(ext);
  const list = doc.get('extensions', true);
  if (isSeq(list)) list.items.push(item);
  else if (list === undefined) doc.set('extensions', doc.createNode([ext]));
  else throw new ConfigError('"extensions" is not a list');
  return doc.toString({ lineWidth: 0 });
}

/** What was written reads back as what was meant (a reason is text, never YAML structure). */
function assertRoundTrip(doc: SourceDocument, grant: Grant, opts: ExtendOptions): void {
  const last = grant.extensions?.[grant.extensions.length - 1];
  const raw = doc.value as { extensions?: unknown[] };
  if (!last || last.reason !== opts.reason || last.ticket !== opts.ticket || !Array.isArray(raw.extensions))
    throw new Error('the extended grant file does not read back as written');
}
