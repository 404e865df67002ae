/** The only way the core learns the time: injected, so every decision is reproducible at a given T. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** A clock stopped at one instant: `--now`, tests, and reproducible plans. */
export function fixedClock(at: Date): Clock {
  return { now: () => new Date(at.getTime()) };
}
