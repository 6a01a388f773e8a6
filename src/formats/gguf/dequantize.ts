/**
 * One entry point that turns whole blocks of any supported ggml type into float32 values, and
 * refuses the rest (IQ types and everything else we do not implement) by naming them.
 */
import { FormatError } from '../errors.js';
import { halfToFloatBits, u16At } from './half.js';
import { dequantizeQ4_0, dequantizeQ4_1, dequantizeQ5_0, dequantizeQ5_1, dequantizeQ8_0 } from './dequantize-legacy.js';
import { dequantizeQ2_K, dequantizeQ3_K, dequantizeQ4_K, dequantizeQ5_K, dequantizeQ6_K, dequantizeQ8_K } from './dequantize-kquants.js';
import { isSupportedGgmlType, unsupportedReason, type GgmlType, type SupportedGgmlType } from './types.js';

type Dequantizer = (src: Uint8Array, dst: Float32Array, blocks: number) => void;

function copyF32(src: Uint8Array, dst: Float32Array, count: number): void {
  new Uint8Array(dst.buffer, dst.byteOffset, count * 4).set(src.subarray(0, count * 4));
}

/** Bit patterns, not values, so NaN payloads survive as llama.cpp's conversion keeps them. */
function convertF16(src: Uint8Array, dst: Float32Array, count: number): void {
  const table = halfToFloatBits();
  const out = new Uint32Array(dst.buffer, dst.byteOffset, count);
  for (let i = 0; i < count; i++) out[i] = table[u16At(src, 2 * i)];
}

/** bfloat16 is the top half of a float32. */
function convertBF16(src: Uint8Array, dst: Float32Array, count: number): void {
  const out = new Uint32Array(dst.buffer, dst.byteOffset, count);
  for (let i = 0; i < count; i++) out[i] = u16At(src, 2 * i) << 16;
}

const DEQUANTIZERS: Record<SupportedGgmlType, Dequantizer> = {
  F32: copyF32,
  F16: convertF16,
  BF16: convertBF16,
  Q4_0: dequantizeQ4_0,
  Q4_1: dequantizeQ4_1,
  Q5_0: dequantizeQ5_0,
  Q5_1: dequantizeQ5_1,
  Q8_0: dequantizeQ8_0,
  Q2_K: dequantizeQ2_K,
  Q3_K: dequantizeQ3_K,
  Q4_K: dequantizeQ4_K,
  Q5_K: dequantizeQ5_K,
  Q6_K: dequantizeQ6_K,
  Q8_K: dequantizeQ8_K,
};

/** Where the bytes came from, for error messages. */
export interface DequantizeSource {
  file: string;
  tensor: string;
}

/**
 * Dequantises `src`, a whole number of `type` blocks, into `dst` (blockSize floats per block).
 * Throws a FormatError naming the file, tensor and type for a type we cannot dequantise.
 */
export function dequantize(type: GgmlType, src: Uint8Array, dst: Float32Array, where: DequantizeSource): void {
  if (!isSupportedGgmlType(type.name)) throw new FormatError(where.file, `tensor "${where.tensor}": ${unsupportedReason(type.name)}`);
  const blocks = src.byteLength / type.typeSize;
  if (!Number.isInteger(blocks) || dst.length !== blocks * type.blockSize) {
    throw new Error(`dequantize ${type.name}: ${src.byteLength} bytes do not make the ${dst.length} values asked for`);
  }
  DEQUANTIZERS[type.name](src, dst, blocks);
}
