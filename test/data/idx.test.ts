import { describe, it, expect } from 'vitest';
import { gzipSync } from 'node:zlib';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseIdx, readIdx } from '../../src/data/idx.js';
import { datasetFromIdx } from '../../src/data/idx-dataset.js';
import { loadFashionMnist } from '../../src/data/fashion-mnist.js';
import { InputError } from '../../src/base/errors.js';

/** IDX bytes written by hand: 0, 0, type, rank, big-endian dims, data. */
function idx(type: number, dims: number[], data: number[]): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  out.set([0, 0, type, dims.length]);
  dims.forEach((d, i) => out.set([(d >>> 24) & 255, (d >>> 16) & 255, (d >>> 8) & 255, d & 255], 4 + 4 * i));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

const images = idx(0x08, [2, 2, 3], [0, 51, 102, 153, 204, 255, 255, 0, 0, 0, 0, 1]);
const labels = idx(0x08, [2], [7, 3]);

describe('parseIdx', () => {
  it('reads a hand-built image file', () => {
    // magic 0x00000803 (uint8, 3 dims), dims 2 x 2 x 3 as big-endian uint32
    expect([...images.subarray(0, 8)]).toEqual([0, 0, 8, 3, 0, 0, 0, 2]);
    const a = parseIdx(images, 'img.idx');
    expect(a.dims).toEqual([2, 2, 3]);
    expect([...a.data]).toEqual([0, 51, 102, 153, 204, 255, 255, 0, 0, 0, 0, 1]);
  });

  it('reads big-endian dimensions above 255', () => {
    const a = parseIdx(idx(0x08, [258], new Array(258).fill(9)), 'x');
    expect(a.dims).toEqual([258]);
  });

  it('builds a dataset scaled to [0, 1]', () => {
    const ds = datasetFromIdx('t', parseIdx(images, 'i'), 'i', parseIdx(labels, 'l'), 'l', { numClasses: 10 });
    expect(ds.shape).toEqual([1, 2, 3]);
    expect([...ds.labels]).toEqual([7, 3]);
    expect([...ds.inputs.subarray(0, 6)]).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1].map(Math.fround));
  });

  it('rejects hostile files with an InputError naming the file', () => {
    const bad: [Uint8Array, RegExp][] = [
      [new Uint8Array([0, 0, 8]), /too short/],
      [Uint8Array.from([1, 2, 8, 3, ...images.subarray(4)]), /not an IDX file.*0x01020803/],
      [Uint8Array.from([0, 0, 0x0d, 3, ...images.subarray(4)]), /float32 is not supported/],
      [Uint8Array.from([0, 0, 0x42, 3, ...images.subarray(4)]), /unknown element type/],
      [images.subarray(0, 10), /truncated IDX header/],
      [images.subarray(0, images.length - 1), /truncated IDX data.*need 12 bytes, file has 11/],
      [Uint8Array.from([...images, 0]), /1 extra bytes/],
      [idx(0x08, [0xffffffff, 0xffffffff, 0xffffffff], [1, 2]), /truncated IDX data/],
      [idx(0x08, [], []), /0 dimensions/],
    ];
    for (const [bytes, message] of bad) {
      let caught: unknown;
      try {
        parseIdx(bytes, 'evil.idx');
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(InputError);
      expect((caught as InputError).message).toMatch(/^evil\.idx: /);
      expect((caught as InputError).message).toMatch(message);
    }
  });

  it('rejects image/label mismatches', () => {
    const threeLabels = parseIdx(idx(0x08, [3], [1, 2, 3]), 'l');
    expect(() => datasetFromIdx('t', parseIdx(images, 'i'), 'i', threeLabels, 'l')).toThrow(/l: has 3 labels but i has 2 images/);
    expect(() => datasetFromIdx('t', parseIdx(labels, 'l'), 'l', parseIdx(labels, 'l'), 'l')).toThrow(/expected an IDX image file/);
    expect(() => datasetFromIdx('t', parseIdx(images, 'i'), 'i', parseIdx(labels, 'l'), 'l', { numClasses: 5 })).toThrow(/label 7 is outside 0..4/);
  });

  it('reads gzip-compressed files and reports corrupt gzip', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'idx-'));
    try {
      writeFileSync(join(dir, 'a.gz'), gzipSync(images));
      expect((await readIdx(join(dir, 'a.gz'))).dims).toEqual([2, 2, 3]);
      const broken = gzipSync(images).subarray(0, 15);
      writeFileSync(join(dir, 'b.gz'), broken);
      await expect(readIdx(join(dir, 'b.gz'))).rejects.toThrow(/b\.gz: corrupt gzip data/);
      await expect(readIdx(join(dir, 'missing'))).rejects.toThrow(/missing: cannot read file \(ENOENT\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('Fashion-MNIST', () => {
  it('tells how to get the data when the folder is missing', async () => {
    await expect(loadFashionMnist({ dataDir: '/nonexistent/fashion' })).rejects.toThrow(
      /^\/nonexistent\/fashion: .*apt-get install dataset-fashion-mnist.*--data-dir.*`fashion-mini`/,
    );
  });

  it('names a missing file in a user folder', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fashion-'));
    try {
      await expect(loadFashionMnist({ dataDir: dir })).rejects.toThrow(/train-images-idx3-ubyte\.gz .* is missing/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads a folder of the four gzipped IDX files, whatever their sizes', async () => {
    // Three 28x28 training images and two test images, each filled with one grey level.
    const folder = (side: number) => {
      const dir = mkdtempSync(join(tmpdir(), 'fashion-'));
      const pixels = side * 28;
      const write = (name: string, bytes: Uint8Array) => writeFileSync(join(dir, `${name}.gz`), gzipSync(bytes));
      write('train-images-idx3-ubyte', idx(0x08, [3, side, 28], [...new Array(pixels).fill(0), ...new Array(pixels).fill(51), ...new Array(pixels).fill(255)]));
      write('train-labels-idx1-ubyte', idx(0x08, [3], [9, 0, 4]));
      write('t10k-images-idx3-ubyte', idx(0x08, [2, side, 28], new Array(2 * pixels).fill(102)));
      write('t10k-labels-idx1-ubyte', idx(0x08, [2], [1, 8]));
      return dir;
    };
    const dir = folder(28);
    const odd = folder(27);
    try {
      const { train, test } = await loadFashionMnist({ dataDir: dir });
      expect(train.shape).toEqual([1, 28, 28]);
      expect([...train.labels]).toEqual([9, 0, 4]);
      expect([...test.labels]).toEqual([1, 8]);
      expect([train.inputs[0], train.inputs[784], train.inputs[2 * 784], test.inputs[0]]).toEqual([0, 0.2, 1, 0.4].map(Math.fround));
      expect(train.classNames?.[9]).toBe('Ankle boot');
      expect(train.name).toBe('fashion');
      await expect(loadFashionMnist({ dataDir: odd })).rejects.toThrow(/train-images-idx3-ubyte\.gz: Fashion-MNIST images must be 28x28, got \[1, 27, 28\]/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      rmSync(odd, { recursive: true, force: true });
    }
  });
});
