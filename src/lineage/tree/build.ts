/**
 * From pairwise scores to a family forest (pure; no model passes).
 *
 * 1. Families: two models are related when a chain of links with relative weight distance below
 *    `relatedDistance` (default 1) joins them. Independent trainings sit near sqrt(2) (their
 *    weights are unrelated), fine-tuned descendants at their relative step size (well below 1):
 *    on two trained MLP zoos, links inside families measured 0.04-0.47 and between families
 *    1.34-1.38. Weights answer "related or not" far more sharply than features, whatever the
 *    scoring method. Each family becomes one tree. A numeric
 *    `rootThreshold` replaces this rule with the classic forest threshold in score units: a model
 *    becomes a root when no candidate's edge beats the threshold.
 * 2. Distances from the method's scores: dist(a, b) = (self_a + self_b) / 2 - (score(a->b) +
 *    score(b->a)) / 2, so any metric, whatever its range, becomes "0 for identical, larger for less
 *    alike".
 * 3. Directed edge weights inside families: w(p->c) = -dist(p, c) + strength * scale *
 *    direction(p->c), with direction in [-1, 1] (direction.ts) and scale = median length of the
 *    minimum-spanning links inside families (one generation step). A small strength keeps placement
 *    driven by similarity; since the similarity part is symmetric, orienting a fixed undirected tree
 *    only depends on the direction terms, so they effectively vote for each family's root.
 * 4. Chu-Liu/Edmonds forest: super-root edges weigh the root threshold (numeric mode) or a penalty
 *    larger than any tree's weight (one root per family).
 * 5. Weight methods: twins and missing parents (twins.ts, missing-parent.ts). A model the forest
 *    hung under its same-task twin moves to the twin's parent, a family rooted at a twin is re-rooted
 *    at the twins' parent, and an edge whose parent looks like the child's sibling is flagged
 *    `parent_may_be_missing`, all from distances that add up along fine-tuning steps (1 - cos).
 * 6. Confidence per edge (edges.ts): calibrated from the deciding branch position with weight
 *    methods (confidence.ts); with feature methods, the softmax of w(q->c) / (temperature * scale)
 *    over the child's admissible parents, which measures how clearly the parent stands out (on the
 *    zoos measured, temperature 0.2 made the mean confidence, 0.58-0.80, close to the edge
 *    accuracy, 0.55-0.88, but wrong edges got the same confidence as right ones).
 */
import { maxSpanningForest, type WeightedEdge } from './arborescence.js';
import { directionEvidence, type DirectionWeights } from './direction.js';
import { families, minimumSpanningLinks } from './links.js';
import type { PairScores } from './pair-scores.js';
import type { FamilyTree } from './types.js';
import { rerootTwinRoots, separateTwins, TWIN_BRANCH_POSITION } from './twins.js';
import { edgesOf } from './edges.js';

export interface BuildTreeOptions {
  /** Direction heuristics and their weights; default { centrality: 1 } (the only one that helped on real zoos). */
  direction?: DirectionWeights;
  /** Size of the direction term in generation steps; default 0.1. */
  directionStrength?: number;
  /**
   * 'auto' (default): families by relative weight distance (`relatedDistance`), one tree each;
   * 'none': one tree per group of compatible models; a number: a model is a root when no
   * candidate's edge reaches this score (units of the method).
   */
  rootThreshold?: number | 'auto' | 'none';
  /** Largest relative weight distance of a link inside a family ('auto'); default 1. */
  relatedDistance?: number;
  /** Softmax temperature of the confidences, in generation steps; default 0.2. */
  confidenceTemperature?: number;
  /** Weight methods: move models hung under a same-task twin up to the twin's parent (twins.ts); default true. */
  separateTwins?: boolean;
  /** Branch position above which a model counts as its neighbour's twin (twins.ts); default TWIN_BRANCH_POSITION. */
  twinPosition?: number;
  /** Models that may not have children in the recovered tree (rankAncestors uses it for the child). */
  leaves?: readonly string[];
}

export const DEFAULT_DIRECTION: DirectionWeights = { centrality: 1 };
export const DEFAULT_DIRECTION_STRENGTH = 0.1;
export const DEFAULT_RELATED_DISTANCE = 1;
export const DEFAULT_CONFIDENCE_TEMPERATURE = 0.2;

export interface TreeRecovery extends FamilyTree {
  method: string;
  alpha: number;
  layer: string;
  /** scores[c][p]: the method's score of candidate p as the parent of child c (row = child), null where not scored. */
  scores: (number | null)[][];
  /** How roots were decided: the rule and, for 'threshold', the score threshold. */
  rootRule: { rule: 'related-distance'; relatedDistance: number } | { rule: 'compatible' } | { rule: 'threshold'; threshold: number };
  /** One generation step: the median link length inside families. */
  scale: number;
  /** Combined direction evidence per ordered pair, direction[p][c] in [-1, 1] (positive: p looks older). */
  direction: number[][];
  directionWeights: DirectionWeights;
  incompatible: PairScores['incompatible'];
  /** Models left out of the tree (NaN or infinite values). */
  excluded: PairScores['excluded'];
}

function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Symmetric distances from scores and self-scores; NaN where a pair was not scored. */
export function pairDistances(pairs: PairScores): Float64Array {
  const { n, score } = pairs;
  const out = new Float64Array(n * n).fill(Number.NaN);
  for (let a = 0; a < n; a++) {
    out[a * n + a] = 0;
    for (let b = a + 1; b < n; b++) {
      const sym = (score[a * n + b] + score[b * n + a]) / 2;
      const self = (score[a * n + a] + score[b * n + b]) / 2;
      const d = Math.max(0, self - sym);
      if (Number.isFinite(d)) out[a * n + b] = out[b * n + a] = d;
    }
  }
  return out;
}

/**
 * Distances that add up along fine-tuning steps, for twins.ts: 1 - cos of the weights (for small
 * steps, half the squared angle): the distance of the cos methods themselves; for other weight
 * methods, each pair's own cosine (from its inner products when that is all there is). Feature methods have none (their distances do not add
 * up along steps): undefined.
 */
function additiveDistances(pairs: PairScores, distance: Float64Array): Float64Array | undefined {
  const { n, dot, cosine } = pairs;
  if (!dot && !cosine) return undefined;
  if (pairs.method.endsWith('-cos')) return distance;
  const out = new Float64Array(n * n);
  for (let a = 0; a < n; a++) {
    for (let b = 0; b < n; b++) {
      const norms = dot ? Math.sqrt(dot[a * n + a] * dot[b * n + b]) : Number.NaN;
      const cos = cosine ? cosine[a * n + b] : norms > 0 && dot ? dot[a * n + b] / norms : Number.NaN;
      out[a * n + b] = a === b ? 0 : Number.isFinite(cos) ? Math.max(0, 1 - cos) : Number.NaN;
    }
  }
  return out;
}

export function buildFamilyTree(pairs: PairScores, options: BuildTreeOptions = {}): TreeRecovery {
  const { n, score } = pairs;
  const ids = pairs.models.map((m) => m.id);
  const distance = pairDistances(pairs);
  const threshold = options.rootThreshold ?? 'auto';
  const relatedDistance = options.relatedDistance ?? DEFAULT_RELATED_DISTANCE;
  let family: Int32Array;
  let rootWeight: ((v: number) => number) | undefined;
  if (typeof threshold === 'number') {
    // A model whose self-score is missing (non-finite weights) takes the typical one.
    const selves = ids.map((_, v) => score[v * n + v]).filter(Number.isFinite);
    const typical = selves.length ? median(selves) : 0;
    const self = (v: number) => (Number.isFinite(score[v * n + v]) ? score[v * n + v] : typical);
    rootWeight = (v) => threshold - self(v);
    const cut = median(ids.map((_, v) => self(v) - threshold));
    family = families(n, minimumSpanningLinks(n, distance), cut);
  } else {
    const cut = threshold === 'auto' ? relatedDistance : Number.POSITIVE_INFINITY;
    family = families(n, minimumSpanningLinks(n, pairs.weightDistance), cut);
  }
  const sameFamily = (a: number, b: number) => family[a] === family[b];

  // One generation step: the median spanning link inside families.
  const inside = new Float64Array(n * n).fill(Number.NaN);
  for (let i = 0; i < n * n; i++) if (sameFamily(Math.floor(i / n), i % n)) inside[i] = distance[i];
  const insideLinks = minimumSpanningLinks(n, inside).map((l) => l.distance);
  let scale = median(insideLinks.length ? insideLinks : minimumSpanningLinks(n, distance).map((l) => l.distance));
  if (!(scale > 0)) scale = 1e-12;

  const directionWeights = options.direction ?? DEFAULT_DIRECTION;
  const direction = directionEvidence({ n, score, distance, family, kurtosis: pairs.kurtosis }, directionWeights);
  const strength = options.directionStrength ?? DEFAULT_DIRECTION_STRENGTH;
  const leaves = new Set(options.leaves ?? []);
  const edges: WeightedEdge[] = [];
  const weight = new Float64Array(n * n).fill(Number.NaN);
  for (let p = 0; p < n; p++) {
    if (leaves.has(ids[p])) continue;
    for (let c = 0; c < n; c++) {
      const d = distance[p * n + c];
      if (p === c || !Number.isFinite(d) || (!rootWeight && !sameFamily(p, c))) continue;
      const w = -d + strength * scale * direction[p * n + c];
      weight[p * n + c] = w;
      edges.push({ from: p, to: c, weight: w });
    }
  }
  let forestRootWeight = rootWeight;
  if (!forestRootWeight) {
    const penalty = 1 + 2 * edges.reduce((sum, e) => sum + Math.abs(e.weight), 0);
    forestRootWeight = () => -penalty;
  }
  const forest = maxSpanningForest(n, edges, { rootWeight: forestRootWeight });
  const additive = additiveDistances(pairs, distance);
  const additiveOf = (a: number, b: number) => (additive ? additive[a * n + b] : Number.NaN);
  const twinPosition = options.twinPosition ?? TWIN_BRANCH_POSITION;
  const parent = [...forest.parent];
  const moved = new Map<number, number>();
  if (additive && options.separateTwins !== false) {
    const allowed = (p: number, c: number) => Number.isFinite(weight[p * n + c]);
    rerootTwinRoots(parent, additiveOf, allowed, twinPosition);
    for (const m of separateTwins(parent, additiveOf, allowed, twinPosition)) moved.set(m.child, m.position);
  }
  const roots = parent.flatMap((p, v) => (p < 0 ? [v] : []));

  const treeEdges = edgesOf(
    { ids, score, weight, parent, rootWeight, additive: additive ? additiveOf : undefined, twinPosition, moved },
    (options.confidenceTemperature ?? DEFAULT_CONFIDENCE_TEMPERATURE) * scale,
  );
  const grid = (m: Float64Array, keepDiagonal: boolean, rowIsChild: boolean): (number | null)[][] =>
    ids.map((_, r) =>
      ids.map((_, k) => {
        const v = rowIsChild ? m[k * n + r] : m[r * n + k];
        return (r === k && !keepDiagonal) || !Number.isFinite(v) ? null : v;
      }),
    );
  return {
    nodes: pairs.models.map((m) => ({ id: m.id, file: m.file })),
    edges: treeEdges,
    roots: roots.map((r) => ids[r]),
    method: pairs.method,
    alpha: pairs.alpha,
    layer: pairs.layer,
    scores: grid(score, false, true),
    rootRule:
      typeof threshold === 'number'
        ? { rule: 'threshold', threshold }
        : threshold === 'auto'
          ? { rule: 'related-distance', relatedDistance }
          : { rule: 'compatible' },
    scale,
    direction: grid(direction, false, false).map((row) => row.map((v) => v ?? 0)),
    directionWeights,
    incompatible: pairs.incompatible,
    excluded: pairs.excluded,
  };
}
