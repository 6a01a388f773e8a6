/**
 * Lineage scores and distances read off a streamed comparison (compare.ts), so that `detect`,
 * `tree`, `ancestors` and `layers` score any two models whose tensors match, whatever their format,
 * naming or architecture, with the same numbers `compare` reports. a is the candidate parent,
 * b the model asked about.
 *
 *   weights-l2:  -(mean over matched tensors of the mean squared difference)
 *   weights-cos: cosine similarity of all matched parameters taken as one vector
 *   weights-aligned-l2, weights-aligned-cos: the same after aligning the child's hidden units
 *                (MLP units, attention heads, conv channels) to the candidate's (align/)
 *   weights-rel: -(mean over matched matrices of the symmetric relative distance), scale-free: each
 *                matrix counts alike whatever the size of its values (norm gains near 1 and
 *                embeddings would otherwise outweigh the rest in weights-l2)
 */
import type { WeightMethod } from '../methods.js';
import type { ModelComparison, PairSums, TensorDistance } from './types.js';

/** The weight methods, by name. */
export type WeightMethodName = WeightMethod;

/** Higher for a more likely parent. NaN when nothing was compared. */
export function weightsL2Score(c: ModelComparison): number {
  if (c.tensors.length === 0) return Number.NaN;
  let total = 0;
  for (const t of c.tensors) total += t.elements === 0 ? 0 : t.sums.dd / t.elements;
  return -total / c.tensors.length;
}

/** Higher for a more likely parent. NaN when either side is all zeros or nothing was compared. */
export function weightsCosScore(c: ModelComparison): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (const { sums } of c.tensors) {
    ab += sums.ab;
    aa += sums.aa;
    bb += sums.bb;
  }
  return aa === 0 || bb === 0 ? Number.NaN : ab / Math.sqrt(aa * bb);
}

/**
 * The score of `c`. Aligned methods (weights-aligned-l2/cos) score like weights-l2/cos, on the
 * comparison made after the child's hidden units were put in the candidate's order (align/).
 */
export function weightMethodScore(method: WeightMethodName, c: ModelComparison): number {
  if (method === 'weights-l2' || method === 'weights-aligned-l2') return weightsL2Score(c);
  return method === 'weights-cos' || method === 'weights-aligned-cos' ? weightsCosScore(c) : -relativeWeightDistanceOf(c);
}

/** Methods scored on the aligned comparison. */
export function isAlignedMethod(method: WeightMethodName): boolean {
  return method === 'weights-aligned-l2' || method === 'weights-aligned-cos';
}

/** What a method gives a model against an identical copy of itself. */
export function identicalScore(method: WeightMethodName): number {
  return method === 'weights-cos' || method === 'weights-aligned-cos' ? 1 : 0;
}

function symmetricRelative(s: PairSums): number {
  const norms = (s.aa + s.bb) / 2;
  return norms === 0 ? Number.NaN : Math.sqrt(s.dd / norms);
}

/**
 * Symmetric relative distance: mean over matched tensors of rank >= 2 of
 * ||a - b|| / sqrt((||a||^2 + ||b||^2) / 2): 0 for identical tensors, about sqrt(2) for independent
 * trainings, the relative step size for fine-tuning. Biases and norm scales would dilute it
 * (unrelated models share values near 0 and 1 there), so they count only when no matrix matched.
 */
export function relativeWeightDistanceOf(c: ModelComparison): number {
  const mean = (tensors: readonly TensorDistance[]): number => {
    let sum = 0;
    let count = 0;
    for (const t of tensors) {
      const d = symmetricRelative(t.sums);
      if (!Number.isFinite(d)) continue;
      sum += d;
      count++;
    }
    return count === 0 ? Number.NaN : sum / count;
  };
  const matrices = mean(c.tensors.filter((t) => t.rank >= 2));
  return Number.isFinite(matrices) ? matrices : mean(c.tensors);
}

/**
 * Why the comparison cannot rank b against a as parent and child, or undefined when it can: no
 * tensor matched, under half of either model's parameters matched (different architectures that
 * happen to share a few names), or a value that is not finite.
 */
export function comparisonProblem(c: ModelComparison, names: { a: string; b: string } = { a: 'candidate', b: 'child' }): string | undefined {
  if (c.tensors.length === 0) return 'no tensor of one model matches a tensor of the other (names and shapes)';
  if (c.lowCoverage) {
    const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
    return `tensor names and shapes match for only ${pct(c.coverage.a)} of the ${names.a}'s and ${pct(c.coverage.b)} of the ${names.b}'s parameters: not the same architecture`;
  }
  for (const t of c.tensors) {
    if (!Number.isFinite(t.sums.aa)) return `${names.a} has NaN or infinite values in tensor ${t.aName}`;
    if (!Number.isFinite(t.sums.bb)) return `${names.b} has NaN or infinite values in tensor ${t.bName}`;
  }
  return undefined;
}

/** Tensors left out for a reason a user should see: shapes that differ (a new head), not buffers. */
export function notableExclusions(c: ModelComparison): ModelComparison['excluded'] {
  return c.excluded.filter((e) => e.aName !== null && e.bName !== null && !e.reason.startsWith('buffer') && !e.reason.includes('not floating-point'));
}
