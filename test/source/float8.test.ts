/**
 * float8 decoding, checked for all 256 codes of each format against formulas written here from
 * the format definitions (not from src/formats/float8.ts), against anchor values from the OCP 8-bit
 * floating point specification typed by hand, and, for E5M2 (the top byte of a binary16), against
 * the project's binary16 decoder. Every check reads a real safetensors file through a model source.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openModelSource } from '../../src/source/index.js';
import { listWholeFile, readWholeFile } from '../formats/whole-file.js';
import { float16BitsToNumber } from '../../src/tensor.js';

/** E4M3FN: bias 7, subnormals m/8 * 2^-6, no infinities, S.1111.111 the only NaN. */
function e4m3fn(code: number): number {
  const negative = code >= 128;
  const e = (code >> 3) & 0b1111;
  const m = code & 0b111;
  if (e === 15 && m === 7) return Number.NaN;
  const magnitude = e === 0 ? (m / 8) * 2 ** -6 : (1 + m / 8) * 2 ** (e - 7);
  return negative ? -magnitude : magnitude;
}

/** E5M2: bias 15, subnormals m/4 * 2^-14, exponent 31 is infinity (m = 0) or NaN. */
function e5m2(code: number): number {
  const negative = code >= 128;
  const e = (code >> 2) & 0b11111;
  const m = code & 0b11;
  if (e === 31) return m === 0 ? (negative ? -Infinity : Infinity) : Number.NaN;
  const magnitude = e === 0 ? (m / 4) * 2 ** -14 : (1 + m / 4) * 2 ** (e - 15);
  return negative ? -magnitude : magnitude;
}

/** Same value, telling -0 from 0 and any NaN equal to any NaN. */
function same(a: number, b: number): boolean {
  return Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));
}

const ALL_CODES = Uint8Array.from({ length: 256 }, (_, i) => i);

/** A safetensors file holding every code of both formats as [16, 16] tensors, built byte by byte. */
function float8File(): Uint8Array {
  const header = JSON.stringify({
    e4m3: { dtype: 'F8_E4M3', shape: [16, 16], data_offsets: [0, 256] },
    e5m2: { dtype: 'F8_E5M2', shape: [16, 16], data_offsets: [256, 512] },
  });
  const json = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + json.length + 512);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(ALL_CODES, 8 + json.length);
  out.set(ALL_CODES, 8 + json.length + 256);
  return out;
}

let dir: string;
let path: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(join(tmpdir(), 'source-float8-'));
  path = join(dir, 'float8.safetensors');
  await fs.writeFile(path, float8File());
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

async function decoded(name: string): Promise<Float32Array> {
  const source = await openModelSource(path);
  try {
    return await source.readFloat32(name);
  } finally {
    await source.close();
  }
}

function mismatches(values: Float32Array, formula: (code: number) => number): string[] {
  const bad: string[] = [];
  for (let code = 0; code < 256; code++) {
    // The formula's value rounded to float32, as the decoder must give it (it is exact anyway).
    if (!same(values[code], Math.fround(formula(code)))) bad.push(`0x${code.toString(16)}: got ${values[code]}, expected ${formula(code)}`);
  }
  return bad;
}

describe('float8 in safetensors, every code', () => {
  it('lists the tensors with their float8 dtypes', async () => {
    const listing = await listWholeFile(path);
    expect(listing.tensors.map((t) => [t.name, t.dtype, t.shape, t.bytes])).toEqual([
      ['e4m3', 'float8_e4m3fn', [16, 16], 256],
      ['e5m2', 'float8_e5m2', [16, 16], 256],
    ]);
  });

  it('decodes all 256 E4M3FN codes exactly', async () => {
    expect(mismatches(await decoded('e4m3'), e4m3fn)).toEqual([]);
  });

  it('decodes all 256 E5M2 codes exactly', async () => {
    expect(mismatches(await decoded('e5m2'), e5m2)).toEqual([]);
  });

  it('E5M2 is the top byte of a binary16', async () => {
    expect(mismatches(await decoded('e5m2'), (code) => float16BitsToNumber(code << 8))).toEqual([]);
  });

  it('gives the specification anchor values', async () => {
    const e4 = await decoded('e4m3');
    const e5 = await decoded('e5m2');
    const anchors: [Float32Array, number, number][] = [
      [e4, 0x00, 0],
      [e4, 0x80, -0],
      [e4, 0x38, 1],
      [e4, 0x30, 0.5],
      [e4, 0x7e, 448], // largest normal
      [e4, 0xfe, -448],
      [e4, 0x08, 2 ** -6], // smallest normal
      [e4, 0x07, 0.875 * 2 ** -6], // largest subnormal
      [e4, 0x01, 2 ** -9], // smallest subnormal
      [e4, 0x78, 256], // exponent 15 is a normal exponent in E4M3FN
      [e4, 0x7f, Number.NaN],
      [e4, 0xff, Number.NaN],
      [e5, 0x3c, 1],
      [e5, 0x7b, 57344], // largest normal
      [e5, 0x04, 2 ** -14], // smallest normal
      [e5, 0x01, 2 ** -16], // smallest subnormal
      [e5, 0x7c, Infinity],
      [e5, 0xfc, -Infinity],
      [e5, 0x7d, Number.NaN],
      [e5, 0xff, Number.NaN],
    ];
    const wrong = anchors.filter(([values, code, expected]) => !same(values[code], expected)).map(([values, code, expected]) => [code, values[code], expected]);
    expect(wrong).toEqual([]);
  });

  it('row ranges decode the same codes as the whole tensor', async () => {
    const source = await openModelSource(path);
    try {
      // Rows 3 and 4 of the [16, 16] view hold codes 48 to 79.
      const rows = await source.readRows('e4m3', 3, 2);
      expect(rows.length).toBe(32);
      const wrong = [...rows].map((value, i) => [48 + i, value]).filter(([code, value]) => !same(value, e4m3fn(code)));
      expect(wrong).toEqual([]);
    } finally {
      await source.close();
    }
  });

  it('reading the file whole widens float8 to float32 with the same values', async () => {
    const { weights } = await readWholeFile(path);
    const e4 = weights.get('e4m3');
    expect(e4?.dtype).toBe('float32');
    expect(mismatches(e4?.data as Float32Array, e4m3fn)).toEqual([]);
  });
});
