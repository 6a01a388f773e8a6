/** A classification Dataset from an IDX image file and an IDX label file. */
import { type IdxArray, checkIdxImages, checkIdxLabels, readIdx } from './idx.js';
import type { Dataset } from './types.js';
import { checkInput } from '../base/errors.js';

/** uint8 pixels to floats in [0, 1], as torchvision's ToTensor does. */
export function unitFloatsFromBytes(bytes: Uint8Array): Float32Array {
  const table = new Float32Array(256);
  for (let v = 0; v < 256; v++) table[v] = v / 255;
  const out = new Float32Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = table[bytes[i]];
  return out;
}

export interface IdxPairOptions {
  /** Number of classes; default: largest label + 1. */
  numClasses?: number;
  classNames?: readonly string[];
}

export function datasetFromIdx(
  name: string,
  images: IdxArray,
  imagesFile: string,
  labels: IdxArray,
  labelsFile: string,
  options: IdxPairOptions = {},
): Dataset {
  const [n, c, h, w] = checkIdxImages(images, imagesFile);
  const m = checkIdxLabels(labels, labelsFile);
  checkInput(m === n, labelsFile, `has ${m} labels but ${imagesFile} has ${n} images`);
  let maxLabel = -1;
  for (const y of labels.data) maxLabel = Math.max(maxLabel, y);
  const numClasses = options.numClasses ?? maxLabel + 1;
  checkInput(maxLabel < numClasses, labelsFile, `label ${maxLabel} is outside 0..${numClasses - 1}`);
  if (options.classNames)
    checkInput(options.classNames.length === numClasses, labelsFile, `${options.classNames.length} class names for ${numClasses} classes`);
  return {
    name,
    inputs: unitFloatsFromBytes(images.data),
    shape: [c, h, w],
    labels: Int32Array.from(labels.data),
    numClasses,
    ...(options.classNames ? { classNames: [...options.classNames] } : {}),
  };
}

export async function loadIdxPair(name: string, imagesFile: string, labelsFile: string, options: IdxPairOptions = {}): Promise<Dataset> {
  const [images, labels] = await Promise.all([readIdx(imagesFile), readIdx(labelsFile)]);
  return datasetFromIdx(name, images, imagesFile, labels, labelsFile, options);
}
