import type { Dataset, DetectionDataset } from '../types.js';
import { composeCanvases } from './canvas.js';
import { renamed } from './raw.js';

export interface DetectionOptions {
  /** Canvas side in pixels. */
  size: number;
  /** Slots per image; each canvas holds 1..maxObjects digits (seeded). 1 = one box + one class. */
  maxObjects: number;
  seed: number;
}

/**
 * Digits on a canvas with, per slot, the tight box of the digit's nonzero pixels (normalised
 * x0, y0, x1, y1) and its class; empty slots have class -1 and box 0. See DetectionDataset.
 */
export function detection(ds: Dataset, options: DetectionOptions, id = `det=${options.size}x${options.maxObjects}:s${options.seed}`): DetectionDataset {
  const { inputs, shape, placements } = composeCanvases(ds, options.size, options.maxObjects, options.seed);
  const k = options.maxObjects;
  const size = shape[2];
  const boxes = new Float32Array(placements.length * k * 4);
  const classes = new Int32Array(placements.length * k).fill(-1);
  placements.forEach((placed, i) => {
    const ordered = [...placed].sort((a, b) => a.box.c0 - b.box.c0 || a.box.r0 - b.box.r0);
    ordered.forEach(({ box, label }, slot) => {
      boxes.set([box.c0 / size, box.r0 / size, box.c1 / size, box.r1 / size], (i * k + slot) * 4);
      classes[i * k + slot] = label;
    });
  });
  return {
    kind: 'detection',
    name: renamed(ds, id),
    inputs,
    shape,
    maxObjects: k,
    boxes,
    classes,
    numClasses: ds.numClasses,
    ...(ds.classNames ? { classNames: [...ds.classNames] } : {}),
  };
}
