import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { parseNpy } from '../src/formats/npy.js';
import {
  bfloat16BitsToNumber,
  float16BitsToNumber,
  fromFloat32,
  numberToBfloat16Bits,
  numberToFloat16Bits,
  shapeSize,
  tensorFromBytes,
  toFloat32,
  makeTensor,
} from '../src/tensor.js';

const halves = (name: string) => parseNpy(readFileSync(`fixtures/halves/${name}.npy`));

function sameFloat(a: number, b: number): boolean {
  return Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));
}

describe('half-precision conversion (references written by numpy and torch)', () => {
  it('decodes every float16 pattern exactly as numpy does', () => {
    const ref = halves('float16_to_float32').data as Float32Array;
    const bits = new Uint16Array(65536).map((_, i) => i);
    const ours = toFloat32(makeTensor('float16', [65536], bits));
    let bad = 0;
    for (let i = 0; i < 65536; i++) if (!sameFloat(ours[i], ref[i]) || !sameFloat(float16BitsToNumber(i), ref[i])) bad++;
    expect(bad).toBe(0);
  });

  it('decodes every bfloat16 pattern exactly as torch does', () => {
    const ref = halves('bfloat16_to_float32').data as Float32Array;
    const bits = new Uint16Array(65536).map((_, i) => i);
    const ours = toFloat32(makeTensor('bfloat16', [65536], bits));
    let bad = 0;
    for (let i = 0; i < 65536; i++) if (!sameFloat(ours[i], ref[i]) || !sameFloat(bfloat16BitsToNumber(i), ref[i])) bad++;
    expect(bad).toBe(0);
  });

  it('rounds float32 to float16 and bfloat16 like numpy and torch (round half to even)', () => {
    const inputs = halves('round_inputs').data as Float32Array;
    const f16 = halves('round_float16_bits').data as Int32Array;
    const bf16 = halves('round_bfloat16_bits').data as Int32Array;
    const badF16: number[] = [];
    const badBf16: number[] = [];
    inputs.forEach((x, i) => {
      if (numberToFloat16Bits(x) !== f16[i]) badF16.push(x);
      if (numberToBfloat16Bits(x) !== bf16[i]) badBf16.push(x);
    });
    expect(badF16).toEqual([]);
    expect(badBf16).toEqual([]);
    const t = fromFloat32('float16', [inputs.length], inputs);
    expect(Array.from(t.data as Uint16Array)).toEqual(Array.from(f16));
  });
});

describe('tensor basics', () => {
  it('counts elements and rejects bad shapes', () => {
    expect(shapeSize([])).toBe(1);
    expect(shapeSize([2, 0, 3])).toBe(0);
    expect(() => shapeSize([2, -1])).toThrow(/invalid dimension/);
    expect(() => shapeSize([1.5])).toThrow(/invalid dimension/);
  });

  it('builds typed views from unaligned bytes by copying', () => {
    const raw = new Uint8Array(9);
    new DataView(raw.buffer).setFloat32(1, 1.5, true);
    new DataView(raw.buffer).setFloat32(5, -2, true);
    const t = tensorFromBytes('float32', [2], raw.subarray(1), false);
    expect(Array.from(t.data as Float32Array)).toEqual([1.5, -2]);
    expect(() => tensorFromBytes('float32', [3], raw.subarray(1))).toThrow(/needs 12 bytes/);
  });
});
