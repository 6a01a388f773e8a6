/**
 * How a child was made from one candidate parent, from their streamed comparison. The relation
 * names what changed the function, decided in this order:
 *
 *   permuted     unrelated as stored, related after aligning the child's hidden units to the
 *                candidate's (align/): a function-preserving unit permutation, maybe fine-tuned after.
 *   independent  the models are not comparable (architectures differ) or their matrices are about
 *                as far apart as two independent trainings: mean symmetric relative distance at
 *                least RELATED_DISTANCE (independent trainings measure about sqrt 2, fine-tunes
 *                well under 1).
 *   converted /  the whole difference is within twice the rounding noise of the two sides' stored
 *   quantized    types (rounding.ts): `quantized` when the child is stored in a llama.cpp block
 *                type, `converted` otherwise (dtype, format, sharding, GGUF F16). A child
 *                fine-tuned and then converted differs by more than rounding: it is a fine-tune.
 *   pruned       at least MIN_PRUNED_SHARE of the compared weights were set to exactly zero and the
 *                rest are unchanged up to rounding.
 *   lora         only matrices changed (no norm or bias beyond rounding), and each changed matrix's
 *                delta has an effective rank of at most a quarter of its smaller side (low-rank.ts:
 *                the rank that explains the delta up to 0.1% of its energy). At most
 *                MAX_RANK_CHECKS changed matrices are examined, spread over the model.
 *   finetune     any other related child.
 *
 * `merge` needs several candidates and is decided by explain.ts.
 */
import type { ModelSource } from '../../source/types.js';
import { relativeWeightDistanceOf } from '../weights/scores.js';
import { comparisonProblem } from '../weights/scores.js';
import type { RelationJson } from '../weights/json.js';
import type { ModelComparison, TensorDistance } from '../weights/types.js';
import { DEFAULT_TOLERANCE, deltaSpectrum } from './low-rank.js';
import { compareAligned } from '../align/index.js';
import { isQuantizedType, roundingNoise } from './rounding.js';

export const RELATIONS = ['finetune', 'lora', 'quantized', 'converted', 'pruned', 'permuted', 'merge', 'independent'] as const;
export type Relation = (typeof RELATIONS)[number];

/** Mean symmetric relative distance of matrices at or above which two models are unrelated (as `tree` decides families). */
export const RELATED_DISTANCE = 1;
/** Share of newly zero weights from which a child counts as pruned. */
export const MIN_PRUNED_SHARE = 0.1;
/** A difference within this many times the rounding noise is rounding. */
export const NOISE_MULTIPLE = 2;
/** Sketch size for ranks: LoRA ranks up to about 60 are seen (common adapters use 4 to 64). */
export const RANK_SKETCH = 64;
/** Changed matrices whose rank is computed at most (each costs two passes over the pair). */
export const MAX_RANK_CHECKS = 16;

export interface TensorRank {
  a_name: string;
  b_name: string;
  rank: number | null;
}

export interface PairRelation {
  relation: Exclude<Relation, 'merge'>;
  /** One sentence: the evidence that decided. */
  reason: string;
  /** lora: the largest effective rank of the changed matrices. */
  rank?: number;
  /** lora: the changed modules (the last name part before `.weight`, e.g. q_proj). */
  targetModules?: string[];
  /** lora (and a rejected lora): the ranks computed, per tensor. */
  ranks?: TensorRank[];
  /** pruned: the share of compared weights set to zero. */
  zeroShare?: number;
}

/** The largest rounding noise of the types one side stores its compared tensors in. */
export function storageNoise(c: ModelComparison, source: ModelSource, side: 'a' | 'b'): number {
  const dtypes = new Map(source.tensors.map((t) => [t.name, t.dtype]));
  let noise = 0;
  for (const t of c.tensors) noise = Math.max(noise, roundingNoise(dtypes.get(side === 'a' ? t.aName : t.bName) ?? ''));
  return noise;
}

function isChildQuantized(c: ModelComparison, child: ModelSource): boolean {
  const dtypes = new Map(child.tensors.map((t) => [t.name, t.dtype]));
  return c.tensors.some((t) => isQuantizedType(dtypes.get(t.bName) ?? ''));
}

function pruning(c: ModelComparison): { share: number; keptDistance: number } {
  let zeroed = 0;
  let elements = 0;
  let dd = 0;
  let aa = 0;
  for (const { sums, elements: n } of c.tensors) {
    zeroed += sums.zeroed;
    elements += n;
    dd += sums.dd - sums.zeroedEnergy;
    aa += sums.aa - sums.zeroedEnergy;
  }
  return { share: elements === 0 ? 0 : zeroed / elements, keptDistance: aa > 0 ? Math.sqrt(Math.max(0, dd) / aa) : 0 };
}

function changed(t: TensorDistance, noise: number): boolean {
  return t.relL2 === null || t.relL2 > NOISE_MULTIPLE * noise;
}

/** `model.layers.0.self_attn.q_proj.weight` -> `q_proj`. */
function moduleOf(name: string): string {
  const parts = name.split('.');
  return parts.length >= 2 ? parts[parts.length - 2] : name;
}

/** Evenly spread picks of at most `max` items. */
function spread<T>(items: readonly T[], max: number): T[] {
  if (items.length <= max) return [...items];
  return Array.from({ length: max }, (_, i) => items[Math.floor((i * items.length) / max)]);
}

async function loraRelation(a: ModelSource, b: ModelSource, c: ModelComparison, noise: number): Promise<PairRelation | undefined> {
  const moved = c.tensors.map((t, i) => ({ t, pair: c.pairs[i] })).filter(({ t }) => changed(t, noise));
  if (moved.length === 0 || moved.some(({ t }) => t.rank < 2)) return undefined;
  const ranks: TensorRank[] = [];
  for (const { t, pair } of spread(moved, MAX_RANK_CHECKS)) {
    if (pair.transform.kind === 'transpose') return undefined;
    // Rounding of the stored types puts a noise floor under the delta's spectrum (bf16: 2^-8 of W):
    // ranks are read above it, never under 0.1% of the delta's energy.
    const floor = (NOISE_MULTIPLE * noise * Math.sqrt(t.sums.aa)) / Math.sqrt(t.sums.dd);
    const spectrum = await deltaSpectrum(a, b, pair, { sketch: RANK_SKETCH, tolerance: Math.max(DEFAULT_TOLERANCE, floor) });
    ranks.push({ a_name: t.aName, b_name: t.bName, rank: spectrum.effectiveRank });
    const limit = Math.min(spectrum.rows, spectrum.cols) / 4;
    if (spectrum.effectiveRank === null || spectrum.effectiveRank > limit) return undefined;
  }
  const rank = Math.max(...ranks.map((r) => r.rank ?? 0));
  const targetModules = [...new Set(moved.map(({ t }) => moduleOf(t.bName)))];
  const reason = `only ${moved.length} of ${c.tensors.length} tensors changed, all matrices with a low-rank delta (rank <= ${rank})`;
  return { relation: 'lora', reason, rank, targetModules, ranks };
}

/** Whether the whole difference of a comparison is rounding of the two sides' types (total noise `noise`). */
export function isRoundingOnly(c: ModelComparison, noise: number): boolean {
  return c.tensors.length > 0 && (c.distance ?? Number.POSITIVE_INFINITY) <= NOISE_MULTIPLE * noise;
}

/** The JSON form (`compare --json`, snake_case keys). */
export function relationJson(r: PairRelation): RelationJson {
  return {
    relation: r.relation,
    reason: r.reason,
    ...(r.rank !== undefined ? { rank: r.rank } : {}),
    ...(r.targetModules ? { target_modules: r.targetModules } : {}),
    ...(r.zeroShare !== undefined ? { zero_share: r.zeroShare } : {}),
    ...(r.ranks ? { ranks: r.ranks } : {}),
  };
}

function unrelated(spread: number): PairRelation {
  return { relation: 'independent', reason: `matrices as far apart as independent trainings (relative distance ${spread.toFixed(3)} >= ${RELATED_DISTANCE})` };
}

/**
 * A child unrelated as stored but related once its hidden units are put in the candidate's order
 * (align/: MLP units, attention heads, conv channels): the same function under other unit
 * indices, then possibly trained further.
 */
async function permutedRelation(a: ModelSource, b: ModelSource): Promise<PairRelation | undefined> {
  const { comparison, groups } = await compareAligned(a, b);
  const spread = relativeWeightDistanceOf(comparison);
  if (!(spread < RELATED_DISTANCE)) return undefined;
  const moved = groups.reduce((s, g) => s + g.moved, 0);
  const units = groups.reduce((s, g) => s + g.units, 0);
  return {
    relation: 'permuted',
    reason: `unrelated as stored, related once ${moved} of ${units} hidden units are put back in order (aligned relative distance ${spread.toFixed(3)})`,
  };
}

/** The relation of child b to candidate parent a, from their comparison (a second pass over changed matrices for lora). */
export async function pairRelation(a: ModelSource, b: ModelSource, c: ModelComparison): Promise<PairRelation> {
  const problem = comparisonProblem(c);
  if (problem !== undefined) return { relation: 'independent', reason: problem };
  const spread = relativeWeightDistanceOf(c);
  if (!(spread < RELATED_DISTANCE)) return (await permutedRelation(a, b)) ?? unrelated(spread);
  const noise = storageNoise(c, a, 'a') + storageNoise(c, b, 'b');
  const distance = c.distance ?? Number.POSITIVE_INFINITY;
  if (isRoundingOnly(c, noise)) {
    const quantized = isChildQuantized(c, b);
    const what = quantized ? 'quantisation' : 'dtype or format conversion';
    return {
      relation: quantized ? 'quantized' : 'converted',
      reason: `distance ${distance.toPrecision(3)} is within the rounding of a ${what} (${(NOISE_MULTIPLE * noise).toPrecision(3)})`,
    };
  }
  const pruned = pruning(c);
  if (pruned.share >= MIN_PRUNED_SHARE && pruned.keptDistance <= NOISE_MULTIPLE * noise) {
    return { relation: 'pruned', reason: `${(100 * pruned.share).toFixed(1)}% of the weights set to zero, the rest unchanged`, zeroShare: pruned.share };
  }
  const lora = await loraRelation(a, b, c, noise);
  if (lora) return lora;
  return { relation: 'finetune', reason: `related (relative distance ${spread.toFixed(3)}), changed beyond rounding, neither pruned nor low-rank` };
}
