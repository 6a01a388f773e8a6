/** The JSON twin: the report data plus the derived rankings; non-finite numbers become null. */
import { childRankings } from './rankings.js';
import type { ReportData } from './types.js';

export function renderJson(data: ReportData): string {
  const doc = { ...data, layerOrigins: data.layerOrigins ?? null, rankings: childRankings(data) };
  return `${JSON.stringify(doc, (_key, value: unknown) => (typeof value === 'number' && !Number.isFinite(value) ? null : value), 2)}\n`;
}
