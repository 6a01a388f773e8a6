/**
 * Which of two related models is the parent? Each heuristic returns raw evidence e(a -> b), positive
 * when a looks like b's parent and antisymmetric (e(b -> a) = -e(a -> b)):
 *
 * - fit: the linearisation built at the true parent should explain the child better, so
 *   e = score(a as parent of b) - score(b as parent of a). Zero for symmetric (direct, weight) methods.
 * - kurtosis: fine-tuning adds updates to the weights and moves every tensor's value distribution
 *   the same way over generations (towards heavier tails for trained nets, towards Gaussian for
 *   uniform-initialised ones), so e = mean over shared matrices of ln(kurt_b / kurt_a): the model
 *   whose tensors moved further is younger.
 * - centrality: in a family, the older model sits nearer the middle (a parent is one step from each
 *   of its children, which are two steps from each other), so e = mean distance of b to its family
 *   - mean distance of a.
 *
 * Raw values have different units; each is scaled by its RMS over the pairs inside families and
 * squashed with tanh, then the heuristics are averaged with the caller's weights (divided by the
 * sum of their absolute values): a combined value in [-1, 1]. A negative weight uses a heuristic
 * the other way round, for benchmarks.
 *
 * Measured (two trained MLP zoos, 24 and 52 models, 1-2 generations of fine-tuning, models in
 * shuffled order): only centrality helped (roots found 75-100%, directed edge accuracy 87.5% of a
 * 89.6% placement ceiling with weights-l2). Kurtosis moved in opposite directions in different
 * layers (first layer down, second up) and found no root; fit preferred the child as parent, in
 * both taylor (alpha 0.01) and exact linearised (alpha 1) form, on real and synthetic families.
 * Centrality cannot orient a plain chain (its middle looks oldest).
 */

export const DIRECTION_HEURISTICS = ['kurtosis', 'centrality', 'fit'] as const;
export type DirectionHeuristic = (typeof DIRECTION_HEURISTICS)[number];
export type DirectionWeights = Partial<Record<DirectionHeuristic, number>>;

/** What the heuristics read, for n models indexed 0..n-1. */
export interface DirectionContext {
  n: number;
  /** score[p * n + c]: the method's score of p as the parent of c; NaN where not computed. */
  score: Float64Array;
  /** Symmetric distance (lower = more alike) for every pair; NaN for incompatible pairs. */
  distance: Float64Array;
  /** Family label per model (models linked within the root threshold); centrality stays inside it. */
  family: Int32Array;
  /** Kurtosis per tensor name, per model. */
  kurtosis: ReadonlyMap<string, number>[];
}

export function fitEvidence(ctx: DirectionContext, a: number, b: number): number {
  const forward = ctx.score[a * ctx.n + b];
  const backward = ctx.score[b * ctx.n + a];
  return Number.isFinite(forward) && Number.isFinite(backward) ? forward - backward : 0;
}

export function kurtosisEvidence(ka: ReadonlyMap<string, number>, kb: ReadonlyMap<string, number>): number {
  let sum = 0;
  let count = 0;
  for (const [name, x] of ka) {
    const y = kb.get(name);
    if (y === undefined || !(x > 0) || !(y > 0)) continue;
    sum += Math.log(y / x);
    count++;
  }
  return count > 0 ? sum / count : 0;
}

/** Mean distance from each model to the other members of its family (NaN for a lone model). */
export function familyMeanDistance(ctx: DirectionContext): Float64Array {
  const out = new Float64Array(ctx.n).fill(Number.NaN);
  for (let a = 0; a < ctx.n; a++) {
    let sum = 0;
    let count = 0;
    for (let b = 0; b < ctx.n; b++) {
      const d = ctx.distance[a * ctx.n + b];
      if (b === a || ctx.family[b] !== ctx.family[a] || !Number.isFinite(d)) continue;
      sum += d;
      count++;
    }
    if (count > 0) out[a] = sum / count;
  }
  return out;
}

export function centralityEvidence(meanDistance: Float64Array, a: number, b: number): number {
  const da = meanDistance[a];
  const db = meanDistance[b];
  return Number.isFinite(da) && Number.isFinite(db) ? db - da : 0;
}

/** Raw evidence of one heuristic for every ordered pair (antisymmetric n x n matrix). */
export function rawEvidence(ctx: DirectionContext, heuristic: DirectionHeuristic): Float64Array {
  const { n } = ctx;
  const out = new Float64Array(n * n);
  const meanDistance = heuristic === 'centrality' ? familyMeanDistance(ctx) : undefined;
  for (let a = 0; a < n; a++) {
    for (let b = a + 1; b < n; b++) {
      if (!Number.isFinite(ctx.distance[a * n + b])) continue;
      let e: number;
      if (heuristic === 'fit') e = fitEvidence(ctx, a, b);
      else if (heuristic === 'kurtosis') e = kurtosisEvidence(ctx.kurtosis[a], ctx.kurtosis[b]);
      else e = centralityEvidence(meanDistance as Float64Array, a, b);
      out[a * n + b] = e;
      out[b * n + a] = -e;
    }
  }
  return out;
}

/** Combined evidence in [-1, 1] for every ordered pair; all zeros when every weight is zero. */
export function directionEvidence(ctx: DirectionContext, weights: DirectionWeights): Float64Array {
  const { n } = ctx;
  const combined = new Float64Array(n * n);
  let total = 0;
  for (const h of DIRECTION_HEURISTICS) {
    const w = weights[h] ?? 0;
    if (w === 0 || !Number.isFinite(w)) continue;
    total += Math.abs(w);
    const raw = rawEvidence(ctx, h);
    // Scale by the spread inside families, where direction matters; all pairs when there are none.
    let sum = 0;
    let count = 0;
    for (const inFamilyOnly of [true, false]) {
      for (let a = 0; a < n; a++) {
        for (let b = a + 1; b < n; b++) {
          if (inFamilyOnly && ctx.family[a] !== ctx.family[b]) continue;
          if (!Number.isFinite(ctx.distance[a * n + b])) continue;
          sum += raw[a * n + b] ** 2;
          count++;
        }
      }
      if (count > 0 && sum > 0) break;
      sum = 0;
      count = 0;
    }
    const rms = count > 0 ? Math.sqrt(sum / count) : 0;
    if (!(rms > 0)) continue;
    for (let i = 0; i < n * n; i++) combined[i] += w * Math.tanh(raw[i] / rms);
  }
  if (total > 0) for (let i = 0; i < n * n; i++) combined[i] /= total;
  return combined;
}

/** Parses `kurtosis`, `kurtosis,fit` or `kurtosis=2,fit=1`; `none` gives no direction evidence. */
export function parseDirectionWeights(spec: string): DirectionWeights {
  const out: DirectionWeights = {};
  if (spec.trim() === 'none') return out;
  for (const part of spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [name, value] = part.split('=');
    if (!(DIRECTION_HEURISTICS as readonly string[]).includes(name)) {
      throw new RangeError(`unknown direction heuristic '${name}': use ${DIRECTION_HEURISTICS.join(', ')} or none`);
    }
    const w = value === undefined ? 1 : Number(value);
    if (!Number.isFinite(w)) throw new RangeError(`direction weight of ${name} must be a number, got '${value}'`);
    out[name as DirectionHeuristic] = w;
  }
  return out;
}
