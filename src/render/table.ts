/**
 * The lines of an aligned plain-text table: columns padded to their widest cell (after `cell`), two
 * spaces apart, the last column unpadded. `rows` is called twice (widths, then lines), so a long
 * table can be streamed without holding every cell.
 */
export function* alignedLines(
  headers: readonly string[],
  rows: () => Iterable<readonly string[]>,
  cell: (text: string) => string = (t) => t,
): Generator<string> {
  const head = headers.map(cell);
  const widths = head.map((h) => h.length);
  for (const row of rows()) row.forEach((c, j) => (widths[j] = Math.max(widths[j] ?? 0, cell(c).length)));
  const line = (cells: string[]) =>
    cells
      .map((c, j) => (j === cells.length - 1 ? c : c.padEnd(widths[j] ?? 0)))
      .join('  ')
      .trimEnd();
  yield line(head);
  for (const row of rows()) yield line(row.map(cell));
}
