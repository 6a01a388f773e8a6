/**
 * An on-disk cache of pairwise comparisons, so a tree rerun over the same models with a few added
 * compares only the new pairs. A model is known by a fingerprint of what identifies its bytes
 * without reading them: its format, its tensor table (names, dtypes, shapes, byte sizes) and the
 * real path, inode, size, modification and change time of every file it is made of (the file, or
 * every regular file of its folder). A rewritten or moved file changes the fingerprint and its
 * pairs are compared again; two files of one size written in the same millisecond never share one.
 *
 * Storage: one JSON line per comparison (`pairs.v1.jsonl` in the cache folder), appended once a
 * run has compared its pairs. A line that does not parse (a run killed while appending) is skipped,
 * so the cache never breaks a run; the worst case is a pair compared again.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { ModelSource } from '../../source/types.js';
import type { ModelComparison } from '../weights/types.js';

const FILE = 'pairs.v1.jsonl';

/** Where and which a file is (real path, inode) and its version (size, modification and change times). */
function statText(path: string, s: { ino: number; size: number; mtimeMs: number; ctimeMs: number }): string {
  return `${path}:${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`;
}

async function fileStats(path: string): Promise<string[]> {
  const real = await fs.realpath(path);
  const stat = await fs.stat(real);
  if (!stat.isDirectory()) return [statText(real, stat)];
  const out: string[] = [];
  for (const name of (await fs.readdir(real)).sort()) {
    const s = await fs.stat(join(real, name)).catch(() => undefined);
    if (s?.isFile()) out.push(statText(join(real, name), s));
  }
  return out;
}

/** The model's fingerprint; undefined for a model with no file behind it (held in memory), which is never cached. */
export async function fingerprint(source: ModelSource): Promise<string | undefined> {
  const files = await fileStats(source.path).catch(() => undefined);
  if (files === undefined) return undefined;
  const hash = createHash('sha256');
  hash.update(source.format);
  for (const t of source.tensors) hash.update(`\n${t.name}\t${t.dtype}\t${t.shape.join(',')}\t${t.bytes}`);
  for (const f of files) hash.update(`\n${f}`);
  return hash.digest('hex');
}

/** What one model's own pass gives (weights/model-stats.ts), kept by fingerprint too. */
export interface CachedStats {
  nonFinite?: string;
  kurtosis: [string, number][];
}

export class PairCache {
  private readonly entries = new Map<string, ModelComparison>();
  private readonly stats = new Map<string, CachedStats>();
  private readonly added: string[] = [];
  hits = 0;
  misses = 0;

  private constructor(readonly dir: string) {}

  static async open(dir: string): Promise<PairCache> {
    const cache = new PairCache(dir);
    const text = await fs.readFile(join(dir, FILE), 'utf8').catch(() => '');
    for (const line of text.split('\n')) {
      if (line === '') continue;
      try {
        const { key, comparison, stats } = JSON.parse(line) as { key: string; comparison?: ModelComparison; stats?: CachedStats };
        if (typeof key !== 'string') continue;
        if (comparison && Array.isArray(comparison.tensors)) cache.entries.set(key, { ...comparison, pairs: [] });
        if (stats && Array.isArray(stats.kurtosis)) cache.stats.set(key, stats);
      } catch {
        // a line cut short by a killed run: that pair is compared again
      }
    }
    return cache;
  }

  /** The comparison of b against a (a: the candidate parent), when cached. `pairs` is empty: tensors are not re-read from it. */
  get(a: string, b: string): ModelComparison | undefined {
    const hit = this.entries.get(`${a}:${b}`);
    if (hit) this.hits++;
    else this.misses++;
    return hit;
  }

  put(a: string, b: string, comparison: ModelComparison): void {
    const key = `${a}:${b}`;
    const stored = { ...comparison, pairs: [] };
    this.entries.set(key, stored);
    this.added.push(JSON.stringify({ key, comparison: stored }));
  }

  getStats(model: string): CachedStats | undefined {
    return this.stats.get(`stats:${model}`);
  }

  putStats(model: string, stats: CachedStats): void {
    const key = `stats:${model}`;
    this.stats.set(key, stats);
    this.added.push(JSON.stringify({ key, stats }));
  }

  /** Appends what this run compared. */
  async flush(): Promise<void> {
    if (this.added.length === 0) return;
    await fs.mkdir(this.dir, { recursive: true });
    await fs.appendFile(join(this.dir, FILE), `${this.added.join('\n')}\n`);
    this.added.length = 0;
  }
}
