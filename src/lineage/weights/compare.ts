/**
 * Weight-space distance between two models, streamed: one matched tensor at a time, each read by
 * row blocks (blocks.ts), so memory stays at a few blocks whatever the models' size. Sums are kept
 * in float64; the distance of b from a is relative to a's norm, a being the candidate parent.
 */
import type { ModelSource } from '../../source/types.js';
import { DEFAULT_BLOCK_BYTES } from './blocks.js';
import { matchTensors } from './match.js';
import { type Sums, emptySums, pairSums } from './sums.js';
import type { ModelComparison, TensorDistance, TensorMatching, TensorPair } from './types.js';

export interface CompareOptions {
  /** Bytes of float32 read from each model at a time (default 4 MiB). */
  blockBytes?: number;
  /** Called after each compared tensor, for progress reports. */
  onTensor?: (done: number, total: number) => void;
}

/** Coverage under this share of either model's parameters makes the distance a partial answer. */
export const LOW_COVERAGE = 0.5;

function finiteOrNull(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

/** ||b - a|| / ||a||. */
export function relativeL2(s: Sums): number | null {
  return finiteOrNull(Math.sqrt(s.dd) / Math.sqrt(s.aa));
}

/** a.b / (||a|| ||b||), clamped to [-1, 1] against rounding. */
export function cosine(s: Sums): number | null {
  const c = finiteOrNull(s.ab / (Math.sqrt(s.aa) * Math.sqrt(s.bb)));
  return c === null ? null : Math.max(-1, Math.min(1, c));
}

/** Elements compared, each tensor of one side counted once (a tied embedding may meet two tensors). */
function matchedElements(pairs: readonly TensorPair[], side: 'a' | 'b'): number {
  const seen = new Set<string>();
  let n = 0;
  for (const p of pairs) {
    const name = p[side].name;
    if (seen.has(name)) continue;
    seen.add(name);
    n += p.elements;
  }
  return n;
}

function share(part: number, whole: number): number {
  return whole === 0 ? 0 : part / whole;
}

/** How far b is from a (a: the candidate parent), tensor by tensor and overall. */
/** The per-tensor entry of a pair from its sums. */
export function distanceOf(pair: TensorPair, s: Sums): TensorDistance {
  return {
    aName: pair.a.name,
    bName: pair.b.name,
    relL2: relativeL2(s),
    cos: cosine(s),
    elements: pair.elements,
    rank: pair.a.shape.length,
    transform: pair.transform.kind,
    sums: s,
  };
}

/** A comparison from a matching and its per-tensor entries (in the matching's pair order): coverage and the overall distance. */
export function comparisonOf(a: ModelSource, b: ModelSource, matching: TensorMatching, tensors: TensorDistance[], started: number): ModelComparison {
  const total = emptySums();
  for (const t of tensors) {
    total.aa += t.sums.aa;
    total.dd += t.sums.dd;
  }
  const matchedA = matchedElements(matching.pairs, 'a');
  const coverage = { a: share(matchedA, matching.totalParameters.a), b: share(matchedElements(matching.pairs, 'b'), matching.totalParameters.b) };
  return {
    a: a.path,
    b: b.path,
    matchedTensors: matching.pairs.length,
    matchedParameters: matchedA,
    totalParameters: matching.totalParameters,
    coverage,
    lowCoverage: Math.min(coverage.a, coverage.b) < LOW_COVERAGE,
    unmatched: matching.unmatched,
    excluded: matching.excluded,
    tensors,
    distance: relativeL2(total),
    seconds: (performance.now() - started) / 1000,
    pairs: matching.pairs,
  };
}

export async function compareModels(a: ModelSource, b: ModelSource, options: CompareOptions = {}): Promise<ModelComparison> {
  const started = performance.now();
  const blockBytes = options.blockBytes ?? DEFAULT_BLOCK_BYTES;
  const matching = await matchTensors(a, b, { blockBytes });
  const tensors: TensorDistance[] = [];
  for (const pair of matching.pairs) {
    tensors.push(distanceOf(pair, await pairSums(a, b, pair, blockBytes)));
    options.onTensor?.(tensors.length, matching.pairs.length);
  }
  return comparisonOf(a, b, matching, tensors, started);
}
