/**
 * One row of the demo's parent-detection table and how the table prints. Its own file so that the
 * demo command and the learned detector's row (demo-detector.ts) both use it without importing
 * each other.
 */
import { formatTable } from '../output.js';

export interface DemoRow {
  method: string;
  correct: number;
  total: number;
  accuracy: number;
  seconds: number;
  note?: string;
}

export function percentText(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}

export function demoTable(rows: readonly DemoRow[]): string {
  return formatTable(
    [
      { header: 'method' },
      { header: 'parents found', align: 'right' },
      { header: 'top-1', align: 'right' },
      { header: 'seconds', align: 'right' },
      { header: 'note' },
    ],
    rows.map((r) => [r.method, `${r.correct}/${r.total}`, percentText(r.accuracy), r.seconds.toFixed(1), r.note ?? '']),
  );
}
