/**
 * The two 8-bit float formats of "FP8 Formats for Deep Learning" (Micikevicius et al., 2022), as
 * PyTorch's float8_e4m3fn and float8_e5m2 store them. Every code is exactly a float32, so each
 * format decodes through a 256-entry table.
 *
 * E4M3FN: 1 sign, 4 exponent (bias 7), 3 mantissa bits; no infinities, and only S.1111.111 is NaN,
 * which buys the range up to 448. E5M2: 1 sign, 5 exponent (bias 15), 2 mantissa bits; IEEE-like,
 * with infinities and NaNs in the all-ones exponent.
 */

export type Float8Format = 'e4m3fn' | 'e5m2';

interface Layout {
  exponentBits: number;
  mantissaBits: number;
  /** True when an all-ones exponent means infinity/NaN (IEEE); false when only S.1111.111 is NaN. */
  ieeeSpecials: boolean;
}

const LAYOUTS: Record<Float8Format, Layout> = {
  e4m3fn: { exponentBits: 4, mantissaBits: 3, ieeeSpecials: false },
  e5m2: { exponentBits: 5, mantissaBits: 2, ieeeSpecials: true },
};

function decodeCode(code: number, { exponentBits, mantissaBits, ieeeSpecials }: Layout): number {
  const sign = code & 0x80 ? -1 : 1;
  const exponentMax = (1 << exponentBits) - 1;
  const mantissaMax = (1 << mantissaBits) - 1;
  const exponent = (code >> mantissaBits) & exponentMax;
  const mantissa = code & mantissaMax;
  const bias = (1 << (exponentBits - 1)) - 1;
  if (ieeeSpecials && exponent === exponentMax) return mantissa === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN;
  if (!ieeeSpecials && exponent === exponentMax && mantissa === mantissaMax) return Number.NaN;
  // Subnormals have no implicit leading 1 and the exponent of the smallest normal.
  if (exponent === 0) return sign * mantissa * 2 ** (1 - bias - mantissaBits);
  return sign * (1 + mantissa / (1 << mantissaBits)) * 2 ** (exponent - bias);
}

const tables = new Map<Float8Format, Float32Array>();

/** The float32 value of every code of `format`, indexed by code. */
export function float8Table(format: Float8Format): Float32Array {
  let table = tables.get(format);
  if (table === undefined) {
    table = new Float32Array(256);
    for (let code = 0; code < 256; code++) table[code] = decodeCode(code, LAYOUTS[format]);
    tables.set(format, table);
  }
  return table;
}

/** Decodes float8 codes to float32, exactly. */
export function float8ToFloat32(codes: Uint8Array, format: Float8Format): Float32Array {
  const table = float8Table(format);
  const out = new Float32Array(codes.length);
  for (let i = 0; i < codes.length; i++) out[i] = table[codes[i]];
  return out;
}
