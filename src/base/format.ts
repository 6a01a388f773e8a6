/** Text formatting shared by the CLI and the benchmark reports: aligned tables and human-readable numbers. */

export interface Column {
  header: string;
  align?: 'left' | 'right';
}

/** Renders rows as an aligned text table with a header and a rule under it. */
export function formatTable(columns: readonly Column[], rows: readonly (readonly string[])[]): string {
  // reduce, not Math.max(...): a spread of 200k rows overflows the call stack.
  const widths = columns.map((c, i) => rows.reduce((w, r) => Math.max(w, (r[i] ?? '').length), c.header.length));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (columns[i].align === 'right' ? cell.padStart(widths[i]) : cell.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header)), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** 11689512 -> "11,689,512" */
export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

/** 46758208 -> "44.6 MiB" */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${n} B` : `${value.toFixed(1)} ${units[unit]}`;
}
