/**
 * The safetensors format (https://github.com/huggingface/safetensors): an 8-byte little-endian
 * header length, a JSON header {name: {dtype, shape, data_offsets}, __metadata__}, then raw bytes.
 */
export { parseSafetensors } from './safetensors/parse.js';
export { serializeSafetensors, writeSafetensors } from './safetensors/serialize.js';
export { SafetensorsFile, readSafetensorsFile } from './safetensors/file.js';
export { readShardedSafetensors, listShardedSafetensors, readShardedSafetensorsHeader } from './safetensors/sharded.js';
export { MAX_HEADER_BYTES } from './safetensors/header.js';
