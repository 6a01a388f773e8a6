import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promises as fs, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { openModelSource } from '../../src/source/index.js';
import { FormatError } from '../../src/formats/errors.js';
import { readWholeFile } from '../formats/whole-file.js';
import { PROTOCOL_2, intTuple, latin1, rebuildTensor, storagePid, unicode, zipArchive } from '../../src/testing/hostile/torch-bytes.js';
import { toFloat32, type Tensor } from '../../src/tensor.js';
import { expectSameAsWholeRead, expectSameFloats, expectValuesMatch } from './expect-source.js';

const FIXTURES = resolve(import.meta.dirname, '../../fixtures/formats');

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(join(tmpdir(), 'source-pytorch-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

function floats(values: readonly number[]): Uint8Array {
  return new Uint8Array(Float32Array.from(values).buffer);
}

/** A state dict {name: view of float storage '0'}, its storage record stored or deflated. */
function viewCheckpoint(storage: Uint8Array, views: Record<string, { offset: number; shape: number[]; stride: number[] }>, deflate = false): Uint8Array {
  const pid = storagePid('FloatStorage', '0', storage.length / 4);
  let items = '';
  for (const [name, { offset, shape, stride }] of Object.entries(views)) items += unicode(name) + rebuildTensor(pid, offset, intTuple(shape), intTuple(stride));
  return zipArchive([
    { name: 'archive/data.pkl', data: latin1(`${PROTOCOL_2}}(${items}u.`) },
    { name: 'archive/data/0', data: storage, deflate },
  ]);
}

async function write(name: string, bytes: Uint8Array): Promise<string> {
  const path = join(dir, name);
  await fs.writeFile(path, bytes);
  return path;
}

describe('PyTorch model source', () => {
  it('reads a torchvision resnet18 checkpoint written by torch as reading it whole does', async () => {
    const path = await write('resnet18.pt', gunzipSync(readFileSync(join(FIXTURES, 'resnet18.pt.gz'))));
    const source = await openModelSource(path);
    try {
      expect(source.format).toBe('pytorch');
      await expectSameAsWholeRead(source, path);
    } finally {
      await source.close();
    }
  });

  for (const fixture of ['mixed_dtypes.pt', 'nested_checkpoint.pt']) {
    it(`${fixture}: every dtype, transposed, shared and expanded views, nested state dicts`, async () => {
      const path = join(FIXTURES, fixture);
      const source = await openModelSource(path);
      try {
        await expectSameAsWholeRead(source, path);
      } finally {
        await source.close();
      }
    });
  }

  it('reads strided views of stored and deflated records', async () => {
    const storage = floats(Array.from({ length: 24 }, (_, i) => i * 1.5 - 3));
    const views = {
      contiguous: { offset: 2, shape: [4, 5], stride: [5, 1] },
      transposed: { offset: 1, shape: [3, 4], stride: [1, 6] },
      expanded: { offset: 3, shape: [5, 2], stride: [0, 1] },
      scalar: { offset: 23, shape: [], stride: [] },
    };
    for (const deflate of [false, true]) {
      const path = await write(`views-${deflate}.pt`, viewCheckpoint(storage, views, deflate));
      const source = await openModelSource(path);
      try {
        await expectSameAsWholeRead(source, path);
      } finally {
        await source.close();
      }
    }
  });

  it('reads only the bytes asked for from a stored record: bytes elsewhere may be damaged', async () => {
    const values = Array.from({ length: 16 }, (_, i) => i + 0.5);
    const storage = floats(values);
    const bytes = viewCheckpoint(storage, { w: { offset: 0, shape: [4, 4], stride: [4, 1] }, part: { offset: 4, shape: [2, 4], stride: [4, 1] } });
    // Damage row 3 in the stored record (its bytes appear once, after the pickle); the CRC-32 no longer matches.
    const at = Buffer.from(bytes).indexOf(Buffer.from(storage)) + 3 * 16;
    bytes[at + 3] ^= 0x40;
    const path = await write('damaged.pt', bytes);
    const source = await openModelSource(path);
    try {
      expect([...(await source.readRows('w', 0, 3))]).toEqual(values.slice(0, 12));
      // A tensor viewing part of the record is read alone too, whole or by rows.
      expect([...(await source.readFloat32('part'))]).toEqual(values.slice(4, 12));
      expect([...(await source.readRows('part', 1, 1))]).toEqual(values.slice(8, 12));
      // A tensor that is the whole record is read with it, and checked.
      await expect(source.readFloat32('w')).rejects.toThrow(`${path}: zip record archive/data/0 fails its CRC-32 check`);
      await expect(readWholeFile(path)).rejects.toThrow(`${path}: zip record archive/data/0 fails its CRC-32 check`);
    } finally {
      await source.close();
    }
  });

  it('refuses on open what reading the file whole refuses: a view past its storage', async () => {
    const path = await write('oob.pt', viewCheckpoint(floats([1, 2, 3, 4]), { w: { offset: 2, shape: [2, 2], stride: [2, 1] } }));
    const problem = "tensor 'w' (offset 2, shape [2,2], stride [2,1]) reaches past the end of its 4-element storage";
    await expect(readWholeFile(path)).rejects.toThrow(new FormatError(path, problem));
    await expect(openModelSource(path)).rejects.toThrow(new FormatError(path, problem));
  });

  it('refuses on open what reading the file whole refuses: views amplifying their storage', async () => {
    const path = await write('expand.pt', viewCheckpoint(floats([1]), { w: { offset: 0, shape: [30000, 30000], stride: [0, 0] } }));
    await expect(readWholeFile(path)).rejects.toThrow(/expand\.pt: tensor 'w' .* repeats elements of its 1-element storage/);
    await expect(openModelSource(path)).rejects.toThrow(/expand\.pt: tensor 'w' .* repeats elements of its 1-element storage/);
  });

  it('refuses a file that is not a checkpoint, naming it', async () => {
    const path = join(FIXTURES, 'legacy.pt');
    await expect(openModelSource(path)).rejects.toThrow(new FormatError(path, 'legacy (pre-1.6) PyTorch format is not supported; re-save with torch>=1.6'));
    const evil = join(FIXTURES, 'evil_os_system.pt');
    await expect(openModelSource(evil)).rejects.toThrow(/evil_os_system\.pt: refusing to load: pickle references/);
  });
});

describe('sharded PyTorch model source (pytorch_model.bin.index.json)', () => {
  async function shardedFolder(name: string): Promise<{ folder: string; shards: string[] }> {
    const folder = join(dir, name);
    await fs.mkdir(folder);
    const shards = ['pytorch_model-00001-of-00002.bin', 'pytorch_model-00002-of-00002.bin'];
    await fs.copyFile(join(FIXTURES, 'mixed_dtypes.pt'), join(folder, shards[0]));
    await fs.copyFile(join(FIXTURES, 'nested_checkpoint.pt'), join(folder, shards[1]));
    return { folder, shards };
  }

  it('reads every tensor of every shard, in weight_map order', async () => {
    const { folder, shards } = await shardedFolder('sharded');
    const wholes = await Promise.all(shards.map((shard) => readWholeFile(join(folder, shard))));
    const weightMap: Record<string, string> = {};
    // Shard 2's tensors first, so weight_map order is not file order.
    for (const name of wholes[1].weights.keys()) weightMap[name] = shards[1];
    for (const name of wholes[0].weights.keys()) weightMap[name] = shards[0];
    const index = join(folder, 'pytorch_model.bin.index.json');
    await fs.writeFile(index, JSON.stringify({ metadata: { total_size: 99 }, weight_map: weightMap }));
    for (const path of [index, folder]) {
      const source = await openModelSource(path);
      try {
        expect([source.file, source.format]).toEqual([index, 'pytorch-sharded']);
        expect(source.metadata).toMatchObject({ total_size: '99', state_dict_key: 'model' });
        expect(source.tensors.map((t) => t.dtype)).toEqual([...wholes[1].weights.values(), ...wholes[0].weights.values()].map((t) => t.dtype));
        await expectValuesMatch(source, new Map([...wholes[1].weights, ...wholes[0].weights]));
        expectSameFloats(await source.readFloat32('0.weight'), toFloat32(wholes[1].weights.get('0.weight') as Tensor), '0.weight');
      } finally {
        await source.close();
      }
    }
  });

  it('refuses an index naming a tensor its shard does not hold, naming the index', async () => {
    const { folder, shards } = await shardedFolder('lying');
    const index = join(folder, 'pytorch_model.bin.index.json');
    await fs.writeFile(index, JSON.stringify({ weight_map: { f32: shards[0], ghost: shards[1] } }));
    await expect(openModelSource(folder)).rejects.toThrow(
      new FormatError(index, `tensor "ghost" is listed in shard "${shards[1]}", which does not contain it`),
    );
  });

  it('refuses two shard names that reach one file', async () => {
    const { folder, shards } = await shardedFolder('twins');
    await fs.symlink(shards[0], join(folder, 'again.bin'));
    const index = join(folder, 'pytorch_model.bin.index.json');
    await fs.writeFile(index, JSON.stringify({ weight_map: { f32: shards[0], f16: 'again.bin' } }));
    await expect(openModelSource(folder)).rejects.toThrow(
      new FormatError(index, `shards "${shards[0]}" and "again.bin" are the same file; each shard must be a file of its own`),
    );
  });
});
