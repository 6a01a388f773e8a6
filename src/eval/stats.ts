/** Bootstrap confidence intervals for a share of successes (top-1 accuracy over children). */
import { Rng } from '../base/random.js';

export interface Interval {
  low: number;
  high: number;
}

export interface BootstrapOptions {
  /** Resamples (default 1000). */
  resamples?: number;
  /** Seed of the resampling stream. */
  seed?: number;
  /** Coverage (default 0.95). */
  level?: number;
}

export const DEFAULT_RESAMPLES = 1000;

/** Percentile bootstrap interval of the mean of `outcomes`, resampling the outcomes with replacement. NaN bounds when empty. */
export function bootstrapInterval(outcomes: readonly boolean[], options: BootstrapOptions = {}): Interval {
  const resamples = options.resamples ?? DEFAULT_RESAMPLES;
  const level = options.level ?? 0.95;
  if (!Number.isSafeInteger(resamples) || resamples < 1) throw new RangeError(`resamples must be a positive integer, got ${resamples}`);
  if (!(level > 0 && level < 1)) throw new RangeError(`level must be in (0, 1), got ${level}`);
  const n = outcomes.length;
  if (n === 0) return { low: Number.NaN, high: Number.NaN };
  const rng = new Rng(options.seed ?? 0);
  const means = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let hits = 0;
    for (let i = 0; i < n; i++) if (outcomes[rng.int(n)]) hits++;
    means[r] = hits / n;
  }
  means.sort();
  const tail = (1 - level) / 2;
  const at = (q: number) => means[Math.min(resamples - 1, Math.max(0, Math.floor(q * resamples)))];
  return { low: at(tail), high: at(1 - tail) };
}
