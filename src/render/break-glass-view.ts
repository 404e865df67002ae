import type { BreakGlassTracking } from '../usecases/break-glass-issues.js';

/** What a run did about break-glass grants, one line each: `info` to report, `warnings` to flag. */
export function breakGlassLines(t: BreakGlassTracking | undefined): { info: string[]; warnings: string[] } {
  if (!t) return { info: [], warnings: [] };
  const parts = [
    t.opened ? `${t.opened} retro-review issue(s) opened` : '',
    t.reviewed ? `${t.reviewed} reviewed in time` : '',
    t.revokedEarly ? `${t.revokedEarly} revoked early (not reviewed in time)` : '',
    t.neverReviewed ? `${t.neverReviewed} ended at expiry, used and never reviewed` : '',
  ].filter(Boolean);
  return {
    info: parts.length ? [`break-glass: ${parts.join(', ')}`] : [],
    warnings: t.errors.map((e) => `break-glass alert not sent: ${e}`),
  };
}
