/**
 * Scores between every pair of compatible models with one learning-free method: every model is a
 * child, every other compatible model a candidate. Each model's self-score is computed too (one
 * extra pass per model): it is the similarity of a model to itself, which turns scores of any
 * metric into distances (self - score) without knowing the metric's range.
 *
 * Cost: symmetric methods (direct-*, weights-*) score each unordered pair once, n(n+1)/2 passes;
 * taylor and linearized methods need both orders, n^2 passes (the asymmetry is direction evidence).
 */
import type { Weights } from '../../tensor.js';
import { scoreMatrix, DEFAULT_ALPHA, DEFAULT_LAYER, type DetectOptions } from '../learning-free.js';
import { type LineageModel, buildModelGraph } from '../model.js';
import { checkCompatible, comparedParameters } from '../compat.js';
import { type ExcludedModel, partitionFinite } from '../finite.js';
import { parseMethod, type Method } from '../methods.js';
import { AUTO_METHOD, AUTO_WEIGHT_METHOD } from '../auto.js';
import type { PairCache } from './pair-cache.js';
import { weightKurtosis } from './kurtosis.js';

export interface PairScoreOptions extends Omit<DetectOptions, 'methods' | 'onProgress'> {
  /** One method name, or `auto` (the default): auto's weight method, weights-cos (bench/results/tree.md). */
  method?: string;
  /** Weight methods: comparisons (and each model's own statistics) kept on disk from earlier runs, and added to. */
  cache?: PairCache;
  /** Called after each scored pair. */
  onProgress?: (done: number, total: number) => void;
}

export interface PairScores {
  models: { id: string; file: string }[];
  n: number;
  method: string;
  alpha: number;
  layer: string;
  /** score[p * n + c]: score of p as the parent of c; the diagonal holds self-scores; NaN where not scored. */
  score: Float64Array;
  /**
   * Relative weight distance per pair (symmetric, NaN for incompatible pairs): mean over shared
   * matrices and kernels of ||a - b|| / sqrt((||a||^2 + ||b||^2) / 2). 0 for identical tensors,
   * about sqrt(2) for independent trainings, the relative step size for fine-tuning.
   */
  weightDistance: Float64Array;
  /** Kurtosis per compared matrix, per model. */
  kurtosis: Map<string, number>[];
  /** Pairs that cannot be parent and child (different tensors or shapes). */
  incompatible: { a: string; b: string; reason: string }[];
  /** Models left out (NaN or infinite values): not in `models`, scored with no one. */
  excluded: ExcludedModel[];
  /** Weight methods: models that are a rounding-level copy (converted or quantised) of another, stored more lossily: leaves of the tree. */
  copies?: { copy: string; of: string }[];
  /** Weight methods: share of compared weights exactly equal, per pair (symmetric; NaN where not compared). */
  equalShare?: Float64Array;
  /**
   * Weight methods: inner products of every compared pair over its matched tensors (sum of a.b), and
   * each model's squared norm on the diagonal (over its tensors matched in its first pair): enough to
   * fit a merge approximately without reading the models again.
   */
  dot?: Float64Array;
  /** Weight methods: cosine of every compared pair over its own matched tensors (symmetric; NaN where not compared). */
  cosine?: Float64Array;
}

/** The method a tree is scored with: `auto` (and no method) is auto's weight method, as `detect`'s auto decides by weights. */
export function treeMethodName(name: string | undefined): string {
  return name === undefined || name === AUTO_METHOD ? AUTO_WEIGHT_METHOD : name;
}

export function isSymmetricMethod(method: Method): boolean {
  return method.kind === 'weights' || method.mode === 'direct';
}

interface Prepared {
  model: LineageModel;
  checked: string[];
  compared: string[];
}

/**
 * Scores all compatible pairs of `models` (ids must be distinct). A model holding NaN or infinite
 * values would score NaN against everyone: it is left out and listed in `excluded`.
 */
export async function scorePairs(given: readonly LineageModel[], options: PairScoreOptions = {}): Promise<PairScores> {
  const method = parseMethod(treeMethodName(options.method));
  const ids = new Set<string>();
  for (const m of given) {
    if (ids.has(m.id)) throw new RangeError(`model ${m.id} is listed twice`);
    ids.add(m.id);
  }
  const { finite: models, excluded } = partitionFinite(given);
  const n = models.length;
  const prepared: Prepared[] = [];
  for (const model of models) {
    const { headParams } = await buildModelGraph(model, options);
    const head = new Set(headParams);
    prepared.push({ model, checked: [...model.weights.keys()].filter((k) => !head.has(k)), compared: comparedParameters(model.weights, headParams) });
  }

  const incompatible: PairScores['incompatible'] = [];
  const compatible = new Uint8Array(n * n);
  for (let a = 0; a < n; a++) {
    compatible[a * n + a] = 1;
    for (let b = a + 1; b < n; b++) {
      const ab = checkCompatible(prepared[b].model.weights, prepared[a].model.weights, prepared[b].checked);
      const ba = ab.ok ? checkCompatible(prepared[a].model.weights, prepared[b].model.weights, prepared[a].checked) : ab;
      if (ab.ok && ba.ok) {
        compatible[a * n + b] = compatible[b * n + a] = 1;
      } else {
        incompatible.push({ a: models[a].id, b: models[b].id, reason: ab.ok ? (ba as { reason: string }).reason : ab.reason });
      }
    }
  }

  const symmetric = isSymmetricMethod(method);
  const candidatesOf = (c: number): number[] => {
    const out: number[] = [];
    for (let p = 0; p < n; p++) if (compatible[p * n + c] && (!symmetric || p >= c)) out.push(p);
    return out;
  };
  const total = models.reduce((sum, _, c) => sum + candidatesOf(c).length, 0);
  const score = new Float64Array(n * n).fill(Number.NaN);
  const index = new Map(models.map((m, i) => [m.id, i]));
  let done = 0;
  const detect: DetectOptions = { ...options, methods: [method] };
  delete detect.onProgress;
  for (let c = 0; c < n; c++) {
    const candidates = candidatesOf(c);
    if (candidates.length === 0) continue;
    const [result] = await scoreMatrix(
      [models[c]],
      candidates.map((p) => models[p]),
      {
        ...detect,
        independence: false,
        onProgress: () => options.onProgress?.(++done, total),
      },
    );
    for (const s of result.children[0].scores) {
      const p = index.get(s.parent) as number;
      score[p * n + c] = s.score;
      if (symmetric) score[c * n + p] = s.score;
    }
  }

  const weightDistance = new Float64Array(n * n).fill(Number.NaN);
  for (let a = 0; a < n; a++) {
    weightDistance[a * n + a] = 0;
    for (let b = a + 1; b < n; b++) {
      if (!compatible[a * n + b]) continue;
      weightDistance[a * n + b] = weightDistance[b * n + a] = relativeWeightDistance(
        prepared[a].model.weights,
        prepared[b].model.weights,
        prepared[a].compared,
      );
    }
  }

  return {
    models: models.map((m) => ({ id: m.id, file: m.file })),
    n,
    method: method.name,
    alpha: options.alpha ?? DEFAULT_ALPHA,
    layer: options.layer ?? DEFAULT_LAYER,
    score,
    weightDistance,
    kurtosis: prepared.map((p) => weightKurtosis(p.model.weights as Weights, p.compared)),
    incompatible,
    excluded,
  };
}

/**
 * Mean over shared tensors of rank >= 2 of the relative distance (biases and norm scales would
 * dilute it: unrelated models share values near 0 and 1 there); every tensor when none has rank 2.
 */
export function relativeWeightDistance(a: Weights, b: Weights, names: readonly string[], minRank = 2): number {
  let sum = 0;
  let count = 0;
  for (const name of names) {
    const x = a.get(name);
    const y = b.get(name);
    if (!x || !y || x.shape.length < minRank || x.dtype !== 'float32' || y.dtype !== 'float32') continue;
    const u = x.data as Float32Array;
    const v = y.data as Float32Array;
    let diff = 0;
    let norms = 0;
    for (let i = 0; i < u.length; i++) {
      const d = u[i] - v[i];
      diff += d * d;
      norms += u[i] * u[i] + v[i] * v[i];
    }
    if (norms === 0) continue;
    sum += Math.sqrt(diff / (norms / 2));
    count++;
  }
  if (count > 0) return sum / count;
  return minRank > 0 ? relativeWeightDistance(a, b, names, 0) : Number.NaN;
}
