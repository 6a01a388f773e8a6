/**
 * A ModelSource over tensors already in memory: lets code written against the lazy interface run
 * on weights that were built or read whole (tests, synthetic models, converted checkpoints).
 */
import { FormatError } from '../formats/errors.js';
import { type Tensor, type Weights, shapeSize, tensorByteLength, toFloat32 } from '../tensor.js';
import type { ModelSource, SourceTensor } from './types.js';

export interface MemorySourceOptions {
  /** Reported as the source's format; 'memory' unless given (say 'gguf' to stand in for a GGUF file). */
  format?: string;
  metadata?: Readonly<Record<string, string>>;
  config?: Readonly<Record<string, unknown>>;
}

/** Values of every dtype widen to float32 except bool, which is not a number to compare. */
function floatValues(path: string, name: string, tensor: Tensor): Float32Array {
  if (tensor.dtype === 'bool') throw new FormatError(path, `tensor '${name}' is bool, not numeric data`);
  return toFloat32(tensor);
}

export function memorySource(weights: Weights, path: string, options: MemorySourceOptions = {}): ModelSource {
  const tensors: SourceTensor[] = [...weights].map(([name, t]) => ({ name, dtype: t.dtype, shape: [...t.shape], bytes: tensorByteLength(t) }));
  const lookup = (name: string): Tensor => {
    const tensor = weights.get(name);
    if (tensor === undefined) throw new FormatError(path, `has no tensor named '${name}'`);
    return tensor;
  };
  return {
    path,
    file: path,
    format: options.format ?? 'memory',
    metadata: options.metadata ?? {},
    config: options.config,
    tensors,
    async readFloat32(name) {
      return floatValues(path, name, lookup(name));
    },
    async readRows(name, start, count) {
      const tensor = lookup(name);
      const rows = tensor.shape.length === 0 ? 1 : tensor.shape[0];
      if (!Number.isSafeInteger(start) || !Number.isSafeInteger(count) || start < 0 || count < 0 || start + count > rows) {
        throw new FormatError(path, `rows [${start}, ${start + count}) are outside tensor '${name}' of ${rows} rows`);
      }
      const rowLength = rows === 0 ? 0 : shapeSize(tensor.shape) / rows;
      return floatValues(path, name, tensor).slice(start * rowLength, (start + count) * rowLength);
    },
    async close() {},
  };
}
