/** Edit distance (insertions, deletions, substitutions, adjacent swaps) between two short names. */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * The known name closest to `name`, if it is close enough to be a typo (as git and commander
 * suggest): at most a third of its length away, and at least one character right.
 */
export function didYouMean(name: string, known: Iterable<string>): string | undefined {
  let best: { name: string; d: number } | undefined;
  for (const k of known) {
    const d = distance(name.toLowerCase(), k.toLowerCase());
    if (d < (best?.d ?? Infinity)) best = { name: k, d };
  }
  return best && best.d <= Math.max(1, Math.floor(name.length / 3)) && best.d < name.length
    ? best.name
    : undefined;
}

/** "unknown target "x" (did you mean "y"?); known: a, b" for a usage error. */
export function unknownName(kind: string, name: string, known: readonly string[]): string {
  const guess = didYouMean(name, known);
  return `unknown ${kind} "${name}"${guess ? ` (did you mean "${guess}"?)` : ''}; ${
    known.length ? `known: ${[...known].sort().join(', ')}` : `there are none`
  }`;
}
