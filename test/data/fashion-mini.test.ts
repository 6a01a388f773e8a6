/**
 * The Fashion-MNIST subset shipped in data/fashion-mnist-mini: what the demo and the tests train
 * on, on every machine. The counts are the documented selection (600 / 100 per class of the
 * official 6,000 / 1,000).
 */
import { describe, it, expect } from 'vitest';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { KNOWN_BASE_DATASETS, isKnownBaseDataset } from '../../src/data/base-datasets.js';
import { FASHION_MINI_DIR, loadFashionMini } from '../../src/data/fashion-mini.js';
import { loadTask } from '../../src/data/load-task.js';
import { classCounts } from '../../src/data/select.js';

const ROOT = join(import.meta.dirname, '..', '..');

describe('fashion-mini', () => {
  it('lives in the package folder, not in a system folder', () => {
    expect(FASHION_MINI_DIR).toBe(join(ROOT, 'data', 'fashion-mnist-mini'));
  });

  it('holds 600 training and 100 test images of each class, 28x28 in [0, 1]', async () => {
    const { train, test } = await loadFashionMini();
    expect(train.name).toBe('fashion-mini');
    expect(train.shape).toEqual([1, 28, 28]);
    expect(classCounts(train.labels, 10)).toEqual(new Array(10).fill(600));
    expect(classCounts(test.labels, 10)).toEqual(new Array(10).fill(100));
    expect(train.inputs.length).toBe(6000 * 784);
    expect(train.classNames).toEqual(['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot']);
    let min = Infinity;
    let max = -Infinity;
    for (const v of train.inputs) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
    expect([min, max]).toEqual([0, 1]);
  });

  it('records which official images it kept, one per shipped image, in file order', async () => {
    const selection = JSON.parse(readFileSync(join(FASHION_MINI_DIR, 'selection.json'), 'utf8')) as {
      seed: number;
      perClass: { train: number; test: number };
      train: number[];
      test: number[];
    };
    expect([selection.seed, selection.perClass]).toEqual([0, { train: 600, test: 100 }]);
    for (const [indices, size] of [
      [selection.train, 60000],
      [selection.test, 10000],
    ] as const) {
      expect(indices.every((k, i) => Number.isInteger(k) && k >= 0 && k < size && (i === 0 || k > indices[i - 1]))).toBe(true);
    }
    const { train, test } = await loadFashionMini();
    expect([selection.train.length, selection.test.length]).toEqual([train.labels.length, test.labels.length]);
  });

  it('is a base dataset of task ids, with its own name and steps', async () => {
    expect(KNOWN_BASE_DATASETS).toContain('fashion-mini');
    expect([isKnownBaseDataset('fashion-mini'), isKnownBaseDataset('fashion'), isKnownBaseDataset('mnist'), isKnownBaseDataset('cifar')]).toEqual([
      true,
      true,
      true,
      false,
    ]);
    const task = await loadTask('fashion-mini:subset=0-4', { dataDir: '/nonexistent/full-fashion' });
    expect(task.id).toBe('fashion-mini:subset=0-4');
    expect(task.train.numClasses).toBe(5);
    if (task.train.kind !== undefined && task.train.kind !== 'classification') throw new Error(`expected a classification task, got ${task.train.kind}`);
    expect([task.train.labels.length, task.test.labels.length]).toEqual([3000, 500]);
  });

  it('ships in the npm package', async () => {
    const { stdout } = await promisify(execFile)('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT });
    const files = (JSON.parse(stdout) as { files: { path: string }[] }[])[0].files.map((f) => f.path);
    for (const name of ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz', 'LICENSE']) {
      expect(files).toContain(`data/fashion-mnist-mini/${name}`);
    }
  });
});
