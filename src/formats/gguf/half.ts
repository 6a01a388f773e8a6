/**
 * Reading the 16- and 32-bit floats stored inside GGUF data. Conversions go through bit patterns
 * so that every value, NaN payloads included, comes out exactly as llama.cpp's
 * GGML_FP16_TO_FP32 / GGML_BF16_TO_FP32 produce it.
 */

let halfBits: Uint32Array | undefined;
let halfValues: Float32Array | undefined;

/** float32 bit pattern for every binary16 bit pattern, built on first use (256 KiB). */
function buildHalfTable(): Uint32Array {
  const bits = new Uint32Array(1 << 16);
  const values = new Float32Array(bits.buffer);
  for (let h = 0; h < 1 << 16; h++) {
    const sign = (h & 0x8000) << 16;
    const exp = (h >> 10) & 0x1f;
    const mant = h & 0x3ff;
    if (exp === 0x1f) bits[h] = sign | 0x7f800000 | (mant << 13);
    else if (exp !== 0) bits[h] = sign | ((exp + 112) << 23) | (mant << 13);
    // Zero and subnormals: mant * 2^-24 is a normal (or zero) float32, exact in a double.
    else values[h] = (sign ? -1 : 1) * mant * 2 ** -24;
  }
  return bits;
}

/** float32 bit patterns indexed by binary16 bit pattern. */
export function halfToFloatBits(): Uint32Array {
  halfBits ??= buildHalfTable();
  return halfBits;
}

/** float32 values indexed by binary16 bit pattern. */
export function halfToFloatValues(): Float32Array {
  halfValues ??= new Float32Array(halfToFloatBits().buffer);
  return halfValues;
}

/** The little-endian u16 at `offset` (block fields need not be 2-byte aligned). */
export function u16At(bytes: Uint8Array, offset: number): number {
  return bytes[offset] | (bytes[offset + 1] << 8);
}

/** The little-endian u32 at `offset`, as an unsigned number. */
export function u32At(bytes: Uint8Array, offset: number): number {
  return (bytes[offset] | (bytes[offset + 1] << 8) | (bytes[offset + 2] << 16) | (bytes[offset + 3] << 24)) >>> 0;
}

const scratchBits = new Uint32Array(1);
const scratchFloat = new Float32Array(scratchBits.buffer);

/** The little-endian float32 at `offset`. */
export function f32At(bytes: Uint8Array, offset: number): number {
  scratchBits[0] = u32At(bytes, offset);
  return scratchFloat[0];
}
