/** The validation / test split of children used to choose alpha without looking at test children. */
import { deriveSeed, permutation } from '../base/random.js';

export interface ChildSplit {
  validation: string[];
  test: string[];
}

export const DEFAULT_VALIDATION_FRACTION = 0.3;

/**
 * A seeded permutation of the sorted distinct ids: the first `fraction` go to validation. With two
 * or more ids each side gets at least one, so neither the choice nor the report is empty.
 */
export function splitChildren(ids: Iterable<string>, seed: number, fraction = DEFAULT_VALIDATION_FRACTION): ChildSplit {
  if (!(fraction > 0 && fraction < 1)) throw new RangeError(`validation fraction must be in (0, 1), got ${fraction}`);
  const sorted = [...new Set(ids)].sort();
  const n = sorted.length;
  let take = Math.round(n * fraction);
  if (n >= 2) take = Math.min(n - 1, Math.max(1, take));
  const order = Array.from(permutation(n, deriveSeed(seed, 'bench:alpha-split')), (i) => sorted[i]);
  return { validation: order.slice(0, take).sort(), test: order.slice(take).sort() };
}
