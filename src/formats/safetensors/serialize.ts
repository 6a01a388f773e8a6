import { writeFileAtomic } from '../../base/fsutil.js';
import { tensorByteLength, tensorBytes, type Tensor, type Weights } from '../../tensor.js';
import { dtypeToSafetensors } from './dtypes.js';
import { METADATA_KEY, PREFIX_BYTES } from './header.js';

/** A safetensors file as pieces: the 8-byte prefix plus padded JSON header, then each tensor's bytes. */
interface EncodedSafetensors {
  head: Uint8Array;
  data: Uint8Array[];
  byteLength: number;
}

function checkMetadata(metadata: Record<string, string>): void {
  for (const [key, value] of Object.entries(metadata)) {
    if (typeof value !== 'string') {
      throw new TypeError(`safetensors metadata value for "${key}" must be a string, got ${typeof value}`);
    }
  }
}

function tensorEntryJson(name: string, t: Tensor, begin: number, end: number): string {
  const dtype = dtypeToSafetensors(t.dtype);
  if (dtype === undefined) throw new TypeError(`tensor "${name}" has dtype ${String(t.dtype)}, which safetensors cannot store`);
  return `${JSON.stringify(name)}:${JSON.stringify({ dtype, shape: t.shape, data_offsets: [begin, end] })}`;
}

function encode(weights: Weights, metadata?: Record<string, string>): EncodedSafetensors {
  // The JSON is assembled by hand because a JS object would move integer-like tensor names first.
  const fields: string[] = [];
  if (metadata !== undefined) {
    checkMetadata(metadata);
    fields.push(`${JSON.stringify(METADATA_KEY)}:${JSON.stringify(metadata)}`);
  }
  const data: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of weights) {
    if (name === METADATA_KEY) throw new TypeError(`a tensor cannot be named ${METADATA_KEY}`);
    const bytes = tensorBytes(t);
    const expected = tensorByteLength(t);
    if (bytes.byteLength !== expected) {
      throw new TypeError(`tensor "${name}" of shape [${t.shape.join(',')}] has ${bytes.byteLength} data bytes, expected ${expected}`);
    }
    fields.push(tensorEntryJson(name, t, offset, offset + expected));
    data.push(bytes);
    offset += expected;
  }
  const json = new TextEncoder().encode(`{${fields.join(',')}}`);
  // Spaces pad the header so the data area starts 8-byte aligned, as the reference writer does.
  const headerLength = Math.ceil(json.byteLength / 8) * 8;
  const head = new Uint8Array(PREFIX_BYTES + headerLength).fill(0x20, PREFIX_BYTES);
  new DataView(head.buffer).setBigUint64(0, BigInt(headerLength), true);
  head.set(json, PREFIX_BYTES);
  return { head, data, byteLength: head.byteLength + offset };
}

/**
 * The safetensors bytes for `weights`: tensors in insertion order, data contiguous in that order,
 * header padded with spaces to a multiple of 8. `__metadata__` is written only when given.
 */
export function serializeSafetensors(weights: Weights, metadata?: Record<string, string>): Uint8Array {
  const { head, data, byteLength } = encode(weights, metadata);
  const out = new Uint8Array(byteLength);
  out.set(head, 0);
  let at = head.byteLength;
  for (const chunk of data) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}

/** Writes a safetensors file atomically, streaming each tensor's bytes instead of building one buffer. */
export async function writeSafetensors(path: string, weights: Weights, metadata?: Record<string, string>): Promise<void> {
  const { head, data } = encode(weights, metadata);
  await writeFileAtomic(path, [head, ...data]);
}
