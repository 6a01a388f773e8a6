/** Small helpers shared by CLI commands: aligned tables, JSON on stdout, human numbers, warnings. */
import type { ExcludedModel } from '../lineage/finite.js';

export { type Column, formatBytes, formatCount, formatTable } from '../base/format.js';

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** One stderr line per model left out of a comparison (NaN or infinite values), so a result built without it is never mistaken for a full one. */
export function warnExcluded(excluded: readonly ExcludedModel[]): void {
  for (const e of excluded) process.stderr.write(`lineage: warning: left out ${e.model === e.file ? e.file : `${e.model} (${e.file})`}: ${e.reason}\n`);
}
