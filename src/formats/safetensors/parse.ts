import type { Weights } from '../../tensor.js';
import { parseHeaderJson, parseHeaderLength, PREFIX_BYTES } from './header.js';
import { storedTensor } from './widen.js';

/**
 * Parses a whole safetensors file held in memory. Tensors come back in file order and are views
 * into `bytes` wherever their offset is aligned for the dtype (copied otherwise), so no data is
 * duplicated: copy `bytes` first if you mean to modify it afterwards.
 */
export function parseSafetensors(bytes: Uint8Array, file = '<buffer>'): { metadata: Record<string, string>; weights: Weights } {
  const headerLength = parseHeaderLength(bytes, bytes.byteLength, file);
  const dataStart = PREFIX_BYTES + headerLength;
  const { metadata, entries } = parseHeaderJson(bytes.subarray(PREFIX_BYTES, dataStart), bytes.byteLength - dataStart, file);
  const weights: Weights = new Map();
  for (const e of entries) {
    weights.set(e.name, storedTensor(e.dtype, e.shape, bytes.subarray(dataStart + e.begin, dataStart + e.end), false));
  }
  return { metadata, weights };
}
