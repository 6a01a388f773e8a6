import { describe, it, expect } from 'vitest';
import { gzipSync } from 'node:zlib';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseIdx, readIdx } from '../../src/data/idx.js';
import { datasetFromIdx } from '../../src/data/idx-dataset.js';
import { loadFashionMnist } from '../../src/data/fashion-mnist.js';
import { FormatError } from '../../src/formats/errors.js';

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

  it('rejects hostile files with a FormatError naming the file', () => {
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
      expect(caught).toBeInstanceOf(FormatError);
      expect((caught as FormatError).message).toMatch(/^evil\.idx: /);
      expect((caught as FormatError).message).toMatch(message);
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
      await expect(readIdx(join(dir, 'missing'))).rejects.toThrow(/missing: file not found/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('Fashion-MNIST', () => {
  it('tells how to get the data when the folder is missing', async () => {
    await expect(loadFashionMnist({ dataDir: '/nonexistent/fashion' })).rejects.toThrow(/apt-get install dataset-fashion-mnist.*--data-dir/);
  });

  it('names a missing file in a user folder', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fashion-'));
    try {
      await expect(loadFashionMnist({ dataDir: dir })).rejects.toThrow(/train-images-idx3-ubyte\.gz .* is missing/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('loads the standard 60,000 / 10,000 split with balanced classes', async () => {
    const { train, test } = await loadFashionMnist();
    expect(train.shape).toEqual([1, 28, 28]);
    expect(train.labels.length).toBe(60000);
    expect(test.labels.length).toBe(10000);
    expect(train.inputs.length).toBe(60000 * 784);
    // Xiao et al. 2017: 6,000 training and 1,000 test images per class
    for (const [ds, per] of [[train, 6000], [test, 1000]] as const) {
      const counts = new Array(10).fill(0);
      for (const y of ds.labels) counts[y] += 1;
      expect(counts).toEqual(new Array(10).fill(per));
    }
    expect(train.classNames?.[9]).toBe('Ankle boot');
    // the first training image is the ankle boot shown in the TensorFlow classification tutorial
    expect(train.labels[0]).toBe(9);
    let min = Infinity;
    let max = -Infinity;
    for (const v of train.inputs) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
    expect([min, max]).toEqual([0, 1]);
  });
});
