/**
 * The p-value every lineage command reports beside its scores: the unit-matching permutation test
 * of unit-test.ts for one (candidate, child) pair. Each pair gets its own seed, derived from the
 * user's seed and the two ids, so the p-values of a run are not tied to one draw of permutations
 * and a rerun with the same seed gives the same numbers.
 */
import { deriveSeed } from '../../base/random.js';
import type { ModelSource } from '../../source/types.js';
import { DEFAULT_PERMUTATIONS, DEFAULT_SEED, independenceTest } from './unit-test.js';

export interface PValueOptions {
  /** Null draws B (default 999): p >= 1 / (B + 1). */
  permutations?: number;
  /** Base seed (default 0). */
  seed?: number;
}

/** p-value of "candidate and child were trained independently"; null when no matrix could be tested. */
export async function pairPValue(
  candidate: ModelSource,
  child: ModelSource,
  ids: { candidate: string; child: string },
  options: PValueOptions = {},
): Promise<number | null> {
  const seed = deriveSeed(options.seed ?? DEFAULT_SEED, `${ids.candidate}\n${ids.child}`);
  const test = await independenceTest(candidate, child, { permutations: options.permutations ?? DEFAULT_PERMUTATIONS, seed });
  return Number.isFinite(test.pValue) ? test.pValue : null;
}
