import type { Dataset, SegmentationDataset } from '../types.js';
import { composeCanvases } from './canvas.js';
import { renamed } from './raw.js';

export interface SegmentationOptions {
  /** Canvas side in pixels (e.g. 48 or 56 for 28x28 digits). */
  size: number;
  /** 1..maxDigits digits per canvas (seeded). */
  maxDigits: number;
  seed: number;
  /** A digit pixel belongs to its digit when its value (max over channels) exceeds this; default 0.5. */
  threshold?: number;
}

/**
 * Digits on a canvas with a per-pixel target: 0 = background, 1 + c = a pixel of a digit of class c.
 * See SegmentationDataset for the head that fits.
 */
export function segmentation(ds: Dataset, options: SegmentationOptions, id = `seg=${options.size}x${options.maxDigits}:s${options.seed}`): SegmentationDataset {
  const threshold = options.threshold ?? 0.5;
  const { inputs, shape, placements } = composeCanvases(ds, options.size, options.maxDigits, options.seed);
  const [c, size] = shape;
  const plane = size * size;
  const masks = new Int32Array(placements.length * plane);
  placements.forEach((placed, i) => {
    const base = i * c * plane;
    for (const { box, label } of placed) {
      for (let r = box.r0; r < box.r1; r++) {
        for (let col = box.c0; col < box.c1; col++) {
          let v = 0;
          for (let ch = 0; ch < c; ch++) v = Math.max(v, inputs[base + ch * plane + r * size + col]);
          if (v > threshold) masks[i * plane + r * size + col] = 1 + label;
        }
      }
    }
  });
  const names = ds.classNames;
  return {
    kind: 'segmentation',
    name: renamed(ds, id),
    inputs,
    shape,
    masks,
    numClasses: ds.numClasses + 1,
    ...(names ? { classNames: ['background', ...names] } : {}),
  };
}
