import { InvalidArgumentError, Option } from 'commander';
import { parseDuration } from '../model/duration.js';
import { MAX_CONCURRENCY } from '../model/policy.js';
import { parseTimestamp } from '../model/time.js';

/**
 * Flag parsers for commander's `argParser`: a bad value is a usage error (exit 2) that names the
 * flag, reported before the command runs; the action receives the parsed value.
 */
export function wholeNumber(min: number, max: number): (text: string) => number {
  return (text) => {
    const n = Number(text);
    if (!/^\d+$/.test(text.trim()) || !Number.isInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(`"${text}" is not a whole number from ${min} to ${max}.`);
    return n;
  };
}

/** A duration such as `90m`, `2h`, `1d`, in milliseconds. */
export function duration(text: string): number {
  const d = parseDuration(text);
  if (!d.ok) throw new InvalidArgumentError(d.reason);
  return d.ms;
}

/** An RFC 3339 instant with an offset. */
export function instant(text: string): Date {
  const p = parseTimestamp(text);
  if (!p.ok) throw new InvalidArgumentError(p.reason);
  return p.date;
}

/** `--concurrency`, as apply and reap take it: the default for targets whose policy sets none. */
export function concurrencyOption(): Option {
  return new Option(
    '--concurrency <n>',
    `calls in flight at once on each target whose policy sets none (an exec policy's concurrency wins; at most ${MAX_CONCURRENCY})`,
  )
    .argParser(wholeNumber(1, MAX_CONCURRENCY))
    .default(16);
}
