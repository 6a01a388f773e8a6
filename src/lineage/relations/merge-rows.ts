/**
 * What a merge fit reads: the child tensors that pair with a tensor of every candidate, and row
 * blocks of the child and of all its candidates' tensors read in step. Every block comes back in
 * the child's row order, so that products between two candidates (not only between a candidate
 * and the child) meet the same parameter element by element, whatever each file's rotary layout.
 */
import { recycleFloat32 } from '../../source/block-buffers.js';
import type { ModelSource, SourceTensor } from '../../source/types.js';
import { readBlock, rowCount, rowLength, rowsPerBlock } from '../weights/blocks.js';
import { matchTensors } from '../weights/match.js';
import { unpermuteRopeRows } from '../weights/sums.js';
import type { TensorMatching, TensorPair, TensorTransform } from '../weights/types.js';

export interface MergeSide {
  id: string;
  source: ModelSource;
}

/** One candidate's tensor for a child tensor, and how its rows map onto the child's. */
export interface CandidateTensor {
  source: ModelSource;
  tensor: SourceTensor;
  transform: TensorTransform;
}

export interface MergeTensorPlan {
  child: SourceTensor;
  /** One per candidate, in the candidates' order. */
  candidates: CandidateTensor[];
  /** Rows fitted: fewer than the child's where a vocabulary was extended (shared rows). */
  rows: number;
  cols: number;
  /** Blocks hold a multiple of this many rows, so that rotary heads are never split. */
  group: number;
}

export interface MergePlan {
  tensors: MergeTensorPlan[];
  skipped: { tensor: string; reason: string }[];
}

/** One candidate's pairs and exclusions, keyed by the child's tensor name. */
interface CandidateIndex {
  id: string;
  source: ModelSource;
  pairs: Map<string, TensorPair>;
  excluded: Map<string, string>;
}

function indexMatching(side: MergeSide, matching: TensorMatching): CandidateIndex {
  const pairs = new Map<string, TensorPair>();
  // A tied head can pair a second time with the child's embedding: the pair by name or llama.cpp name wins.
  for (const pair of matching.pairs) {
    const seen = pairs.get(pair.b.name);
    if (seen === undefined || seen.by === 'tied-head') pairs.set(pair.b.name, pair);
  }
  const excluded = new Map<string, string>();
  for (const e of matching.excluded) if (e.bName !== null && !excluded.has(e.bName)) excluded.set(e.bName, e.reason);
  return { id: side.id, source: side.source, pairs, excluded };
}

function gcd(x: number, y: number): number {
  return y === 0 ? x : gcd(y, x % y);
}

/** The plan for one child tensor, or why it is left out. */
function planTensor(child: SourceTensor, indexes: readonly CandidateIndex[]): MergeTensorPlan | string {
  const cols = rowLength(child.shape);
  let rows = rowCount(child.shape);
  let group = 1;
  const candidates: CandidateTensor[] = [];
  for (const index of indexes) {
    const pair = index.pairs.get(child.name);
    if (pair === undefined) return `candidate ${index.id}: ${index.excluded.get(child.name) ?? 'no tensor pairs with it'}`;
    const { transform } = pair;
    if (transform.kind === 'transpose') return `candidate ${index.id} stores it transposed (${pair.a.name}); transposed pairs are not fitted`;
    const candidateRows = rowCount(pair.a.shape);
    const sharedRows = transform.kind === 'shared-rows' ? transform.rows : candidateRows;
    if (rowLength(pair.a.shape) !== cols || (transform.kind !== 'shared-rows' && candidateRows !== rowCount(child.shape))) {
      return `shapes differ: [${pair.a.shape.join(', ')}] in candidate ${index.id} vs [${child.shape.join(', ')}]`;
    }
    rows = Math.min(rows, sharedRows);
    if (transform.kind === 'rope-unpermute') {
      const heads = candidateRows / transform.heads;
      group = (group * heads) / gcd(group, heads);
    }
    candidates.push({ source: index.source, tensor: pair.a, transform });
  }
  return { child, candidates, rows, cols, group };
}

/** Which child tensors are fitted (paired in every candidate, rows kept apart) and why each other one is not. */
export async function planMerge(child: ModelSource, candidates: readonly MergeSide[], blockBytes: number): Promise<MergePlan> {
  const indexes: CandidateIndex[] = [];
  for (const side of candidates) indexes.push(indexMatching(side, await matchTensors(side.source, child, { blockBytes })));
  const plan: MergePlan = { tensors: [], skipped: [] };
  for (const tensor of child.tensors) {
    const planned = planTensor(tensor, indexes);
    if (typeof planned === 'string') plan.skipped.push({ tensor: tensor.name, reason: planned });
    else plan.tensors.push(planned);
  }
  return plan;
}

/** Hugging Face row order to llama.cpp's (convert_hf_to_gguf `permute`): the inverse of unpermuteRopeRows. */
export function permuteRopeRows(block: Float32Array, rows: number, cols: number, groupRows: number): Float32Array {
  const out = new Float32Array(block.length);
  const half = groupRows / 2;
  for (let g = 0; g < rows; g += groupRows) {
    for (let k = 0; k < 2; k++) {
      for (let j = 0; j < half; j++) {
        const from = (g + k * half + j) * cols;
        out.set(block.subarray(from, from + cols), (g + 2 * j + k) * cols);
      }
    }
  }
  return out;
}

/** A candidate's block put in the child's row order: its own llama.cpp rows unpermuted, or Hugging Face rows permuted as the child's are. */
function inChildOrder(block: Float32Array, side: CandidateTensor, count: number, cols: number): Float32Array {
  const { transform } = side;
  if (transform.kind !== 'rope-unpermute') return block;
  const groupRows = rowCount(side.tensor.shape) / transform.heads;
  const out = transform.side === 'a' ? unpermuteRopeRows(block, count, cols, groupRows) : permuteRopeRows(block, count, cols, groupRows);
  recycleFloat32(block);
  return out;
}

/** Rows [start, start + count) of the child and of every candidate, in the child's row order. */
export interface MergeRows {
  child: Float32Array;
  candidates: Float32Array[];
  start: number;
  count: number;
}

/** Row blocks of the child tensor and its K candidates read in step: K + 1 blocks in memory at a time. The caller may recycle them. */
export async function* mergeRowBlocks(child: ModelSource, plan: MergeTensorPlan, blockBytes: number): AsyncGenerator<MergeRows> {
  const { rows, cols } = plan;
  const step = rowsPerBlock(blockBytes, cols, plan.group);
  for (let start = 0; start < rows; start += step) {
    const count = Math.min(step, rows - start);
    const [own, ...others] = await Promise.all([
      readBlock(child, plan.child, start, count),
      ...plan.candidates.map((side) => readBlock(side.source, side.tensor, start, count)),
    ]);
    yield { child: own, candidates: others.map((block, k) => inChildOrder(block, plan.candidates[k], count, cols)), start, count };
  }
}
