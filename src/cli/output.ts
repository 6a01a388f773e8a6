/** Small helpers shared by CLI commands: aligned tables, JSON on stdout, human numbers, warnings. */
import type { ExcludedModel } from '../lineage/finite.js';

export { type Column, formatBytes, formatCount, formatTable } from '../base/format.js';

/** The version of every JSON document the CLI prints; raised when a key changes meaning or goes away. */
export const JSON_VERSION = 1;

function versioned(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  return { version: JSON_VERSION, ...(value as Record<string, unknown>) };
}

/**
 * Prints a JSON document: an object gains `"version": 1` first (each object of an array does, as
 * `detect` prints one object per method), so scripts can check what they parse.
 */
export function printJson(value: unknown): void {
  const doc = Array.isArray(value) ? value.map(versioned) : versioned(value);
  process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
}

/** One stderr line per model left out of a comparison (NaN or infinite values), so a result built without it is never mistaken for a full one. */
export function warnExcluded(excluded: readonly ExcludedModel[]): void {
  for (const e of excluded) process.stderr.write(`lineage: warning: left out ${e.model === e.file ? e.file : `${e.model} (${e.file})`}: ${e.reason}\n`);
}
