/**
 * The lines of an aligned plain-text table: columns padded to their widest cell (after `cell`), two
 * spaces apart, the last column unpadded. `rows` is called twice (widths, then lines), so a long
 * table can be streamed without holding every cell.
 */
export function* alignedLines(
  headers: readonly string[],
  rows: () => Iterable<readonly string[]>,
  cell: (text: string) => string = (t) => t,
  /** Styles a laid-out cell (row -1 is the header): colour goes on after widths are measured. */
  style: (text: string, row: number, column: number) => string = (t) => t,
): Generator<string> {
  const head = headers.map(cell);
  const widths = head.map((h) => h.length);
  for (const row of rows()) row.forEach((c, j) => (widths[j] = Math.max(widths[j] ?? 0, cell(c).length)));
  const line = (cells: string[], row: number) =>
    cells
      .map((c, j) => {
        const last = j === cells.length - 1;
        const padding = last ? '' : ' '.repeat(Math.max(0, (widths[j] ?? 0) - c.length));
        return `${c ? style(c, row, j) : c}${padding}`;
      })
      .join('  ')
      .trimEnd();
  yield line(head, -1);
  let i = 0;
  for (const row of rows()) yield line(row.map(cell), i++);
}
