/**
 * PairScores for weight-space methods, streamed: any models whose tensors match (any format,
 * naming or architecture) are scored pair by pair from their sources, one tensor block at a time,
 * so memory holds a few blocks whatever the number and size of the models. Each model is read once
 * alone (finite values, kurtosis) and once per pair it belongs to; weight methods are symmetric, so
 * each unordered pair is compared once: n(n-1)/2 comparisons.
 */
import type { ExcludedModel } from '../finite.js';
import type { OpenedModel } from '../source-ref.js';
import { type CachedStats, fingerprint, type PairCache } from './pair-cache.js';
import { compareModels } from '../weights/compare.js';
import { compareAligned } from '../align/index.js';
import { candidateSide, childSide, type SideTensor, shapeExcludedBlocks, unrelatedBlocks, withoutBlocks } from '../weights/reinitialised.js';
import type { ModelComparison } from '../weights/types.js';
import { isRoundingOnly, storageNoise } from '../relations/relation.js';
import { equalShare } from '../relations/explain.js';
import { modelStats } from '../weights/model-stats.js';
import { comparisonProblem, identicalScore, isAlignedMethod, relativeWeightDistanceOf, type WeightMethodName, weightMethodScore } from '../weights/scores.js';
import { DEFAULT_ALPHA, DEFAULT_LAYER } from '../learning-free.js';
import type { PairScoreOptions, PairScores } from './pair-scores.js';

/** One model's own pass, from the cache when it holds it. */
async function statsOf(m: OpenedModel, cache: PairCache | undefined, print: string | undefined): Promise<CachedStats> {
  const cached = print === undefined ? undefined : cache?.getStats(print);
  if (cached) return cached;
  const fresh = await modelStats(m.source);
  const stats = { ...(fresh.nonFinite !== undefined ? { nonFinite: fresh.nonFinite } : {}), kurtosis: [...fresh.kurtosis] };
  if (print !== undefined) cache?.putStats(print, stats);
  return stats;
}

/** Reads each model once alone (or takes its statistics from the cache): those holding values that are not finite are left out. */
async function finiteModels(
  opened: readonly OpenedModel[],
  cache: PairCache | undefined,
  prints: readonly (string | undefined)[] | undefined,
): Promise<{ kept: OpenedModel[]; keptPrints: (string | undefined)[] | undefined; kurtosis: Map<string, number>[]; excluded: ExcludedModel[] }> {
  const kept: OpenedModel[] = [];
  const keptPrints: (string | undefined)[] = [];
  const kurtosis: Map<string, number>[] = [];
  const excluded: ExcludedModel[] = [];
  for (const [i, m] of opened.entries()) {
    const stats = await statsOf(m, cache, prints?.[i]);
    if (stats.nonFinite === undefined) {
      kept.push(m);
      if (prints) keptPrints.push(prints[i]);
      kurtosis.push(new Map(stats.kurtosis));
    } else {
      excluded.push({ model: m.id, file: m.file, reason: `tensor ${stats.nonFinite} holds NaN or infinite values` });
    }
  }
  return { kept, keptPrints: prints ? keptPrints : undefined, kurtosis, excluded };
}

function checkDistinct(models: readonly OpenedModel[]): void {
  const ids = new Set<string>();
  for (const m of models) {
    if (ids.has(m.id)) throw new RangeError(`model ${m.id} is listed twice`);
    ids.add(m.id);
  }
}

interface ComparedPair {
  a: number;
  b: number;
  comparison: ModelComparison;
}

/** Every unordered pair compared once (or taken from the cache); pairs that cannot be parent and child are listed with why. */
async function compareAllPairs(
  models: readonly OpenedModel[],
  options: PairScoreOptions,
  prints: readonly (string | undefined)[] | undefined,
  align: boolean,
): Promise<{ compared: ComparedPair[]; incompatible: PairScores['incompatible'] }> {
  const n = models.length;
  const { cache } = options;
  // Aligned comparisons are other numbers than plain ones: cached under their own keys.
  const key = (i: number) => (prints?.[i] === undefined ? undefined : `${align ? 'aligned:' : ''}${prints[i]}`);
  const compare = async (a: number, b: number): Promise<ModelComparison> => {
    const [ka, kb] = [key(a), key(b)];
    const cached = ka !== undefined && kb !== undefined ? cache?.get(ka, kb) : undefined;
    if (cached) return cached;
    const fresh = align ? (await compareAligned(models[a].source, models[b].source)).comparison : await compareModels(models[a].source, models[b].source);
    if (ka !== undefined && kb !== undefined) cache?.put(ka, kb, fresh);
    return fresh;
  };
  const compared: ComparedPair[] = [];
  const incompatible: PairScores['incompatible'] = [];
  const total = (n * (n - 1)) / 2;
  let done = 0;
  for (let a = 0; a < n; a++) {
    for (let b = a + 1; b < n; b++) {
      const comparison = await compare(a, b);
      const problem = comparisonProblem(comparison, { a: models[a].id, b: models[b].id });
      if (problem === undefined) compared.push({ a, b, comparison });
      else incompatible.push({ a: models[a].id, b: models[b].id, reason: problem });
      options.onProgress?.(++done, total);
    }
  }
  return { compared, incompatible };
}

/**
 * Scores and relative distances of the compared pairs, all over the same tensors: a block some
 * model re-initialised (unrelated to every model it was compared with, weights/reinitialised.ts: a
 * new head of the same shape) or that has another shape in some pair (a head with other classes)
 * is left out of every pair, by name. Otherwise pairs would average over different tensors and
 * their scores could not be ranked against each other.
 */
function scoresOf(n: number, compared: readonly ComparedPair[], method: WeightMethodName): { score: Float64Array; weightDistance: Float64Array } {
  const sides: SideTensor[][] = Array.from({ length: n }, () => []);
  for (const { a, b, comparison } of compared) {
    sides[a].push(...candidateSide(comparison));
    sides[b].push(...childSide(comparison));
  }
  const comparisons = compared.map((p) => p.comparison);
  const drop = new Set([
    ...sides.flatMap((side) => [...unrelatedBlocks(side)]),
    ...shapeExcludedBlocks(comparisons, 'a'),
    ...shapeExcludedBlocks(comparisons, 'b'),
  ]);
  const score = new Float64Array(n * n).fill(Number.NaN);
  const weightDistance = new Float64Array(n * n).fill(Number.NaN);
  for (let a = 0; a < n; a++) {
    score[a * n + a] = identicalScore(method);
    weightDistance[a * n + a] = 0;
  }
  for (const { a, b, comparison } of compared) {
    const kept = withoutBlocks(comparison, drop, drop);
    score[a * n + b] = score[b * n + a] = weightMethodScore(method, kept);
    weightDistance[a * n + b] = weightDistance[b * n + a] = relativeWeightDistanceOf(kept);
  }
  return { score, weightDistance };
}

/**
 * Scores the pairs of `opened` models (ids distinct). Models holding values that are not finite are
 * left out (listed in `excluded`); the caller closes every model it opened.
 */
/**
 * Pairs that differ by no more than rounding (relations/relation.ts: converted or quantised): the
 * side stored more lossily is the copy. On hubs quantised and converted models are leaves, and a
 * copy must never be mistaken for its original's parent. Identical storage (a re-sharded file) says
 * nothing about which came first: no copy is named then.
 */
function copiesOf(models: readonly OpenedModel[], compared: readonly ComparedPair[]): { copy: string; of: string }[] {
  const out: { copy: string; of: string }[] = [];
  for (const { a, b, comparison } of compared) {
    const na = storageNoise(comparison, models[a].source, 'a');
    const nb = storageNoise(comparison, models[b].source, 'b');
    if (!isRoundingOnly(comparison, na + nb) || na === nb) continue;
    out.push(na > nb ? { copy: models[a].id, of: models[b].id } : { copy: models[b].id, of: models[a].id });
  }
  return out;
}

export async function scoreWeightPairs(opened: readonly OpenedModel[], method: WeightMethodName, options: PairScoreOptions = {}): Promise<PairScores> {
  checkDistinct(opened);
  const prints = options.cache ? await Promise.all(opened.map((m) => fingerprint(m.source))) : undefined;
  const { kept: models, keptPrints, kurtosis, excluded } = await finiteModels(opened, options.cache, prints);
  {
    const n = models.length;
    const { compared, incompatible } = await compareAllPairs(models, options, keptPrints, isAlignedMethod(method));
    await options.cache?.flush();
    const { score, weightDistance } = scoresOf(n, compared, method);
    const copies = copiesOf(models, compared);
    const equal = new Float64Array(n * n).fill(Number.NaN);
    const dot = new Float64Array(n * n).fill(Number.NaN);
    const cosine = new Float64Array(n * n).fill(Number.NaN);
    for (const { a, b, comparison } of compared) {
      equal[a * n + b] = equal[b * n + a] = equalShare(comparison);
      const sum = (key: 'aa' | 'bb' | 'ab') => comparison.tensors.reduce((s, t) => s + t.sums[key], 0);
      dot[a * n + b] = dot[b * n + a] = sum('ab');
      if (Number.isNaN(dot[a * n + a])) dot[a * n + a] = sum('aa');
      if (Number.isNaN(dot[b * n + b])) dot[b * n + b] = sum('bb');
      const norms = Math.sqrt(sum('aa') * sum('bb'));
      cosine[a * n + b] = cosine[b * n + a] = norms > 0 ? sum('ab') / norms : Number.NaN;
    }
    return {
      models: models.map((m) => ({ id: m.id, file: m.file })),
      n,
      method,
      alpha: options.alpha ?? DEFAULT_ALPHA,
      layer: options.layer ?? DEFAULT_LAYER,
      score,
      weightDistance,
      kurtosis,
      incompatible,
      excluded,
      copies,
      equalShare: equal,
      dot,
      cosine,
    };
  }
}
