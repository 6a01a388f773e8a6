/**
 * `fashion-mini`: the Fashion-MNIST subset shipped in the package's data/fashion-mnist-mini folder
 * (6,000 training and 1,000 test images, stratified; made by scripts/make_fashion_subset.mjs), so
 * the demo and the tests run on every machine with the same data and no system package.
 */
import { promises as fs } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readFashionFolder } from './fashion-mnist.js';
import type { Dataset, DatasetSplits } from './types.js';
import { InputError } from '../base/errors.js';

// Two levels up from both src/data (tests) and dist/data (the CLI) is the package root.
export const FASHION_MINI_DIR = fileURLToPath(new URL('../../data/fashion-mnist-mini', import.meta.url));

export async function loadFashionMini(dir: string = FASHION_MINI_DIR): Promise<DatasetSplits<Dataset>> {
  try {
    await fs.access(dir);
  } catch {
    throw new InputError(dir, 'the Fashion-MNIST subset shipped with neural-lineage is missing; reinstall the package (its "files" include data/)');
  }
  return readFashionFolder(dir, 'fashion-mini');
}
