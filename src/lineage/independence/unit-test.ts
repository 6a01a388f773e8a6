/**
 * A p-value for "models a and b were trained independently": the unit-matching permutation test
 * after Zhu et al., "Independence tests for language models" (ICML 2025). Hidden units of two
 * independently trained networks have no preferred matching, so under that null hypothesis the
 * law of (a, b) does not change when b's units are permuted. A derived model (fine-tune, merge,
 * quantised copy) keeps its parent's units in place, and unit i of one matches unit i of the other.
 *
 * For each eligible matrix pair (eligible.ts: rows are hidden units; embeddings, heads, biases and
 * norms left out), a seeded subset U of at most `maxUnits` rows is read from both tensors and
 * S[i][j] = cos(a_i, b_j) computed for i, j in U. The statistic is T = sum over matrices of
 * mean_i S[i][i]; a null draw replaces each matrix's diagonal with S[i][sigma_m(i)], an independent
 * uniform permutation per matrix and draw. p = (1 + #{draws >= T}) / (B + 1) >= 1 / (B + 1).
 *
 * Cost per matrix with |U| units of `cols` values: 2|U| rows read, |U|^2 cols multiply-adds, and
 * B |U| for the null; memory: the |U| rows of both tensors and S (|U|^2 float64) of one matrix.
 *
 * Validity: one matrix alone is an exact test when its rows are units the training treats
 * symmetrically. Independent permutations per matrix are a simplification: a network's symmetry
 * permutes a layer's rows together with the next matrix's columns, and a transformer's residual
 * dimensions (rows of o_proj and down_proj) share one permutation across layers. That shifts each
 * matrix's null rather than reshaping it as long as columns of independent models are unaligned;
 * calibration is checked on 276 pairs of independent MLPs (test/lineage/independence), not on
 * transformers.
 */
import { deriveSeed, Rng } from '../../base/random.js';
import type { ModelSource } from '../../source/types.js';
import { DEFAULT_BLOCK_BYTES, rowCount, rowLength } from '../weights/blocks.js';
import { matchTensors } from '../weights/match.js';
import { describeNaming } from '../weights/model-naming.js';
import type { TensorPair } from '../weights/types.js';
import { addNullDraws, cosineMatrix, diagonalMean } from './cosines.js';
import { ineligibleReason, type SkippedPair, spreadEvenly } from './eligible.js';
import { readUnitRows } from './unit-rows.js';

export type { SkippedPair } from './eligible.js';

export interface IndependenceTest {
  /** (1 + #{null draws >= statistic}) / (permutations + 1); NaN when no matrix pair was eligible. */
  pValue: number;
  /** T: the sum over the matrices used of the mean cosine of same-index units. */
  statistic: number;
  permutations: number;
  matrices: number;
  /** Rows (units) used, summed over the matrices. */
  units: number;
  seed: number;
  /** Matched pairs not used, and matcher exclusions with both names, each with why. */
  skipped: SkippedPair[];
}

export interface IndependenceOptions {
  /** Null draws B (default 999): the smallest p-value is 1 / (B + 1). */
  permutations?: number;
  /** Seed of the unit subsets and the permutations (default 0). */
  seed?: number;
  /** Bytes of float32 read at a time (default: weights/blocks.ts DEFAULT_BLOCK_BYTES). */
  blockBytes?: number;
  /** Matrices used at most (default 32), spread evenly over the model in a's file order. */
  maxMatrices?: number;
  /** Rows per matrix at most (default 256), a seeded subset; every row when the matrix has fewer. */
  maxUnits?: number;
}

export const DEFAULT_PERMUTATIONS = 999;
export const DEFAULT_SEED = 0;
export const MAX_MATRICES = 32;
export const U_MAX = 256;
/**
 * Bytes of float32 the sampled rows of one tensor may take: a row of millions of values (a stacked
 * MoE expert tensor, rows = experts) would cost |U|^2 times that in products and as much memory.
 */
export const MAX_UNIT_BYTES = 64 << 20;

function checkCount(name: string, value: number, min: number): number {
  if (!Number.isSafeInteger(value) || value < min) throw new RangeError(`independenceTest: ${name} must be an integer >= ${min}, got ${String(value)}`);
  return value;
}

/** A seeded subset of min(max, rows) of the row indices 0..rows-1, ascending. */
export function chooseUnits(rows: number, max: number, seed: number): Int32Array {
  const all = new Int32Array(rows);
  for (let i = 0; i < rows; i++) all[i] = i;
  if (rows <= max) return all;
  const rng = new Rng(seed);
  // Partial Fisher-Yates: the first `max` slots become a uniform random subset.
  for (let i = 0; i < max; i++) {
    const j = i + rng.int(rows - i);
    const t = all[i];
    all[i] = all[j];
    all[j] = t;
  }
  return all.slice(0, max).sort();
}

interface Plan {
  used: TensorPair[];
  skipped: SkippedPair[];
}

function sizeReason(pair: TensorPair, maxUnits: number): string | undefined {
  const bytes = Math.min(rowCount(pair.a.shape), maxUnits) * rowLength(pair.a.shape) * 4;
  return bytes > MAX_UNIT_BYTES
    ? `${Math.min(rowCount(pair.a.shape), maxUnits)} rows of ${rowLength(pair.a.shape)} values exceed ${MAX_UNIT_BYTES} bytes`
    : undefined;
}

async function plan(a: ModelSource, b: ModelSource, blockBytes: number, limits: { maxMatrices: number; maxUnits: number }): Promise<Plan> {
  const { maxMatrices, maxUnits } = limits;
  const matching = await matchTensors(a, b, { blockBytes });
  const naming = { a: describeNaming(a), b: describeNaming(b) };
  const skipped: SkippedPair[] = [];
  for (const e of matching.excluded) if (e.aName !== null && e.bName !== null) skipped.push({ a_name: e.aName, b_name: e.bName, reason: e.reason });
  const eligible: TensorPair[] = [];
  for (const pair of matching.pairs) {
    const reason = ineligibleReason(pair, naming) ?? sizeReason(pair, maxUnits);
    if (reason === undefined) eligible.push(pair);
    else skipped.push({ a_name: pair.a.name, b_name: pair.b.name, reason });
  }
  const { kept, left } = spreadEvenly(eligible, maxMatrices);
  for (const pair of left)
    skipped.push({ a_name: pair.a.name, b_name: pair.b.name, reason: `not among the ${maxMatrices} matrices spread evenly over the model` });
  return { used: kept, skipped };
}

/** p-value of "a and b were trained independently" (a: the candidate parent, b: the model asked about). */
export async function independenceTest(a: ModelSource, b: ModelSource, options: IndependenceOptions = {}): Promise<IndependenceTest> {
  const permutations = checkCount('permutations', options.permutations ?? DEFAULT_PERMUTATIONS, 1);
  const seed = options.seed ?? DEFAULT_SEED;
  if (!Number.isSafeInteger(seed)) throw new RangeError(`independenceTest: seed must be an integer, got ${String(seed)}`);
  const blockBytes = checkCount('blockBytes', options.blockBytes ?? DEFAULT_BLOCK_BYTES, 1);
  const maxMatrices = checkCount('maxMatrices', options.maxMatrices ?? MAX_MATRICES, 1);
  const maxUnits = checkCount('maxUnits', options.maxUnits ?? U_MAX, 2);
  const { used, skipped } = await plan(a, b, blockBytes, { maxMatrices, maxUnits });
  if (used.length === 0) {
    skipped.push({ a_name: a.path, b_name: b.path, reason: 'no eligible matrix pair (rank >= 2, rows that are hidden units): no p-value' });
    return { pValue: Number.NaN, statistic: Number.NaN, permutations, matrices: 0, units: 0, seed, skipped };
  }
  const draws = new Float64Array(permutations);
  let statistic = 0;
  let units = 0;
  for (const pair of used) {
    const chosen = chooseUnits(rowCount(pair.a.shape), maxUnits, deriveSeed(seed, `units:${pair.a.name}`));
    const rows = await readUnitRows(a, b, pair, chosen, blockBytes);
    const n = chosen.length;
    const origin = { a: { file: a.file, tensor: pair.a.name }, b: { file: b.file, tensor: pair.b.name } };
    const s = cosineMatrix(rows.a, rows.b, n, rowLength(pair.a.shape), origin);
    statistic += diagonalMean(s, n);
    addNullDraws(s, n, draws, new Rng(deriveSeed(seed, `permutations:${pair.a.name}`)));
    units += n;
  }
  let atLeast = 0;
  for (const d of draws) if (d >= statistic) atLeast++;
  return { pValue: (1 + atLeast) / (permutations + 1), statistic, permutations, matrices: used.length, units, seed, skipped };
}
