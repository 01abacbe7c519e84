/** A plain-text table: the first `textColumns` left-aligned, numbers right-aligned, a rule under the head. */
export function formatTable(rows: string[][], textColumns: number): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((x) => x[i].length)));
  const lines = rows.map((x) =>
    x.map((c, i) => (i < textColumns ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  '),
  );
  lines.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  return lines;
}
