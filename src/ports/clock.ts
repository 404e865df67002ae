/**
 * Port: the only way grantops learns the time or waits. The edges build one (the system clock, or a
 * clock stopped at `--now` / `GRANTOPS_NOW`) and read "now" from it once per run; the core receives
 * that instant or the clock itself, so every decision is reproducible at a given T, and fast tests
 * pass a fake whose `sleep` returns at once.
 */
export interface Clock {
  now(): Date;
  /** Waits `ms` (retry back-off, jitter). */
  sleep(ms: number): Promise<void>;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export const systemClock: Clock = { now: () => new Date(), sleep: realSleep };

/** A clock stopped at one instant: `--now`, tests, and reproducible plans. Waiting still waits. */
export function fixedClock(at: Date): Clock {
  return { now: () => new Date(at.getTime()), sleep: realSleep };
}
