/**
 * How far storing weights in a type moves them: the expected relative RMS error ||x' - x|| / ||x||
 * of rounding typical (roughly Gaussian) trained weights to the type. A difference between two
 * models no larger than a small multiple of their types' noise is a conversion or a quantisation,
 * not training.
 *
 * Floats round to nearest with p significand bits: relative error at most 2^-p per element, so
 * 2^-p bounds the ratio (float16 p = 11, bfloat16 p = 8, float8 e4m3 p = 4, e5m2 p = 3).
 * Block quantisation (llama.cpp) spreads L levels over a block's range: the step is about
 * 2 max|x| / (L - 1), rounding errors are uniform within +- step / 2 (RMS step / sqrt 12), and the
 * largest of 32 Gaussian values is about 2.07 sigma, so the ratio is about 2 * 2.07 / ((L - 1) sqrt 12).
 * Checked on the Llama fixtures (bench-free, lm-family test): Q8_0 measured 0.0040 against 0.0047
 * here, Q4_0 0.064 against 0.080, F16 0.00017 against 0.00049.
 */

/** Quantisation levels per ggml block type (symmetric types count both signs). */
const GGML_LEVELS: Readonly<Record<string, number>> = {
  Q8_0: 255,
  Q8_K: 255,
  Q6_K: 64,
  Q5_0: 32,
  Q5_1: 32,
  Q5_K: 32,
  Q4_0: 16,
  Q4_1: 16,
  Q4_K: 16,
  Q3_K: 8,
  Q2_K: 4,
};

const BLOCK_MAX_OVER_SIGMA = 2.07;

const FLOAT_NOISE: Readonly<Record<string, number>> = {
  float64: 0,
  F64: 0,
  float32: 2 ** -24,
  F32: 2 ** -24,
  float16: 2 ** -11,
  F16: 2 ** -11,
  bfloat16: 2 ** -8,
  BF16: 2 ** -8,
  float8_e4m3fn: 2 ** -4,
  F8_E4M3: 2 ** -4,
  float8_e5m2: 2 ** -3,
  F8_E5M2: 2 ** -3,
};

/** The ggml block types that quantise (as opposed to the plain float types GGUF also stores). */
export function isQuantizedType(dtype: string): boolean {
  return GGML_LEVELS[dtype] !== undefined;
}

/** Expected relative RMS rounding error of storing weights as `dtype`; 0 for unknown types (integers are not weights). */
export function roundingNoise(dtype: string): number {
  const levels = GGML_LEVELS[dtype];
  if (levels !== undefined) return (2 * BLOCK_MAX_OVER_SIGMA) / ((levels - 1) * Math.sqrt(12));
  return FLOAT_NOISE[dtype] ?? 0;
}
