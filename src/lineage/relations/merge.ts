/**
 * Is a child model a merge of candidate models? Weighted averages, task arithmetic over a shared
 * base and TIES/DARE sums all make the child close to a linear combination of the candidates, so
 * the fit is least squares: c minimising ||child - sum_k c_k cand_k||^2, globally and per block
 * (merges often weigh layers differently). The models are streamed by row blocks and reduced to
 * float64 Gram sums (cand_k . cand_l, cand_k . child, child . child), from which every coefficient
 * and residual follows; memory is K + 1 row blocks whatever the models' size.
 *
 * A fine-tune of one candidate also fits well, so the best single candidate (scaled) is reported
 * beside the merge: a merge is a combination that explains the child clearly better than it.
 */
import { InputError } from '../../base/errors.js';
import { recycleFloat32 } from '../../source/block-buffers.js';
import type { ModelSource } from '../../source/types.js';
import { blockOf } from '../block-names.js';
import { DEFAULT_BLOCK_BYTES } from '../weights/blocks.js';
import { type MergeTensorPlan, mergeRowBlocks, planMerge } from './merge-rows.js';

export interface MergeCandidate {
  id: string;
  source: ModelSource;
}

export interface MergeBlockFit {
  /** The block of the child's tensor names (`model.layers.3`, `blk.3`, `fc1`). */
  block: string;
  /** This block's own least-squares coefficients, in the candidates' order. */
  coefficients: number[];
  /** ||child - sum c_k cand_k|| / ||child|| over the block's tensors, with the block's coefficients (0 for an all-zero block). */
  residual: number;
  /** The block's share of the child's energy: ||child_block||^2 / ||child||^2 over the fitted tensors. */
  energy: number;
}

export interface MergeFit {
  /** Ids, in the order given. */
  candidates: string[];
  /** Least-squares c minimising ||child - sum_k c_k cand_k||^2 over all fitted tensors. */
  coefficients: number[];
  /** Per block (child's names), in the child's tensor order. */
  blocks: MergeBlockFit[];
  /** ||child - sum c_k cand_k|| / ||child|| over all fitted tensors (global coefficients). */
  residual: number;
  /** Same with per-block coefficients. */
  blockResidual: number;
  /** The best single candidate: min over k of min over scalar s of ||child - s * cand_k|| / ||child||, and which. */
  single: { candidate: string; residual: number };
  /** Child parameters fitted (elements). */
  fittedParameters: number;
  /** Child tensors left out (not matched in every candidate, transposed, shapes differ, buffers), with reasons. */
  skipped: { tensor: string; reason: string }[];
  /** Global least-squares fit over a subset of the candidates (indices into `candidates`), from the same sums: no model is read again. */
  subset(indices: readonly number[]): { coefficients: number[]; residual: number };
}

export interface MergeOptions {
  /** Bytes of float32 read at a time per tensor (default 4 MiB). */
  blockBytes?: number;
  /** Added to the Gram diagonal as ridge * trace(G) / K; only for numerical safety when candidates coincide (default 1e-12). */
  ridge?: number;
}

/** Candidates one fit takes at most: the Gram sums cost K(K+1)/2 products per element. */
export const MAX_MERGE_CANDIDATES = 16;
const DEFAULT_RIDGE = 1e-12;

/** Float64 sums over some tensors: G (K x K, row-major, lower triangle filled while streaming), h and cc. */
interface Gram {
  g: Float64Array;
  h: Float64Array;
  cc: number;
}

function emptyGram(k: number): Gram {
  return { g: new Float64Array(k * k), h: new Float64Array(k), cc: 0 };
}

function dot(x: Float32Array, y: Float32Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * y[i];
  return s;
}

function addRows(gram: Gram, child: Float32Array, candidates: readonly Float32Array[]): void {
  const k = candidates.length;
  for (let i = 0; i < k; i++) {
    gram.h[i] += dot(candidates[i], child);
    for (let j = 0; j <= i; j++) gram.g[i * k + j] += dot(candidates[i], candidates[j]);
  }
  gram.cc += dot(child, child);
}

function addGram(into: Gram, from: Gram): void {
  for (let i = 0; i < from.g.length; i++) into.g[i] += from.g[i];
  for (let i = 0; i < from.h.length; i++) into.h[i] += from.h[i];
  into.cc += from.cc;
}

/** The full symmetric G from its streamed lower triangle. */
function symmetric(gram: Gram): Float64Array {
  const k = gram.h.length;
  const g = gram.g.slice();
  for (let i = 0; i < k; i++) for (let j = 0; j < i; j++) g[j * k + i] = g[i * k + j];
  return g;
}

/**
 * Solves (G + ridge * trace(G) / K * I) c = h by Gaussian elimination with partial pivoting. A
 * column whose pivot vanishes depends on the others (a Gram matrix's system is always consistent),
 * so its coefficient is left at 0.
 */
function solveGram(gram: Gram, ridge: number): number[] {
  const k = gram.h.length;
  const a = symmetric(gram);
  let trace = 0;
  for (let i = 0; i < k; i++) trace += a[i * k + i];
  if (!(trace > 0)) return new Array<number>(k).fill(0);
  for (let i = 0; i < k; i++) a[i * k + i] += (ridge * trace) / k;
  const b = Float64Array.from(gram.h);
  const tiny = trace * k * Number.EPSILON;
  const pivotOf: number[] = [];
  for (let col = 0, row = 0; col < k && row < k; col++) {
    let best = row;
    for (let r = row + 1; r < k; r++) if (Math.abs(a[r * k + col]) > Math.abs(a[best * k + col])) best = r;
    if (Math.abs(a[best * k + col]) <= tiny) continue;
    for (let c = 0; c < k; c++) [a[row * k + c], a[best * k + c]] = [a[best * k + c], a[row * k + c]];
    [b[row], b[best]] = [b[best], b[row]];
    for (let r = row + 1; r < k; r++) {
      const f = a[r * k + col] / a[row * k + col];
      for (let c = col; c < k; c++) a[r * k + c] -= f * a[row * k + c];
      b[r] -= f * b[row];
    }
    pivotOf[row++] = col;
  }
  const c = new Array<number>(k).fill(0);
  for (let row = pivotOf.length - 1; row >= 0; row--) {
    const col = pivotOf[row];
    let s = b[row];
    for (let j = col + 1; j < k; j++) s -= a[row * k + j] * c[j];
    c[col] = s / a[row * k + col];
  }
  return c;
}

/** ||child - sum c_k cand_k||^2 = cc - 2 c.h + c^T G c, clamped at 0 (it cancels to rounding noise for an exact fit). */
function residualSquared(gram: Gram, c: readonly number[]): number {
  const k = c.length;
  const g = symmetric(gram);
  let fit = 0;
  let quad = 0;
  for (let i = 0; i < k; i++) {
    fit += c[i] * gram.h[i];
    for (let j = 0; j < k; j++) quad += c[i] * g[i * k + j] * c[j];
  }
  return Math.max(0, gram.cc - 2 * fit + quad);
}

function relative(squared: number, cc: number): number {
  return cc > 0 ? Math.sqrt(squared / cc) : 0;
}

/** NaN or infinite values would make every coefficient NaN: refused, naming the file and tensor. */
function checkFinite(gram: Gram, child: ModelSource, plan: MergeTensorPlan): void {
  if (!Number.isFinite(gram.cc)) throw new InputError(child.file, `tensor '${plan.child.name}' holds NaN or infinite values`);
  const k = gram.h.length;
  plan.candidates.forEach((side, i) => {
    if (!Number.isFinite(gram.g[i * k + i])) throw new InputError(side.source.file, `tensor '${side.tensor.name}' holds NaN or infinite values`);
  });
}

async function tensorGram(child: ModelSource, plan: MergeTensorPlan, blockBytes: number): Promise<Gram> {
  const gram = emptyGram(plan.candidates.length);
  for await (const rows of mergeRowBlocks(child, plan, blockBytes)) {
    addRows(gram, rows.child, rows.candidates);
    recycleFloat32(rows.child);
    for (const block of rows.candidates) recycleFloat32(block);
  }
  checkFinite(gram, child, plan);
  return gram;
}

/** The best single candidate scaled: ||child - s cand_k||^2 = cc - h_k^2 / G_kk at s = h_k / G_kk. */
function bestSingle(gram: Gram, ids: readonly string[]): { candidate: string; residual: number } {
  const k = ids.length;
  let best = { candidate: ids[0], residual: Number.POSITIVE_INFINITY };
  for (let i = 0; i < k; i++) {
    const gii = gram.g[i * k + i];
    const squared = gii > 0 ? Math.max(0, gram.cc - (gram.h[i] * gram.h[i]) / gii) : gram.cc;
    const residual = relative(squared, gram.cc);
    if (residual < best.residual) best = { candidate: ids[i], residual };
  }
  return best;
}

function checkArguments(child: ModelSource, candidates: readonly MergeCandidate[], blockBytes: number, ridge: number): void {
  if (candidates.length === 0) throw new RangeError(`fitMerge: no candidates given for ${child.path}`);
  if (candidates.length > MAX_MERGE_CANDIDATES) {
    throw new RangeError(`fitMerge: ${candidates.length} candidates for ${child.path}; at most ${MAX_MERGE_CANDIDATES} are fitted at once`);
  }
  const ids = new Set(candidates.map((c) => c.id));
  if (ids.size !== candidates.length) throw new RangeError(`fitMerge: candidate ids repeat (${candidates.map((c) => c.id).join(', ')})`);
  if (!(blockBytes > 0) || !Number.isFinite(blockBytes)) throw new RangeError(`fitMerge: blockBytes must be a positive number, got ${blockBytes}`);
  if (!(ridge >= 0) || !Number.isFinite(ridge)) throw new RangeError(`fitMerge: ridge must be a finite number >= 0, got ${ridge}`);
}

/** Fits the child as a linear combination of the candidates, globally and per block. */
export async function fitMerge(child: ModelSource, candidates: readonly MergeCandidate[], options: MergeOptions = {}): Promise<MergeFit> {
  const blockBytes = options.blockBytes ?? DEFAULT_BLOCK_BYTES;
  const ridge = options.ridge ?? DEFAULT_RIDGE;
  checkArguments(child, candidates, blockBytes, ridge);
  const ids = candidates.map((c) => c.id);
  const plan = await planMerge(child, candidates, blockBytes);
  if (plan.tensors.length === 0) {
    throw new InputError(child.file, `no tensor pairs with a tensor of every candidate (${ids.join(', ')}); ${plan.skipped.length} tensors skipped`);
  }
  const blockGrams = new Map<string, Gram>();
  let fittedParameters = 0;
  for (const tensor of plan.tensors) {
    const block = blockOf(tensor.child.name);
    const gram = blockGrams.get(block) ?? emptyGram(ids.length);
    addGram(gram, await tensorGram(child, tensor, blockBytes));
    blockGrams.set(block, gram);
    fittedParameters += tensor.rows * tensor.cols;
  }
  const total = emptyGram(ids.length);
  for (const gram of blockGrams.values()) addGram(total, gram);
  const coefficients = solveGram(total, ridge);
  let blockSquared = 0;
  const blocks: MergeBlockFit[] = [...blockGrams].map(([block, gram]) => {
    const c = solveGram(gram, ridge);
    const squared = residualSquared(gram, c);
    blockSquared += squared;
    return { block, coefficients: c, residual: relative(squared, gram.cc), energy: total.cc > 0 ? gram.cc / total.cc : 0 };
  });
  return {
    candidates: ids,
    coefficients,
    blocks,
    residual: relative(residualSquared(total, coefficients), total.cc),
    blockResidual: relative(blockSquared, total.cc),
    single: bestSingle(total, ids),
    fittedParameters,
    skipped: plan.skipped,
    subset: (indices) => subsetFit(total, indices, ridge),
  };
}

function subsetFit(total: Gram, indices: readonly number[], ridge: number): { coefficients: number[]; residual: number } {
  const k = total.h.length;
  const sub = emptyGram(indices.length);
  indices.forEach((i, a) => {
    sub.h[a] = total.h[i];
    indices.forEach((j, b) => {
      if (b <= a) sub.g[a * indices.length + b] = total.g[Math.max(i, j) * k + Math.min(i, j)];
    });
  });
  sub.cc = total.cc;
  const coefficients = solveGram(sub, ridge);
  return { coefficients, residual: relative(residualSquared(sub, coefficients), sub.cc) };
}

/**
 * The least-squares fit of a vector v over K others from their inner products alone: `g` the
 * K x K products (row-major), `h` each one's product with v, `cc` v's squared norm. What a caller
 * that already holds the products (a tree's pairwise stage) uses to screen merges without reading.
 */
export function fitFromProducts(g: ArrayLike<number>, h: ArrayLike<number>, cc: number, ridge = DEFAULT_RIDGE): { coefficients: number[]; residual: number } {
  const k = h.length;
  const gram = emptyGram(k);
  for (let i = 0; i < k; i++) {
    gram.h[i] = h[i];
    for (let j = 0; j <= i; j++) gram.g[i * k + j] = g[i * k + j];
  }
  gram.cc = cc;
  const coefficients = solveGram(gram, ridge);
  return { coefficients, residual: relative(residualSquared(gram, coefficients), cc) };
}

/**
 * Task arithmetic view: with base index j, the child is base + sum_{k != j} lambda_k (cand_k - base),
 * lambda_k = c_k. That reading holds when the coefficients sum to 1 (the base's own coefficient is
 * then 1 - sum lambda_k); `sumCoefficients` lets the caller check it within its tolerance.
 */
export function taskArithmetic(fit: MergeFit, baseIndex: number): { base: string; lambdas: { candidate: string; lambda: number }[]; sumCoefficients: number } {
  if (!Number.isInteger(baseIndex) || baseIndex < 0 || baseIndex >= fit.candidates.length) {
    throw new RangeError(`taskArithmetic: base index ${baseIndex} is outside the ${fit.candidates.length} candidates`);
  }
  const lambdas = fit.candidates.flatMap((candidate, k) => (k === baseIndex ? [] : [{ candidate, lambda: fit.coefficients[k] }]));
  return { base: fit.candidates[baseIndex], lambdas, sumCoefficients: fit.coefficients.reduce((s, c) => s + c, 0) };
}
