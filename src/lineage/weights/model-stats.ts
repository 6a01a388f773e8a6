/**
 * One streamed pass over a model's parameters: the first tensor holding a value that is not
 * finite (such a model would score NaN against everyone) and the weight kurtosis of each matrix
 * (direction evidence for trees). Tensors are read by row blocks, so memory stays at one block.
 */
import type { ModelSource, SourceTensor } from '../../source/types.js';
import { recycleFloat32 } from '../../source/block-buffers.js';
import { DEFAULT_BLOCK_BYTES, readBlock, rowCount, rowLength, rowsPerBlock } from './blocks.js';
import { elementCount, nonParameterReason } from './parameters.js';

/** Tensors with fewer values give kurtosis estimates too noisy to compare. */
const MIN_KURTOSIS_VALUES = 64;

export interface ModelStats {
  /** The first parameter holding NaN or an infinity; undefined when every value is finite. */
  nonFinite?: string;
  /** Kurtosis (m4 / m2^2 about the mean) per parameter of rank >= 2. */
  kurtosis: Map<string, number>;
}

interface Moments {
  n: number;
  s1: number;
  s2: number;
  s3: number;
  s4: number;
  finite: boolean;
}

function accumulate(m: Moments, values: Float32Array): void {
  let { s1, s2, s3, s4 } = m;
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    const x2 = x * x;
    s1 += x;
    s2 += x2;
    s3 += x2 * x;
    s4 += x2 * x2;
  }
  Object.assign(m, { n: m.n + values.length, s1, s2, s3, s4 });
  if (!Number.isFinite(s4)) m.finite = values.every((x) => Number.isFinite(x)) && m.finite;
}

/** Central moments from raw ones, in float64: weights are small and centred, so cancellation stays small. */
export function kurtosisOfMoments(m: Pick<Moments, 'n' | 's1' | 's2' | 's3' | 's4'>): number {
  const mu = m.s1 / m.n;
  const e2 = m.s2 / m.n;
  const m2 = e2 - mu * mu;
  const m4 = m.s4 / m.n - 4 * mu * (m.s3 / m.n) + 6 * mu * mu * e2 - 3 * mu ** 4;
  return m2 > 0 ? m4 / (m2 * m2) : Number.NaN;
}

async function tensorMoments(source: ModelSource, tensor: SourceTensor, blockBytes: number): Promise<Moments> {
  const m: Moments = { n: 0, s1: 0, s2: 0, s3: 0, s4: 0, finite: true };
  const { shape } = tensor;
  const rows = rowCount(shape);
  const step = rowsPerBlock(blockBytes, rowLength(shape));
  for (let start = 0; start < rows; start += step) {
    const block = await readBlock(source, tensor, start, Math.min(step, rows - start));
    accumulate(m, block);
    recycleFloat32(block);
    // Once a value is not finite the moments say nothing more: stop reading this tensor.
    if (!m.finite) break;
  }
  return m;
}

export async function modelStats(source: ModelSource, blockBytes = DEFAULT_BLOCK_BYTES): Promise<ModelStats> {
  const kurtosis = new Map<string, number>();
  for (const t of source.tensors) {
    if (nonParameterReason(t) !== undefined || elementCount(t.shape) === 0) continue;
    const m = await tensorMoments(source, t, blockBytes);
    if (!m.finite) return { nonFinite: t.name, kurtosis };
    if (t.shape.length < 2 || m.n < MIN_KURTOSIS_VALUES) continue;
    const k = kurtosisOfMoments(m);
    if (Number.isFinite(k)) kurtosis.set(t.name, k);
  }
  return { kurtosis };
}
