/**
 * GGUF (llama.cpp's model format, v2 and v3): a header of typed metadata and tensor infos, then
 * aligned tensor data in ggml types, dequantised here to float32.
 */
export { GgufFile, readGgufFile, listGgufFile, type GgufTensorEntry } from './file.js';
export {
  parseGgufHeader,
  DEFAULT_GGUF_LIMITS,
  GGUF_MAGIC,
  MAX_HEADER_BYTES,
  MAX_TENSORS,
  MAX_METADATA_ENTRIES,
  MAX_ARRAY_LENGTH,
  MAX_HEADER_STRINGS,
  MAX_DIMS,
  type GgufHeader,
  type GgufLimits,
  type GgufTensorInfo,
} from './header.js';
export { NeedMoreBytes } from './cursor.js';
export { dequantize } from './dequantize.js';
export type { GgufValue, GgufArrayValues, GgufScalarType } from './metadata.js';
export { SUPPORTED_GGML_TYPES, ggmlTypeById, ggmlTypeByName, type GgmlType, type GgmlTypeName, type SupportedGgmlType } from './types.js';

import { GGUF_MAGIC } from './header.js';

/** True when `head` starts with the GGUF magic. */
export function isGguf(head: Uint8Array): boolean {
  return head.length >= GGUF_MAGIC.length && GGUF_MAGIC.every((b, i) => head[i] === b);
}
