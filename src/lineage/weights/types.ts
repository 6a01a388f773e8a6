/** Types of a weight-space comparison of two models: which tensors pair up, and how far apart they are. */
import type { SourceTensor } from '../../source/types.js';
import type { NamingFamily } from './naming.js';

/**
 * What to do to one tensor of a pair before comparing it element by element with the other.
 *   identity:       same layout.
 *   transpose:      b is a's transpose (GPT-2 Conv1D [in, out] against nn.Linear / llama.cpp [out, in]; ONNX MatMul).
 *   shared-rows:    an embedding or LM head whose vocabulary (or context) was extended: rows [0, rows) of both.
 *   rope-unpermute: the `side` tensor has its rotary Q/K rows in llama.cpp's interleaved order
 *                   (convert_hf_to_gguf `permute` with `heads` heads) and is put back in Hugging Face order.
 */
export type TensorTransform =
  | { kind: 'identity' }
  | { kind: 'transpose' }
  | { kind: 'shared-rows'; rows: number }
  | { kind: 'rope-unpermute'; side: 'a' | 'b'; heads: number };

/** How a pair was found: the same name, the same llama.cpp name, position among generated ONNX names, or a tied LM head. */
export type PairedBy = 'name' | 'canonical' | 'position' | 'tied-head';

export interface TensorPair {
  a: SourceTensor;
  b: SourceTensor;
  by: PairedBy;
  transform: TensorTransform;
  /** Elements compared (fewer than a's for shared rows). */
  elements: number;
}

/** A tensor left out of the comparison, with why; a one-sided entry has the other name null. */
export interface ExcludedTensor {
  aName: string | null;
  bName: string | null;
  reason: string;
}

export interface UnmatchedTensor {
  name: string;
  side: 'a' | 'b';
}

export interface TensorMatching {
  pairs: TensorPair[];
  excluded: ExcludedTensor[];
  unmatched: UnmatchedTensor[];
  /** Trained parameters of each model: buffers, integer tensors and tied LM-head copies not counted. */
  totalParameters: { a: number; b: number };
  families: { a: NamingFamily | null; b: NamingFamily | null };
}

export interface TensorDistance {
  aName: string;
  bName: string;
  /** ||b - a|| / ||a||; null when ||a|| = 0 or a value is not finite. */
  relL2: number | null;
  /** cos(a, b); null when either norm is 0 or a value is not finite. */
  cos: number | null;
  elements: number;
  /** Dimensions of a's tensor: scores that weigh matrices apart from biases and norms read it. */
  rank: number;
  transform: TensorTransform['kind'];
  /** The float64 sums every distance and score of the pair is computed from. */
  sums: PairSums;
}

/**
 * Sums over a compared pair's elements: a^2, b^2, a*b and (b - a)^2, and what pruning leaves:
 * how many elements b set to exactly zero where a was not, and a^2 summed where b is zero (so the
 * kept elements' distance is dd - zeroedEnergy against aa - zeroedEnergy), and how many elements are
 * equal.
 */
export interface PairSums {
  aa: number;
  bb: number;
  ab: number;
  dd: number;
  zeroed: number;
  zeroedEnergy: number;
  /** Elements equal in both (b - a exactly 0): a sparse update (TIES, DARE, LoRA) leaves most of them. */
  equal: number;
}

export interface ModelComparison {
  /** The candidate parent. */
  a: string;
  /** The model asked about: is it derived from a? */
  b: string;
  matchedTensors: number;
  /** Elements compared, counting each tensor of a once. */
  matchedParameters: number;
  totalParameters: { a: number; b: number };
  /** Share of each model's parameters that was compared. */
  coverage: { a: number; b: number };
  /** Under half the parameters of either model compared: the distance describes a part of the models only. */
  lowCoverage: boolean;
  unmatched: UnmatchedTensor[];
  excluded: ExcludedTensor[];
  tensors: TensorDistance[];
  /** sqrt(sum ||b - a||^2) / sqrt(sum ||a||^2) over the compared tensors; null when undefined. */
  distance: number | null;
  seconds: number;
  /** The matched pairs, in `tensors` order: what a second look at the data (a delta's rank) reads again. */
  pairs: TensorPair[];
}
