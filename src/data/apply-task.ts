/**
 * Applies a parsed task chain to train/test splits. Label-space and pixel transforms act on both
 * splits alike; few-shot and imbalanced shape only the training split (the test split stays whole,
 * so accuracy is measured on every class fairly). Seeded pixel randomness (noise, canvas placement)
 * draws a separate stream per split from the step's seed.
 */
import { deriveSeed } from '../base/random.js';
import { formatStep, type TaskStep } from './task-spec.js';
import { classSubset } from './transforms/class-subset.js';
import { permuteLabels } from './transforms/permute-labels.js';
import { rotate } from './transforms/rotate.js';
import { invert } from './transforms/invert.js';
import { addNoise } from './transforms/noise.js';
import { fewShot } from './transforms/few-shot.js';
import { imbalanced } from './transforms/imbalanced.js';
import { segmentation } from './transforms/segmentation.js';
import { detection } from './transforms/detection.js';
import type { AnyDataset, Dataset, DatasetSplits, Split } from './types.js';

/** One step on one split. */
export function applyStep(ds: Dataset, step: TaskStep, split: Split): AnyDataset {
  const id = formatStep(step);
  switch (step.op) {
    case 'subset':
      return classSubset(ds, step.classes, id);
    case 'perm':
      return permuteLabels(ds, step.seed, id);
    case 'rot':
      return rotate(ds, step.degrees, id);
    case 'invert':
      return invert(ds, id);
    case 'noise':
      return addNoise(ds, step.sigma, deriveSeed(step.seed, `noise:${split}`), id);
    case 'fewshot':
      return split === 'train' ? fewShot(ds, step.k, step.seed, id) : { ...ds, name: `${ds.name}:${id}` };
    case 'imbalanced':
      return split === 'train' ? imbalanced(ds, step.ratio, step.seed, id) : { ...ds, name: `${ds.name}:${id}` };
    case 'seg':
      return segmentation(ds, { size: step.size, maxDigits: step.maxDigits, seed: deriveSeed(step.seed, `seg:${split}`) }, id);
    case 'det':
      return detection(ds, { size: step.size, maxObjects: step.maxObjects, seed: deriveSeed(step.seed, `det:${split}`) }, id);
  }
}

function asClassification(ds: AnyDataset, step: TaskStep): Dataset {
  if (ds.kind === 'segmentation' || ds.kind === 'detection') {
    throw new Error(`${ds.name}: step '${formatStep(step)}' needs a classification dataset (seg/det must be the last step)`);
  }
  return ds;
}

export function applySteps(splits: DatasetSplits<Dataset>, steps: readonly TaskStep[]): DatasetSplits<AnyDataset> {
  let train: AnyDataset = splits.train;
  let test: AnyDataset = splits.test;
  for (const step of steps) {
    train = applyStep(asClassification(train, step), step, 'train');
    test = applyStep(asClassification(test, step), step, 'test');
  }
  return { train, test };
}
