/**
 * Dequantisers for ggml's k-quants (256-element super-blocks), written from the block layouts in
 * llama.cpp's ggml-common.h and following the float32 arithmetic of ggml-quants.c
 * `dequantize_row_q*_K`, one rounding per C operation (see dequantize-legacy.ts).
 */
import { QK_K } from './types.js';
import { f32At, halfToFloatValues, u16At } from './half.js';

/**
 * The 6-bit scale and min of sub-block j (0..7) from the 12 packed bytes of a Q4_K/Q5_K block
 * (llama.cpp's get_scale_min_k4): sub-blocks 0..3 keep theirs in the low 6 bits of bytes 0..3
 * (scales) and 4..7 (mins); sub-blocks 4..7 keep their low 4 bits in the nibbles of bytes 8..11
 * and their top 2 bits in the spare top bits of bytes 0..7.
 */
function scaleMinK4(src: Uint8Array, scales: number, j: number, out: { scale: number; min: number }): void {
  if (j < 4) {
    out.scale = src[scales + j] & 63;
    out.min = src[scales + j + 4] & 63;
  } else {
    out.scale = (src[scales + j + 4] & 0x0f) | ((src[scales + j - 4] >> 6) << 4);
    out.min = (src[scales + j + 4] >> 4) | ((src[scales + j] >> 6) << 4);
  }
}

/** block_q2_K: 16 scale bytes (low nibble scale, high nibble min), 64 bytes of 2-bit quants, f16 d, f16 dmin. */
export function dequantizeQ2_K(src: Uint8Array, dst: Float32Array, blocks: number): void {
  const half = halfToFloatValues();
  for (let b = 0; b < blocks; b++) {
    const o = b * 84;
    const d = half[u16At(src, o + 80)];
    const dmin = half[u16At(src, o + 82)];
    let y = b * QK_K;
    let is = 0;
    for (let n = 0; n < QK_K; n += 128) {
      const q = o + 16 + n / 4;
      for (let shift = 0; shift < 8; shift += 2) {
        for (let part = 0; part < 32; part += 16) {
          const sc = src[o + is++];
          const dl = Math.fround(d * (sc & 0x0f));
          const ml = Math.fround(dmin * (sc >> 4));
          for (let l = 0; l < 16; l++) dst[y++] = Math.fround(dl * ((src[q + part + l] >> shift) & 3)) - ml;
        }
      }
    }
  }
}

/**
 * The 16 signed 6-bit scales of a Q3_K block from its 12 packed bytes: scale j has its low 4 bits
 * in the low (j < 8) or high (j >= 8) nibble of byte j % 8, and its top 2 bits in byte 8 + j % 4
 * at bit 2 * floor(j / 4); the stored value is offset by 32.
 */
function q3kScales(src: Uint8Array, scales: number, out: Int8Array): void {
  for (let j = 0; j < 16; j++) {
    const low = j < 8 ? src[scales + j] & 0x0f : src[scales + j - 8] >> 4;
    const high = (src[scales + 8 + (j % 4)] >> (2 * (j >> 2))) & 3;
    out[j] = (low | (high << 4)) - 32;
  }
}

/** block_q3_K: 32 bytes of high bits, 64 bytes of 2-bit quants, 12 bytes of scales, f16 d. */
export function dequantizeQ3_K(src: Uint8Array, dst: Float32Array, blocks: number): void {
  const half = halfToFloatValues();
  const scales = new Int8Array(16);
  for (let b = 0; b < blocks; b++) {
    const o = b * 110;
    const hmask = o;
    const d = half[u16At(src, o + 108)];
    q3kScales(src, o + 96, scales);
    let y = b * QK_K;
    let is = 0;
    let m = 1;
    for (let n = 0; n < QK_K; n += 128) {
      const q = o + 32 + n / 4;
      for (let shift = 0; shift < 8; shift += 2) {
        for (let part = 0; part < 32; part += 16) {
          const dl = Math.fround(d * scales[is++]);
          for (let l = part; l < part + 16; l++) {
            // A clear high bit means the 3-bit value is the low two bits minus 4.
            const value = ((src[q + l] >> shift) & 3) - (src[hmask + l] & m ? 0 : 4);
            dst[y++] = dl * value;
          }
        }
        m <<= 1;
      }
    }
  }
}

/** block_q4_K: f16 d, f16 dmin, 12 bytes of 6-bit scales and mins, 128 bytes of nibbles. */
export function dequantizeQ4_K(src: Uint8Array, dst: Float32Array, blocks: number): void {
  const half = halfToFloatValues();
  const sm = { scale: 0, min: 0 };
  for (let b = 0; b < blocks; b++) {
    const o = b * 144;
    const d = half[u16At(src, o)];
    const dmin = half[u16At(src, o + 2)];
    let y = b * QK_K;
    for (let chunk = 0; chunk < 4; chunk++) {
      const q = o + 16 + 32 * chunk;
      scaleMinK4(src, o + 4, 2 * chunk, sm);
      const d1 = Math.fround(d * sm.scale);
      const m1 = Math.fround(dmin * sm.min);
      scaleMinK4(src, o + 4, 2 * chunk + 1, sm);
      const d2 = Math.fround(d * sm.scale);
      const m2 = Math.fround(dmin * sm.min);
      for (let l = 0; l < 32; l++) dst[y++] = Math.fround(d1 * (src[q + l] & 0x0f)) - m1;
      for (let l = 0; l < 32; l++) dst[y++] = Math.fround(d2 * (src[q + l] >> 4)) - m2;
    }
  }
}

/** block_q5_K: f16 d, f16 dmin, 12 bytes of scales and mins, 32 bytes of fifth bits, 128 bytes of nibbles. */
export function dequantizeQ5_K(src: Uint8Array, dst: Float32Array, blocks: number): void {
  const half = halfToFloatValues();
  const sm = { scale: 0, min: 0 };
  for (let b = 0; b < blocks; b++) {
    const o = b * 176;
    const d = half[u16At(src, o)];
    const dmin = half[u16At(src, o + 2)];
    const qh = o + 16;
    let y = b * QK_K;
    for (let chunk = 0; chunk < 4; chunk++) {
      const ql = o + 48 + 32 * chunk;
      const u1 = 1 << (2 * chunk);
      const u2 = 2 << (2 * chunk);
      scaleMinK4(src, o + 4, 2 * chunk, sm);
      const d1 = Math.fround(d * sm.scale);
      const m1 = Math.fround(dmin * sm.min);
      scaleMinK4(src, o + 4, 2 * chunk + 1, sm);
      const d2 = Math.fround(d * sm.scale);
      const m2 = Math.fround(dmin * sm.min);
      for (let l = 0; l < 32; l++) dst[y++] = Math.fround(d1 * ((src[ql + l] & 0x0f) + (src[qh + l] & u1 ? 16 : 0))) - m1;
      for (let l = 0; l < 32; l++) dst[y++] = Math.fround(d2 * ((src[ql + l] >> 4) + (src[qh + l] & u2 ? 16 : 0))) - m2;
    }
  }
}

/** block_q6_K: 128 bytes of low nibbles, 64 bytes of 2-bit highs, 16 signed 8-bit scales, f16 d. */
export function dequantizeQ6_K(src: Uint8Array, dst: Float32Array, blocks: number): void {
  const half = halfToFloatValues();
  const signed = new Int8Array(src.buffer, src.byteOffset, src.byteLength);
  for (let b = 0; b < blocks; b++) {
    const o = b * 210;
    const d = half[u16At(src, o + 208)];
    for (let n = 0; n < 2; n++) {
      const ql = o + 64 * n;
      const qh = o + 128 + 32 * n;
      const sc = o + 192 + 8 * n;
      const y = b * QK_K + 128 * n;
      for (let l = 0; l < 32; l++) {
        const is = l >> 4;
        const h = src[qh + l];
        const q1 = ((src[ql + l] & 0x0f) | ((h & 3) << 4)) - 32;
        const q2 = ((src[ql + l + 32] & 0x0f) | (((h >> 2) & 3) << 4)) - 32;
        const q3 = ((src[ql + l] >> 4) | (((h >> 4) & 3) << 4)) - 32;
        const q4 = ((src[ql + l + 32] >> 4) | (((h >> 6) & 3) << 4)) - 32;
        dst[y + l] = Math.fround(d * signed[sc + is]) * q1;
        dst[y + l + 32] = Math.fround(d * signed[sc + is + 2]) * q2;
        dst[y + l + 64] = Math.fround(d * signed[sc + is + 4]) * q3;
        dst[y + l + 96] = Math.fround(d * signed[sc + is + 6]) * q4;
      }
    }
  }
}

/** block_q8_K: f32 d, 256 signed bytes, 16 int16 group sums (only used by dot products). */
export function dequantizeQ8_K(src: Uint8Array, dst: Float32Array, blocks: number): void {
  const signed = new Int8Array(src.buffer, src.byteOffset, src.byteLength);
  for (let b = 0; b < blocks; b++) {
    const o = b * 292;
    const d = f32At(src, o);
    const y = b * QK_K;
    for (let j = 0; j < QK_K; j++) dst[y + j] = d * signed[o + 4 + j];
  }
}
