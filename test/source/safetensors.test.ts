import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openModelSource } from '../../src/source/index.js';
import { FormatError } from '../../src/formats/errors.js';
import { writeSafetensors } from '../../src/formats/safetensors.js';
import { DTYPES, fromFloat32, shapeSize, type DType, type Tensor, type Weights } from '../../src/tensor.js';
import { expectSameAsWholeRead } from './expect-source.js';

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(join(tmpdir(), 'source-safetensors-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

/** Varied values, negative ones included (they wrap for uint8 and become true for bool, as torch does). */
function sample(dtype: DType, shape: number[], seed: number): Tensor {
  const values = Float32Array.from({ length: shapeSize(shape) }, (_, i) => ((i * 7 + seed * 3) % 11) - 5 + 0.375 * i);
  return fromFloat32(dtype, shape, values);
}

const SHAPES = [[5, 3], [4], [], [0, 3], [2, 3, 4]];

function everyDtype(seed: number): Weights {
  const weights: Weights = new Map();
  DTYPES.forEach((dtype, d) => {
    SHAPES.forEach((shape, s) => weights.set(`layer${seed}.${dtype}.${s}`, sample(dtype, shape, seed + d + s)));
  });
  return weights;
}

/** A safetensors file from literal header JSON and data bytes, no writer involved. */
function rawFile(header: object, data: Uint8Array): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

describe('safetensors model source', () => {
  it('lists and reads every dtype and shape as reading the file whole does', async () => {
    const path = join(dir, 'every.safetensors');
    await writeSafetensors(path, everyDtype(1), { format: 'pt', note: 'hello' });
    const source = await openModelSource(path);
    try {
      expect([source.path, source.file, source.format]).toEqual([path, path, 'safetensors']);
      expect(source.config).toBeUndefined();
      await expectSameAsWholeRead(source, path);
    } finally {
      await source.close();
    }
  });

  it('reads the small integer dtypes exactly', async () => {
    // I8 [-128, -1, 0, 127]; I16 [-32768, 32767]; U16 [65535, 1]; U32 [4294967295, 7], little-endian.
    const data = Uint8Array.from([0x80, 0xff, 0x00, 0x7f, 0x00, 0x80, 0xff, 0x7f, 0xff, 0xff, 0x01, 0x00, 0xff, 0xff, 0xff, 0xff, 0x07, 0x00, 0x00, 0x00]);
    const path = join(dir, 'ints.safetensors');
    await fs.writeFile(
      path,
      rawFile(
        {
          i8: { dtype: 'I8', shape: [4], data_offsets: [0, 4] },
          i16: { dtype: 'I16', shape: [2], data_offsets: [4, 8] },
          u16: { dtype: 'U16', shape: [2, 1], data_offsets: [8, 12] },
          u32: { dtype: 'U32', shape: [2], data_offsets: [12, 20] },
        },
        data,
      ),
    );
    const source = await openModelSource(path);
    try {
      expect(source.tensors.map((t) => t.dtype)).toEqual(['int8', 'int16', 'uint16', 'uint32']);
      expect([...(await source.readFloat32('i8'))]).toEqual([-128, -1, 0, 127]);
      expect([...(await source.readFloat32('i16'))]).toEqual([-32768, 32767]);
      expect([...(await source.readRows('u16', 1, 1))]).toEqual([1]);
      expect([...(await source.readFloat32('u32'))]).toEqual([4294967296, 7]); // 2^32 - 1 rounds to 2^32 in float32
      await expectSameAsWholeRead(source, path);
    } finally {
      await source.close();
    }
  });

  it('opens a sharded checkpoint by its index, in weight_map order', async () => {
    const folder = join(dir, 'sharded');
    await fs.mkdir(folder);
    const first = everyDtype(2);
    const second = everyDtype(3);
    await writeSafetensors(join(folder, 'model-00001-of-00002.safetensors'), first, { format: 'pt' });
    await writeSafetensors(join(folder, 'model-00002-of-00002.safetensors'), second, { format: 'pt' });
    // Interleaved, so weight_map order differs from shard order.
    const names = [...second.keys(), ...first.keys()].sort();
    const weightMap = Object.fromEntries(names.map((n) => [n, first.has(n) ? 'model-00001-of-00002.safetensors' : './model-00002-of-00002.safetensors']));
    const index = join(folder, 'model.safetensors.index.json');
    await fs.writeFile(index, JSON.stringify({ metadata: { total_size: 1234 }, weight_map: weightMap }));
    for (const path of [index, folder]) {
      const source = await openModelSource(path);
      try {
        expect([source.path, source.file, source.format]).toEqual([path, index, 'safetensors-sharded']);
        expect(source.tensors.map((t) => t.name)).toEqual(names);
        await expectSameAsWholeRead(source, index);
      } finally {
        await source.close();
      }
    }
  });

  it('refuses a shard index whose shard is outside its folder, naming the index', async () => {
    const folder = join(dir, 'escaping');
    await fs.mkdir(folder);
    await writeSafetensors(join(dir, 'outside.safetensors'), everyDtype(4));
    const index = join(folder, 'model.safetensors.index.json');
    await fs.writeFile(index, JSON.stringify({ weight_map: { 'layer4.float32.0': '../outside.safetensors' } }));
    await expect(openModelSource(folder)).rejects.toThrow(
      new FormatError(index, 'shard "../outside.safetensors" for tensor "layer4.float32.0" is not a file inside the index\'s folder'),
    );
  });

  it('names the file for an unknown tensor, and refuses rows outside the tensor', async () => {
    const path = join(dir, 'small.safetensors');
    await writeSafetensors(path, new Map([['w', sample('float32', [3, 2], 1)]]));
    const source = await openModelSource(path);
    try {
      await expect(source.readFloat32('nope')).rejects.toThrow(new FormatError(path, 'no tensor named "nope"'));
      await expect(source.readRows('w', 2, 2)).rejects.toThrow(RangeError);
      await expect(source.readRows('w', -1, 1)).rejects.toThrow(`${path}: rows [-1, -1+1) are outside tensor "w", which has 3 rows`);
    } finally {
      await source.close();
    }
    await expect(source.readRows('w', 0, 1)).rejects.toThrow(new FormatError(path, 'file is already closed'));
  });
});
