/**
 * Fashion-MNIST (Xiao et al. 2017) from its four IDX files, with the standard 60,000 / 10,000
 * split. Default folder: where Debian's dataset-fashion-mnist package puts them. The subset shipped
 * with the package (fashion-mini.ts) is read by the same code.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { loadIdxPair } from './idx-dataset.js';
import type { Dataset, DatasetSplits } from './types.js';
import { InputError, checkInput } from '../base/errors.js';

export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';
export const FASHION_MNIST_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'] as const;

const FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
};

export interface FashionMnistOptions {
  /** Folder with the four IDX files (gzipped or not); default FASHION_MNIST_DIR. */
  dataDir?: string;
}

async function exists(path: string): Promise<boolean> {
  try {
    await fs.access(path);
    return true;
  } catch {
    return false;
  }
}

/** The file's path, preferring the .gz copy the official distribution ships. */
async function locate(dir: string, base: string): Promise<string> {
  for (const name of [`${base}.gz`, base]) {
    const path = join(dir, name);
    if (await exists(path)) return path;
  }
  throw new InputError(dir, `Fashion-MNIST file ${base}.gz (or ${base}) is missing from this folder`);
}

export async function loadFashionMnist(options: FashionMnistOptions = {}): Promise<DatasetSplits<Dataset>> {
  const dir = options.dataDir ?? FASHION_MNIST_DIR;
  if (!(await exists(dir))) {
    throw new InputError(
      dir,
      'Fashion-MNIST folder not found; install it with `apt-get install dataset-fashion-mnist`, pass --data-dir pointing at a folder with the four IDX files, or use the subset shipped with this package (task `fashion-mini`)',
    );
  }
  return readFashionFolder(dir);
}

/** The train and test splits from a folder holding the four Fashion-MNIST IDX files (any sizes). */
export async function readFashionFolder(dir: string, name = 'fashion'): Promise<DatasetSplits<Dataset>> {
  const [trainImages, trainLabels, testImages, testLabels] = await Promise.all(Object.values(FILES).map((base) => locate(dir, base)));
  const idxOptions = { numClasses: 10, classNames: FASHION_MNIST_CLASSES };
  const train = await loadIdxPair(name, trainImages, trainLabels, idxOptions);
  const test = await loadIdxPair(name, testImages, testLabels, idxOptions);
  for (const [ds, file] of [
    [train, trainImages],
    [test, testImages],
  ] as const) {
    checkInput(ds.shape[0] === 1 && ds.shape[1] === 28 && ds.shape[2] === 28, file, `Fashion-MNIST images must be 28x28, got [${ds.shape.join(', ')}]`);
  }
  return { train, test };
}
