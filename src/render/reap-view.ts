import { formatDuration } from '../model/duration.js';
import { formatTimestamp } from '../model/time.js';
import type { Grant } from '../model/grant.js';

export interface RevokedView {
  id: string;
  user: string;
  target: string;
  role: string;
  expiresAt: string;
  revokedAt: string;
  lag: string;
  /** A break-glass grant revoked early: `expiresAt` is its review deadline. */
  unreviewed?: true;
  /** A break-glass use that ended at its own expiresAt with no review shown on GitHub. */
  neverReviewed?: true;
}

/** How a revoked grant is shown: the cleanup commit's body and the reap summary. */
export function revokedView(
  {
    grant,
    lagMs,
    breakGlassUnreviewed,
    breakGlassNeverReviewed,
  }: { grant: Grant; lagMs: number; breakGlassUnreviewed?: true; breakGlassNeverReviewed?: true },
  revokedAt: Date,
): RevokedView {
  return {
    id: grant.id,
    user: grant.user,
    target: grant.target,
    role: grant.role,
    expiresAt: formatTimestamp(grant.expiresAt),
    revokedAt: formatTimestamp(revokedAt),
    lag: formatDuration(lagMs),
    ...(breakGlassUnreviewed ? { unreviewed: true as const } : {}),
    ...(breakGlassNeverReviewed ? { neverReviewed: true as const } : {}),
  };
}
