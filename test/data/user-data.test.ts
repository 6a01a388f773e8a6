import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, writeFileSync, rmSync, mkdirSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serializeNpy } from '../../src/formats/npy.js';
import { makeTensor } from '../../src/tensor.js';
import { loadNpyPair, loadUserFolder } from '../../src/data/user-data.js';
import { loadTask } from '../../src/data/load-task.js';
import { datasetSize } from '../../src/data/types.js';

let dir: string;
const N = 30;

function idx(dims: number[], data: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  out.set([0, 0, 8, dims.length]);
  const view = new DataView(out.buffer);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'userdata-'));
  const pixels = Uint8Array.from({ length: N * 16 }, (_, i) => i % 256);
  const labels = Uint8Array.from({ length: N }, (_, i) => i % 3);
  mkdirSync(join(dir, 'idx'));
  writeFileSync(join(dir, 'idx', 'train-images-idx3-ubyte.gz'), gzipSync(idx([N, 4, 4], pixels)));
  writeFileSync(join(dir, 'idx', 'train-labels-idx1-ubyte'), idx([N], labels));
  mkdirSync(join(dir, 'npy'));
  const x = makeTensor(
    'float32',
    [N, 1, 4, 4],
    Float32Array.from(pixels, (v) => v / 255),
  );
  writeFileSync(join(dir, 'npy', 'train_inputs.npy'), serializeNpy(x));
  writeFileSync(
    join(dir, 'npy', 'train_labels.npy'),
    serializeNpy(
      makeTensor(
        'int64',
        [N],
        BigInt64Array.from(labels, (v) => BigInt(v)),
      ),
    ),
  );
  writeFileSync(join(dir, 'npy', 'test_inputs.npy'), serializeNpy(makeTensor('uint8', [6, 4, 4], pixels.subarray(0, 96))));
  writeFileSync(join(dir, 'npy', 'test_labels.npy'), serializeNpy(makeTensor('int32', [6], Int32Array.from([0, 1, 2, 0, 1, 2]))));
  writeFileSync(join(dir, 'bad_labels.npy'), serializeNpy(makeTensor('float32', [N], new Float32Array(N))));
  writeFileSync(join(dir, 'neg_labels.npy'), serializeNpy(makeTensor('int32', [N], new Int32Array(N).fill(-1))));
  writeFileSync(join(dir, 'flat_inputs.npy'), serializeNpy(makeTensor('float32', [N, 16], new Float32Array(N * 16))));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('user data', () => {
  it('reads an IDX folder and splits it when it has no test pair', async () => {
    const { train, test } = await loadUserFolder('mine', join(dir, 'idx'));
    expect(train.shape).toEqual([1, 4, 4]);
    expect(datasetSize(train) + datasetSize(test)).toBe(N);
    expect(datasetSize(test)).toBe(6);
    expect(train.numClasses).toBe(3);
  });

  it('reads a .npy folder with float inputs and a uint8 test set', async () => {
    const { train, test } = await loadUserFolder('mine', join(dir, 'npy'));
    expect(datasetSize(train)).toBe(N);
    expect(datasetSize(test)).toBe(6);
    expect(train.inputs[5]).toBeCloseTo(5 / 255, 7);
    expect(test.inputs[5]).toBeCloseTo(5 / 255, 7);
    expect(Array.from(train.labels.subarray(0, 4))).toEqual([0, 1, 2, 0]);
  });

  it('names the file and the problem', async () => {
    const x = join(dir, 'npy', 'train_inputs.npy');
    await expect(loadNpyPair('m', x, join(dir, 'bad_labels.npy'))).rejects.toThrow(/bad_labels\.npy: labels must be integers/);
    await expect(loadNpyPair('m', x, join(dir, 'neg_labels.npy'))).rejects.toThrow(/neg_labels\.npy: label -1 at index 0/);
    await expect(loadNpyPair('m', join(dir, 'flat_inputs.npy'), join(dir, 'npy', 'train_labels.npy'))).rejects.toThrow(
      /flat_inputs\.npy: inputs must have shape \[N, H, W\]/,
    );
    await expect(loadNpyPair('m', x, join(dir, 'npy', 'test_labels.npy'))).rejects.toThrow(/test_labels\.npy: has 6 labels for 30 inputs/);
    await expect(loadUserFolder('m', dir)).rejects.toThrow(/no dataset found/);
  });

  it('plugs into loadTask under its own name', async () => {
    const task = await loadTask('mine:rot=90:fewshot=2:s0', { datasets: { mine: () => loadUserFolder('mine', join(dir, 'npy')) } });
    expect(datasetSize(task.train)).toBe(6);
    expect(task.id).toBe('mine:rot=90:fewshot=2:s0');
  });
});
