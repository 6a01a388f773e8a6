/**
 * The dataset shapes of the project. Inputs are always one flat float32 buffer in NCHW order;
 * loaders return raw pixels in [0, 1], and `normalize` returns a copy with the per-channel
 * statistics recorded in `normalization`, so a model can be stored with exactly what it saw.
 */

/** Per-channel statistics, plain JSON so it can be written next to every model. */
export interface Normalization {
  mean: number[];
  std: number[];
}

/** [channels, height, width] of one example. */
export type ImageShape = readonly [number, number, number];

interface ImageSet {
  /** Task id (see task-spec.ts) or the base dataset's name. */
  readonly name: string;
  /** N x C x H x W, row-major. */
  readonly inputs: Float32Array;
  readonly shape: ImageShape;
  readonly numClasses: number;
  readonly classNames?: readonly string[];
  /** Set once the inputs have been normalised with these statistics; absent for raw pixels. */
  readonly normalization?: Normalization;
}

/** Image classification: one label in 0..numClasses-1 per example. */
export interface Dataset extends ImageSet {
  readonly kind?: 'classification';
  readonly labels: Int32Array;
}

/**
 * Per-pixel classification on a canvas. `masks` is N x H x W with 0 = background and 1 + c for a
 * pixel of an object of source class c, so numClasses counts the background.
 * Head that fits: a 1x1 convolution classifying every pixel of a feature map upsampled to H x W
 * (numClasses output channels, cross-entropy per pixel).
 */
export interface SegmentationDataset extends ImageSet {
  readonly kind: 'segmentation';
  readonly masks: Int32Array;
}

/**
 * Object detection with a fixed number of slots per image (maxObjects). `boxes` is
 * N x maxObjects x 4 as (x0, y0, x1, y1) in [0, 1] of the canvas width/height, pixel-edge
 * convention: pixel (row r, col c) lies in the box when x0*W <= c and c+1 <= x1*W (same for rows).
 * `classes` is N x maxObjects with the object's class, or -1 for an empty slot. Filled slots come
 * first, ordered left to right (x0, then y0), so a slot-wise head has a stable target.
 * Head that fits: a linear layer on pooled features predicting, per slot, 4 box coordinates
 * (regression, e.g. L1/smooth-L1 on filled slots) and numClasses class logits (cross-entropy);
 * with maxObjects = 1 that is one box and one class per image.
 */
export interface DetectionDataset extends ImageSet {
  readonly kind: 'detection';
  readonly maxObjects: number;
  readonly boxes: Float32Array;
  readonly classes: Int32Array;
}

export type DenseDataset = SegmentationDataset | DetectionDataset;
export type AnyDataset = Dataset | DenseDataset;
export type TaskKind = 'classification' | 'segmentation' | 'detection';

export type Split = 'train' | 'test';

export interface DatasetSplits<T extends AnyDataset = Dataset> {
  readonly train: T;
  readonly test: T;
}

export function taskKind(ds: AnyDataset): TaskKind {
  return ds.kind ?? 'classification';
}

export function exampleSize(shape: ImageShape): number {
  return shape[0] * shape[1] * shape[2];
}

/** Number of examples. */
export function datasetSize(ds: AnyDataset): number {
  return ds.inputs.length / exampleSize(ds.shape);
}
