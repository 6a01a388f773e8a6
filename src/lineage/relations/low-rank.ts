/**
 * The spectrum of a changed matrix's delta (child - parent), for the `lora` relation: a child made
 * by merging a LoRA adapter changes each adapted matrix by B * A, of rank r (8 to 64, typically),
 * while full fine-tuning changes it by a matrix whose singular values decay slowly.
 *
 * Models may be LLM-sized, so the delta is never held whole. The top singular values come from a
 * randomized range finder in two streamed passes (Halko, Martinsson and Tropp, "Finding structure
 * with randomness", SIAM Review 2011, algorithms 4.1 and 5.1): Y = delta * Omega for a seeded
 * Gaussian Omega (cols x k), Q = an orthonormal basis of Y's columns, B = Q^T * delta (k x cols);
 * the singular values of B are those of Q Q^T delta, the estimate of delta's top k. When the delta
 * has rank below k the range of Y is the range of delta and the values are exact up to rounding;
 * beyond, they underestimate, so the residual energy is overestimated and a rank is never claimed
 * that the sketch did not see. When k covers min(rows, cols) the spectrum is computed exactly in
 * one pass (Q = I, or the cols x cols Gram matrix).
 */
import type { ModelSource } from '../../source/types.js';
import { DEFAULT_BLOCK_BYTES, rowCount, rowLength } from '../weights/blocks.js';
import type { TensorPair } from '../weights/types.js';
import { type DeltaMatrix, columnGram, gaussianTest, projectRows, rowGram, sketchColumns } from './delta-passes.js';
import { symmetricEigenvalues } from './jacobi.js';
import { orthonormaliseColumns } from './orthonormal.js';

/** Twice the largest LoRA ranks in common use (8 to 16): the range finder's oversampling then captures them exactly. */
export const DEFAULT_SKETCH = 32;

/**
 * Residual share of ||delta||_F (not of its square) below which the rest of the spectrum counts as
 * noise. A merged float32 checkpoint stores round(W + B A): each element carries a rounding error
 * near 2^-24 |W|, a full-rank noise floor about 6e-8 * ||W|| / ||delta|| of the delta's norm. A LoRA
 * delta is exactly rank r down to that floor (near 1e-5 even for a delta 100 times smaller than
 * W), while a full fine-tune's slowly decaying spectrum leaves a large share of its energy beyond
 * the top k, far above 1e-3.
 * Deltas of float16 or bfloat16 checkpoints have floors of 2^-11 and 2^-8 relative to W and need a
 * larger tolerance.
 */
export const DEFAULT_TOLERANCE = 1e-3;

/** Float64 workspace (Omega, Y or Q, B) one spectrum may take: k = 32 allows rows + 2 cols up to two million. */
export const DEFAULT_MAX_WORKSPACE_BYTES = 512 * 2 ** 20;

export interface DeltaSpectrum {
  rows: number;
  cols: number;
  /** Sketch size used (k). */
  sketch: number;
  /** Estimated top singular values of delta = b - a, descending (at most k). */
  singularValues: number[];
  /** ||delta||_F^2, exact (float64 sum). */
  energy: number;
  /** Smallest r with (energy - sum_{i<=r} s_i^2) <= tolerance^2 * energy; null when no r <= k reaches it (full rank as far as the sketch can tell). 0 when delta is 0. */
  effectiveRank: number | null;
}

export interface DeltaSpectrumOptions {
  /** Singular values estimated (k); DEFAULT_SKETCH unless given. Capped at min(rows, cols), where the result is exact. */
  sketch?: number;
  /** See DEFAULT_TOLERANCE; in [0, 1). */
  tolerance?: number;
  /** Seed of the Gaussian test matrix; 0 unless given. */
  seed?: number;
  /** Bytes of float32 read at a time from each model; DEFAULT_BLOCK_BYTES unless given. */
  blockBytes?: number;
  /** Refuse (RangeError) a tensor whose float64 workspace would exceed this; DEFAULT_MAX_WORKSPACE_BYTES unless given. */
  maxWorkspaceBytes?: number;
}

/**
 * The smallest r such that the energy left outside the first r singular values is at most
 * tolerance^2 * energy; null when no r up to singularValues.length reaches it; 0 for a zero matrix.
 */
export function effectiveRank(singularValues: readonly number[], energy: number, tolerance: number): number | null {
  if (!Number.isFinite(energy) || energy < 0) throw new RangeError(`effectiveRank: energy must be finite and >= 0, got ${energy}`);
  checkTolerance(tolerance);
  const allowed = tolerance * tolerance * energy;
  let residual = energy;
  for (let r = 0; r <= singularValues.length; r++) {
    if (residual <= allowed) return r;
    if (r < singularValues.length) residual -= singularValues[r] * singularValues[r];
  }
  return null;
}

function checkTolerance(tolerance: number): void {
  if (!(tolerance >= 0 && tolerance < 1)) throw new RangeError(`tolerance must be in [0, 1), got ${tolerance}`);
}

/** The delta's matrix shape: a's rows (shared rows only, for an extended vocabulary) by the product of its other dimensions. */
function matrixShape(pair: TensorPair): { rows: number; cols: number } {
  const names = `${pair.a.name} / ${pair.b.name}`;
  if (pair.transform.kind === 'transpose') throw new RangeError(`${names}: transposed pairs are not supported, rank unknown`);
  if (pair.a.shape.length < 2 || pair.b.shape.length < 2) throw new RangeError(`${names}: rank is defined for matrices, not ${pair.a.shape.length}-d tensors`);
  const rows = pair.transform.kind === 'shared-rows' ? pair.transform.rows : rowCount(pair.a.shape);
  const cols = rowLength(pair.a.shape);
  if (rowLength(pair.b.shape) !== cols) throw new RangeError(`${names}: rows of ${cols} and ${rowLength(pair.b.shape)} values do not align`);
  return { rows, cols };
}

function sketchSize(requested: number, rows: number, cols: number): number {
  if (!Number.isSafeInteger(requested) || requested < 1) throw new RangeError(`sketch must be a positive integer, got ${requested}`);
  return Math.min(requested, rows, cols);
}

function checkWorkspace(pair: TensorPair, rows: number, cols: number, k: number, limit: number): void {
  // Q (k x rows), Omega and B (k x cols each), B B^T and one delta row: a bound for every path.
  const bytes = 8 * (k * rows + 2 * k * cols + k * k + cols);
  if (bytes > limit) {
    const mib = (n: number) => `${(n / 2 ** 20).toFixed(0)} MiB`;
    throw new RangeError(`${pair.a.name}: a rank-${k} sketch of a ${rows} x ${cols} delta needs ${mib(bytes)} of workspace, over the ${mib(limit)} limit`);
  }
}

/** Singular values from the eigenvalues of a Gram matrix (B B^T or delta^T delta), descending; rounding can make tiny ones negative. */
function fromGram(gram: Float64Array, n: number): number[] {
  return symmetricEigenvalues(gram, n).map((lambda) => Math.sqrt(Math.max(lambda, 0)));
}

/** The k columns of the identity of size k: with k = rows, B = Q^T delta is delta itself. */
function identityColumns(k: number): Float64Array {
  const q = new Float64Array(k * k);
  for (let t = 0; t < k; t++) q[t * k + t] = 1;
  return q;
}

/** The top-k singular values of the delta and its energy: exact when k covers rows or cols, sketched otherwise. */
async function spectrum(m: DeltaMatrix, k: number, seed: number): Promise<{ singularValues: number[]; energy: number }> {
  if (k === m.cols && k < m.rows) {
    const { gram, energy } = await columnGram(m);
    return { singularValues: fromGram(gram, k), energy };
  }
  let basis: Float64Array;
  if (k === m.rows) basis = identityColumns(k);
  else {
    basis = await sketchColumns(m, gaussianTest(m.cols, k, seed), k);
    orthonormaliseColumns(basis, m.rows, k);
  }
  const { projected, energy } = await projectRows(m, basis, k);
  return { singularValues: fromGram(rowGram(projected, k, m.cols), k), energy };
}

/**
 * The estimated top singular values of b - a for one pair (not transposed; rank-3+ tensors viewed as
 * [shape[0], rest]) and the effective rank they imply. Throws a RangeError, which callers report as
 * "rank unknown", for transposed pairs, 0-d and 1-d tensors, a delta holding NaN or infinite values,
 * and a workspace over options.maxWorkspaceBytes; reading errors propagate as they are.
 */
export async function deltaSpectrum(a: ModelSource, b: ModelSource, pair: TensorPair, options: DeltaSpectrumOptions = {}): Promise<DeltaSpectrum> {
  const { rows, cols } = matrixShape(pair);
  const tolerance = options.tolerance ?? DEFAULT_TOLERANCE;
  checkTolerance(tolerance);
  const k = sketchSize(options.sketch ?? DEFAULT_SKETCH, rows, cols);
  checkWorkspace(pair, rows, cols, k, options.maxWorkspaceBytes ?? DEFAULT_MAX_WORKSPACE_BYTES);
  if (k === 0) return { rows, cols, sketch: 0, singularValues: [], energy: 0, effectiveRank: 0 };
  const m: DeltaMatrix = { a, b, pair, rows, cols, blockBytes: options.blockBytes ?? DEFAULT_BLOCK_BYTES };
  const seed = options.seed ?? 0;
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
  const { singularValues, energy } = await spectrum(m, k, seed);
  return { rows, cols, sketch: k, singularValues, energy, effectiveRank: effectiveRank(singularValues, energy, tolerance) };
}
