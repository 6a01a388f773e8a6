/** Seeded mini-batches: the same (seed, epoch) always yields the same batches. */
import { deriveSeed, permutation } from '../base/random.js';
import { selectExamples } from './select.js';
import { type AnyDataset, datasetSize } from './types.js';

export interface BatchOptions {
  seed: number;
  /** Each epoch gets its own order derived from the seed (default 0). */
  epoch?: number;
  /** Default true; false keeps dataset order. */
  shuffle?: boolean;
  /** Drop a last batch smaller than batchSize (default false). */
  dropLast?: boolean;
}

/** The example order of one epoch. */
export function epochOrder(n: number, options: BatchOptions): Int32Array {
  if (options.shuffle === false) return Int32Array.from({ length: n }, (_, i) => i);
  return permutation(n, deriveSeed(options.seed, `epoch:${options.epoch ?? 0}`));
}

/** Index lists of the batches of one epoch. */
export function* batchIndices(n: number, batchSize: number, options: BatchOptions): Generator<Int32Array> {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batch size must be a positive integer, got ${batchSize}`);
  const order = epochOrder(n, options);
  for (let start = 0; start < n; start += batchSize) {
    const end = Math.min(n, start + batchSize);
    if (end - start < batchSize && options.dropLast) return;
    yield order.subarray(start, end);
  }
}

/** Batches of one epoch, each a small dataset of the same kind with its targets. */
export function* batches<T extends AnyDataset>(ds: T, batchSize: number, options: BatchOptions): Generator<T> {
  for (const idx of batchIndices(datasetSize(ds), batchSize, options)) yield selectExamples(ds, idx);
}
