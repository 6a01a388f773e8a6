import { describe, it, expect } from 'vitest';
import { readFileSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseNpy, serializeNpy, readNpy, writeNpy } from '../../src/formats/npy.js';
import { makeTensor, tensorsIdentical, type Tensor } from '../../src/tensor.js';

const dir = 'fixtures/npy';
const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as Record<
  string,
  { dtype: string; shape: number[]; values: (number | string)[] }
>;
const dtypeName: Record<string, string> = { float32: 'float32', float64: 'float64', int64: 'int64' };

describe('.npy files written by numpy', () => {
  for (const [name, want] of Object.entries(expected)) {
    it(`reads ${name}.npy`, async () => {
      const t = await readNpy(join(dir, `${name}.npy`));
      expect(t.dtype).toBe(dtypeName[want.dtype]);
      expect(t.shape).toEqual(want.shape);
      const values = Array.from(t.data as ArrayLike<number | bigint>, (v) => (typeof v === 'bigint' ? v.toString() : v));
      if (want.dtype === 'float32') {
        expect(values).toEqual(want.values.map((v) => Math.fround(v as number)));
      } else {
        expect(values).toEqual(want.values);
      }
    });
  }

  it('rejects Fortran order with a clear error', () => {
    expect(() => parseNpy(readFileSync(join(dir, 'fortran.npy')), 'fortran.npy')).toThrow(/fortran\.npy: Fortran-order arrays are not supported/);
  });
});

describe('.npy round trips and hostile input', () => {
  const cases: Tensor[] = [
    makeTensor('float32', [2, 3], Float32Array.from([1, -2, 3.5, Number.NaN, Infinity, -0])),
    makeTensor('float64', [4], Float64Array.from([1e300, -1e-300, 0, 7])),
    makeTensor('int64', [2], BigInt64Array.from([-(2n ** 62n), 2n ** 62n])),
    makeTensor('float32', [], Float32Array.from([42])),
    makeTensor('float32', [0, 5], new Float32Array(0)),
  ];
  for (const t of cases) {
    it(`round-trips ${t.dtype} [${t.shape.join(',')}]`, () => {
      const bytes = serializeNpy(t);
      // The header (magic + version + length + dict) is padded to a multiple of 64 bytes.
      const headerLength = new DataView(bytes.buffer).getUint16(8, true);
      expect((10 + headerLength) % 64).toBe(0);
      expect(tensorsIdentical(parseNpy(bytes), t)).toBe(true);
    });
  }

  it('writes atomically and reads back from disk', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'npy-'));
    const t = cases[0];
    await writeNpy(join(folder, 'x.npy'), t);
    expect(readdirSync(folder)).toEqual(['x.npy']);
    expect(tensorsIdentical(await readNpy(join(folder, 'x.npy')), t)).toBe(true);
  });

  it('names the file and the problem for bad input', async () => {
    const good = serializeNpy(cases[0]);
    expect(() => parseNpy(good.subarray(0, good.length - 3), 'x.npy')).toThrow(/x\.npy: truncated \.npy data/);
    expect(() => parseNpy(new Uint8Array([1, 2, 3]), 'y.npy')).toThrow(/y\.npy: not a \.npy file/);
    const bigEndian = new Uint8Array(good);
    bigEndian.set(new TextEncoder().encode('>f4'), good.indexOf(0x3c)); // '<' of '<f4'
    expect(() => parseNpy(bigEndian, 'z.npy')).toThrow(/z\.npy: unsupported \.npy dtype '>f4'/);
    const lying = new Uint8Array(good);
    new DataView(lying.buffer).setUint16(8, 60000, true);
    expect(() => parseNpy(lying, 'w.npy')).toThrow(/w\.npy: .npy header length 60000 runs past the end/);
    await expect(readNpy('does/not/exist.npy')).rejects.toThrow(/does\/not\/exist\.npy: cannot read file \(ENOENT\)/);
  });
});
