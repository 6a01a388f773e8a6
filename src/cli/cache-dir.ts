/** Where the CLI keeps what it can reuse between runs: $XDG_CACHE_HOME/neural-lineage (else ~/.cache/neural-lineage). */
import { homedir } from 'node:os';
import { join } from 'node:path';

export function cacheDir(...parts: string[]): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'neural-lineage', ...parts);
}
