/**
 * Dequantisers for ggml's legacy 32-element block quantisations, written from the block layouts
 * in llama.cpp's ggml-common.h and following the arithmetic of ggml-quants.c `dequantize_row_*`
 * in float32, one rounding per C operation, so results match the reference bit for bit.
 *
 * A product of a small integer and a float32 is exact in a double, so storing it into the
 * Float32Array rounds once, as C does; where the product feeds a further operation it is
 * rounded explicitly with Math.fround first. (With f16 scales and quants of at most 8 bits those
 * products are exact in float32 anyway, so the results do not depend on whether the reference's
 * compiler fuses a multiply-add; the same holds for the k-quants' scale products.)
 */
import { QK_LEGACY } from './types.js';
import { halfToFloatValues, u16At, u32At } from './half.js';

const HALF = 16;

/** block_q4_0: f16 d, 16 bytes of nibbles; x = (q - 8) * d. Low nibbles are the first 16 elements. */
export function dequantizeQ4_0(src: Uint8Array, dst: Float32Array, blocks: number): void {
  const half = halfToFloatValues();
  for (let b = 0; b < blocks; b++) {
    const o = b * 18;
    const y = b * QK_LEGACY;
    const d = half[u16At(src, o)];
    for (let j = 0; j < HALF; j++) {
      const q = src[o + 2 + j];
      dst[y + j] = ((q & 0x0f) - 8) * d;
      dst[y + j + HALF] = ((q >> 4) - 8) * d;
    }
  }
}

/** block_q4_1: f16 d, f16 m, 16 bytes of nibbles; x = q * d + m. */
export function dequantizeQ4_1(src: Uint8Array, dst: Float32Array, blocks: number): void {
  const half = halfToFloatValues();
  for (let b = 0; b < blocks; b++) {
    const o = b * 20;
    const y = b * QK_LEGACY;
    const d = half[u16At(src, o)];
    const m = half[u16At(src, o + 2)];
    for (let j = 0; j < HALF; j++) {
      const q = src[o + 4 + j];
      dst[y + j] = Math.fround((q & 0x0f) * d) + m;
      dst[y + j + HALF] = Math.fround((q >> 4) * d) + m;
    }
  }
}

/**
 * The fifth bits of a q5 block: bit j of the little-endian u32 `qh` belongs to element j.
 * Returns 0x10 when it is set.
 */
function highBit(qh: number, element: number): number {
  return (qh >>> element) & 1 ? 0x10 : 0;
}

/** block_q5_0: f16 d, u32 of fifth bits, 16 bytes of nibbles; x = (q - 16) * d. */
export function dequantizeQ5_0(src: Uint8Array, dst: Float32Array, blocks: number): void {
  const half = halfToFloatValues();
  for (let b = 0; b < blocks; b++) {
    const o = b * 22;
    const y = b * QK_LEGACY;
    const d = half[u16At(src, o)];
    const qh = u32At(src, o + 2);
    for (let j = 0; j < HALF; j++) {
      const q = src[o + 6 + j];
      dst[y + j] = (((q & 0x0f) | highBit(qh, j)) - 16) * d;
      dst[y + j + HALF] = (((q >> 4) | highBit(qh, j + HALF)) - 16) * d;
    }
  }
}

/** block_q5_1: f16 d, f16 m, u32 of fifth bits, 16 bytes of nibbles; x = q * d + m. */
export function dequantizeQ5_1(src: Uint8Array, dst: Float32Array, blocks: number): void {
  const half = halfToFloatValues();
  for (let b = 0; b < blocks; b++) {
    const o = b * 24;
    const y = b * QK_LEGACY;
    const d = half[u16At(src, o)];
    const m = half[u16At(src, o + 2)];
    const qh = u32At(src, o + 4);
    for (let j = 0; j < HALF; j++) {
      const q = src[o + 8 + j];
      dst[y + j] = Math.fround(((q & 0x0f) | highBit(qh, j)) * d) + m;
      dst[y + j + HALF] = Math.fround(((q >> 4) | highBit(qh, j + HALF)) * d) + m;
    }
  }
}

/** block_q8_0: f16 d, 32 signed bytes; x = q * d. */
export function dequantizeQ8_0(src: Uint8Array, dst: Float32Array, blocks: number): void {
  const half = halfToFloatValues();
  const signed = new Int8Array(src.buffer, src.byteOffset, src.byteLength);
  for (let b = 0; b < blocks; b++) {
    const o = b * 34;
    const y = b * QK_LEGACY;
    const d = half[u16At(src, o)];
    for (let j = 0; j < QK_LEGACY; j++) dst[y + j] = signed[o + 2 + j] * d;
  }
}
