/** A grant as read from `grants/<id>.yaml`, after schema and semantic checks. */
export interface Grant {
  /** Path under grants/ without `.yaml`; stable, used in commits and trailers. */
  id: string;
  /** Path of the file relative to the repo root. */
  file: string;
  user: string;
  target: string;
  role: string;
  reason: string;
  ticket?: string;
  startsAt?: Date;
  expiresAt: Date;
  /** What `grantops extend` recorded, oldest first; the last one's `to` is `expiresAt`. */
  extensions?: GrantExtension[];
  /** Break-glass: applied on merge without prior approval, reviewed afterwards. */
  breakGlass?: true;
}

/** One extension of a grant's expiresAt (an item of the file's `extensions` list). */
export interface GrantExtension {
  from: Date;
  to: Date;
  reason: string;
  ticket?: string;
}

export type GrantState = 'pending' | 'active' | 'expiring' | 'expired';

export const GRANTS_DIR = 'grants';
export const POLICIES_DIR = 'policies';
export const SCHEMAS_DIR = 'schemas';
export const TEMPLATES_DIR = 'templates';
/** Where an access repo keeps the programs its exec targets run (and whatever they load). */
export const SCRIPTS_DIR = 'scripts';

const ID_SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/**
 * The id of the grant stored at `file`, or a reason it cannot be one. Ids end up in commit trailers
 * and target calls, so they are kept to a plain alphabet.
 */
export function grantIdFromPath(file: string): { ok: true; id: string } | { ok: false; reason: string } {
  const rel = file.slice(GRANTS_DIR.length + 1);
  const id = rel.replace(/\.yaml$/, '');
  const segments = id.split('/');
  if (id.length > 200 || segments.some((s) => !ID_SEGMENT.test(s) || s.endsWith('.'))) {
    return {
      ok: false,
      reason: `"${rel}" is not a usable grant file name: each part of the path must be letters, digits, '.', '-' or '_' (the grant id is the path under grants/ without .yaml)`,
    };
  }
  return { ok: true, id };
}

/** The lifecycle state of a grant at `now`; `expiringWithinMs` is the first alert window. */
export function grantStateAt(grant: Grant, now: Date, expiringWithinMs: number): GrantState {
  const t = now.getTime();
  if (t >= grant.expiresAt.getTime()) return 'expired';
  if (grant.startsAt && t < grant.startsAt.getTime()) return 'pending';
  if (grant.expiresAt.getTime() - t <= expiringWithinMs) return 'expiring';
  return 'active';
}
