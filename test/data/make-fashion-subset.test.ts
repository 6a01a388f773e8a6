/**
 * scripts/make_fashion_subset.mjs, the maker of the shipped fashion-mini subset, run on a small
 * official-format source built byte by byte here (the real source, /usr/share/datasets, is not
 * needed by the tests).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync, gzipSync } from 'node:zlib';
import { Rng } from '../../src/base/random.js';

const SCRIPT = join(import.meta.dirname, '..', '..', 'scripts', 'make_fashion_subset.mjs');
const SIDE = 28;
const PIXELS = SIDE * SIDE;

function idx(dims: number[], data: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  out.set([0, 0, 0x08, dims.length]);
  dims.forEach((d, i) => out.set([(d >>> 24) & 255, (d >>> 16) & 255, (d >>> 8) & 255, d & 255], 4 + 4 * i));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

/** Labels in a scrambled order; image k is filled with byte k, so every output image names its source. */
function writeSource(dir: string, prefix: string, labels: number[]): void {
  const images = new Uint8Array(labels.length * PIXELS);
  labels.forEach((_, k) => images.fill(k, k * PIXELS, (k + 1) * PIXELS));
  writeFileSync(join(dir, `${prefix}-images-idx3-ubyte.gz`), gzipSync(idx([labels.length, SIDE, SIDE], images)));
  writeFileSync(join(dir, `${prefix}-labels-idx1-ubyte.gz`), gzipSync(idx([labels.length], Uint8Array.from(labels))));
}

const TRAIN_LABELS = Array.from({ length: 40 }, (_, k) => (k * 7) % 10); // 4 of each class
const TEST_LABELS = Array.from({ length: 30 }, (_, k) => (k * 3) % 10); // 3 of each class

const run = (args: string[]) => promisify(execFile)('node', [SCRIPT, ...args]);

interface Selection {
  seed: number;
  perClass: { train: number; test: number };
  train: number[];
  test: number[];
}

describe('make_fashion_subset.mjs', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'fashion-subset-'));
    writeSource(dir, 'train', TRAIN_LABELS);
    writeSource(dir, 't10k', TEST_LABELS);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const make = async (out: string, seed: number) => {
    await run(['--from', dir, '--out', join(dir, out), '--train-per-class', '2', '--test-per-class', '1', '--seed', String(seed)]);
    const read = (name: string) => readFileSync(join(dir, out, name));
    return { read, selection: JSON.parse(read('selection.json').toString('utf8')) as Selection };
  };

  it('keeps a seeded, stratified choice of the source images, in file order', async () => {
    const { read, selection } = await make('a', 0);
    // The documented rule, replayed with the project's own mulberry32 Rng: one stream, training
    // split first, each class's indices shuffled in class order, the first N kept.
    const rng = new Rng(0);
    const expected = (
      [
        [TRAIN_LABELS, 2],
        [TEST_LABELS, 1],
      ] as const
    ).map(([labels, n]) => {
      const kept: number[] = [];
      for (let c = 0; c < 10; c++) kept.push(...rng.shuffle(Int32Array.from(labels.flatMap((y, k) => (y === c ? [k] : [])))).slice(0, n));
      return kept.sort((a, b) => a - b);
    });
    expect([selection.train, selection.test]).toEqual(expected);
    expect(selection.perClass).toEqual({ train: 2, test: 1 });

    for (const [prefix, labels, kept] of [
      ['train', TRAIN_LABELS, selection.train],
      ['t10k', TEST_LABELS, selection.test],
    ] as const) {
      const images = gunzipSync(read(`${prefix}-images-idx3-ubyte.gz`));
      const outLabels = gunzipSync(read(`${prefix}-labels-idx1-ubyte.gz`));
      expect([...images.subarray(0, 16)]).toEqual([0, 0, 8, 3, 0, 0, 0, kept.length, 0, 0, 0, 28, 0, 0, 0, 28]);
      expect([...outLabels.subarray(0, 8)]).toEqual([0, 0, 8, 1, 0, 0, 0, kept.length]);
      expect(images.length).toBe(16 + kept.length * PIXELS);
      kept.forEach((k, i) => {
        const image = images.subarray(16 + i * PIXELS, 16 + (i + 1) * PIXELS);
        expect(image.every((v) => v === k)).toBe(true);
        expect(outLabels[8 + i]).toBe(labels[k]);
      });
    }
  });

  it('writes the same bytes every time, with no timestamp in the gzip header', async () => {
    const first = await make('b', 0);
    const second = await make('c', 0);
    for (const name of [
      'train-images-idx3-ubyte.gz',
      'train-labels-idx1-ubyte.gz',
      't10k-images-idx3-ubyte.gz',
      't10k-labels-idx1-ubyte.gz',
      'selection.json',
    ]) {
      expect(second.read(name).equals(first.read(name))).toBe(true);
    }
    const header = first.read('train-images-idx3-ubyte.gz');
    expect([...header.subarray(0, 10)]).toEqual([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 255]);
    const other = await make('d', 1);
    expect(other.selection.train).not.toEqual(first.selection.train);
  });

  it('names the missing source file and a class too small for the request', async () => {
    await expect(run(['--from', join(dir, 'nowhere'), '--out', join(dir, 'e')])).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/nowhere\/train-images-idx3-ubyte\.gz: not found/),
    });
    await expect(run(['--from', dir, '--out', join(dir, 'f'), '--train-per-class', '5'])).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/train-labels-idx1-ubyte\.gz: class 0 has 4 examples, fewer than --train-per-class 5/),
    });
    await expect(run(['--from', dir, '--seed', 'x'])).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/--seed must be a non-negative integer, got 'x'/),
    });
  });
});
