/** Probe sets: the inputs every candidate model is run on when comparing features. */
import { type Tensor, makeTensor } from '../tensor.js';
import { computeNormalization, normalize } from './normalize.js';
import { type AnyDataset, type Normalization, datasetSize, exampleSize } from './types.js';

/** All inputs as one float32 tensor [N, C, H, W] (no copy). */
export function inputsTensor(ds: AnyDataset): Tensor<'float32'> {
  return makeTensor('float32', [datasetSize(ds), ...ds.shape], ds.inputs);
}

/**
 * The first n inputs of a training split, normalised, as [n, C, H, W]. Inputs already normalised
 * are used as they are; otherwise `norm` is applied, or, without it, the split's own statistics.
 */
export function probeInputs(ds: AnyDataset, n: number, norm?: Normalization): Tensor<'float32'> {
  const size = datasetSize(ds);
  if (!Number.isInteger(n) || n < 1 || n > size) throw new Error(`${ds.name}: cannot take ${n} probe inputs from ${size} examples`);
  const head = { ...ds, inputs: ds.inputs.slice(0, n * exampleSize(ds.shape)) };
  if (ds.normalization) return inputsTensor(head);
  return inputsTensor(normalize(head, norm ?? computeNormalization(ds)));
}
