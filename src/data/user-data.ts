/**
 * The user's own classification data: an IDX pair, a .npy pair, or a folder holding either with
 * conventional names. Without a test pair the training data is split (stratified, seeded).
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { readNpy } from '../formats/npy.js';
import { type Tensor, toFloat32 } from '../tensor.js';
import { loadIdxPair } from './idx-dataset.js';
import { checkLabels, selectExamples, stratifiedSplit } from './select.js';
import type { Dataset, DatasetSplits } from './types.js';
import { InputError, checkInput } from '../base/errors.js';

const INTEGER_DTYPES = new Set(['int64', 'int32', 'uint8']);

function inputsFromNpy(t: Tensor, file: string): { inputs: Float32Array; shape: [number, number, number] } {
  const dims = t.shape;
  checkInput(dims.length === 3 || dims.length === 4, file, `inputs must have shape [N, H, W] or [N, C, H, W] (NCHW), got [${dims.join(', ')}]`);
  const shape: [number, number, number] = dims.length === 3 ? [1, dims[1], dims[2]] : [dims[1], dims[2], dims[3]];
  checkInput(
    shape.every((d) => d > 0),
    file,
    `image dimensions [${dims.join(', ')}] contain a zero`,
  );
  let inputs: Float32Array;
  if (t.dtype === 'uint8') {
    inputs = Float32Array.from(t.data as Uint8Array, (v) => v / 255);
  } else {
    checkInput(
      t.dtype === 'float32' || t.dtype === 'float64' || t.dtype === 'float16',
      file,
      `inputs must be uint8 (0..255) or float pixels in [0, 1], got ${t.dtype}`,
    );
    inputs = Float32Array.from(toFloat32(t));
    for (let i = 0; i < inputs.length; i++) {
      if (!Number.isFinite(inputs[i])) throw new InputError(file, `input value ${inputs[i]} at flat index ${i} is not finite`);
    }
  }
  return { inputs, shape };
}

function labelsFromNpy(t: Tensor, file: string, n: number): Int32Array {
  checkInput(t.shape.length === 1, file, `labels must be 1-D, got shape [${t.shape.join(', ')}]`);
  checkInput(INTEGER_DTYPES.has(t.dtype), file, `labels must be integers (int64, int32 or uint8), got ${t.dtype}`);
  checkInput(t.shape[0] === n, file, `has ${t.shape[0]} labels for ${n} inputs`);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const y = Number(t.data[i]);
    if (!(y >= 0 && y < 2 ** 16)) throw new InputError(file, `label ${y} at index ${i} is not a class index (0 to 65535)`);
    labels[i] = y;
  }
  return labels;
}

export interface UserDataOptions {
  numClasses?: number;
  classNames?: readonly string[];
}

function finish(name: string, ds: Omit<Dataset, 'numClasses' | 'name'>, labelsFile: string, options: UserDataOptions): Dataset {
  let maxLabel = -1;
  for (const y of ds.labels) maxLabel = Math.max(maxLabel, y);
  const numClasses = options.numClasses ?? maxLabel + 1;
  checkInput(maxLabel < numClasses, labelsFile, `label ${maxLabel} is outside 0..${numClasses - 1}`);
  if (options.classNames)
    checkInput(options.classNames.length === numClasses, labelsFile, `${options.classNames.length} class names for ${numClasses} classes`);
  return checkLabels({ ...ds, name, numClasses, ...(options.classNames ? { classNames: [...options.classNames] } : {}) });
}

export async function loadNpyPair(name: string, inputsFile: string, labelsFile: string, options: UserDataOptions = {}): Promise<Dataset> {
  const [x, y] = await Promise.all([readNpy(inputsFile), readNpy(labelsFile)]);
  const { inputs, shape } = inputsFromNpy(x, inputsFile);
  const labels = labelsFromNpy(y, labelsFile, x.shape[0]);
  return finish(name, { inputs, shape, labels }, labelsFile, options);
}

export { loadIdxPair };

const LAYOUTS = [
  {
    format: 'idx',
    train: ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte'],
    test: ['t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'],
  },
  { format: 'npy', train: ['train_inputs.npy', 'train_labels.npy'], test: ['test_inputs.npy', 'test_labels.npy'] },
] as const;

async function firstExisting(dir: string, names: readonly string[]): Promise<string | undefined> {
  for (const name of names) {
    try {
      await fs.access(join(dir, name));
      return join(dir, name);
    } catch {
      // try the next spelling
    }
  }
  return undefined;
}

export interface UserFolderOptions extends UserDataOptions {
  /** Used only when the folder has no test pair (default 0.2). */
  testFraction?: number;
  seed?: number;
}

/**
 * A folder with `train-images-idx3-ubyte[.gz]` + `train-labels-idx1-ubyte[.gz]` (optionally
 * `t10k-...` for testing), or `train_inputs.npy` + `train_labels.npy` (optionally `test_...`).
 */
export async function loadUserFolder(name: string, dir: string, options: UserFolderOptions = {}): Promise<DatasetSplits<Dataset>> {
  for (const layout of LAYOUTS) {
    const spellings = (file: string): string[] => (layout.format === 'idx' ? [`${file}.gz`, file] : [file]);
    const trainX = await firstExisting(dir, spellings(layout.train[0]));
    const trainY = await firstExisting(dir, spellings(layout.train[1]));
    if (!trainX || !trainY) continue;
    const testX = await firstExisting(dir, spellings(layout.test[0]));
    const testY = await firstExisting(dir, spellings(layout.test[1]));
    const load = layout.format === 'idx' ? loadIdxPair : loadNpyPair;
    const train = await load(name, trainX, trainY, options);
    if (testX && testY) {
      const test = await load(name, testX, testY, { numClasses: train.numClasses, ...options });
      checkInput(
        test.shape.every((d, i) => d === train.shape[i]),
        testX,
        `test images [${test.shape.join(', ')}] differ from training images [${train.shape.join(', ')}]`,
      );
      return { train, test };
    }
    const split = stratifiedSplit(train.labels, train.numClasses, options.testFraction ?? 0.2, options.seed ?? 0);
    return { train: selectExamples(train, split.train), test: selectExamples(train, split.test) };
  }
  throw new InputError(dir, 'no dataset found: expected train-images-idx3-ubyte[.gz] + train-labels-idx1-ubyte[.gz] or train_inputs.npy + train_labels.npy');
}
