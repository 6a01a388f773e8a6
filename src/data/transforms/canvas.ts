/**
 * Digits pasted onto a larger blank canvas at seeded positions, the common ground of the
 * segmentation and detection tasks. Each digit's tight box (its pixels above 0) must stay one pixel
 * clear of every other digit's box, so every canvas pixel belongs to at most one digit.
 */
import { Rng } from '../../base/random.js';
import { type Dataset, type ImageShape, datasetSize, exampleSize } from '../types.js';
import { requireRaw } from './raw.js';

/** Half-open pixel rectangle: rows r0..r1-1, columns c0..c1-1. */
export interface PixelBox {
  r0: number;
  c0: number;
  r1: number;
  c1: number;
}

export interface PlacedDigit {
  /** Index of the source example. */
  source: number;
  label: number;
  /** Tight box of the digit's nonzero pixels, in canvas coordinates. */
  box: PixelBox;
}

export interface Canvases {
  inputs: Float32Array;
  shape: ImageShape;
  placements: PlacedDigit[][];
}

const PLACEMENT_TRIES = 100;

/** Tight box of the pixels above 0 in any channel, or the whole image when it is blank. */
function tightBox(inputs: Float32Array, shape: ImageShape, example: number): PixelBox {
  const [c, h, w] = shape;
  const base = example * exampleSize(shape);
  let r0 = h;
  let c0 = w;
  let r1 = 0;
  let c1 = 0;
  for (let ch = 0; ch < c; ch++) {
    for (let r = 0; r < h; r++) {
      for (let col = 0; col < w; col++) {
        if (inputs[base + (ch * h + r) * w + col] > 0) {
          r0 = Math.min(r0, r);
          c0 = Math.min(c0, col);
          r1 = Math.max(r1, r + 1);
          c1 = Math.max(c1, col + 1);
        }
      }
    }
  }
  return r1 > 0 ? { r0, c0, r1, c1 } : { r0: 0, c0: 0, r1: h, c1: w };
}

function clear(a: PixelBox, b: PixelBox): boolean {
  return a.r1 + 1 <= b.r0 || b.r1 + 1 <= a.r0 || a.c1 + 1 <= b.c0 || b.c1 + 1 <= a.c0;
}

/**
 * One canvas per source example: example i is always placed first, then up to maxDigits - 1 more
 * seeded picks (fewer when no clear spot is found in 100 tries).
 */
export function composeCanvases(ds: Dataset, size: number, maxDigits: number, seed: number): Canvases {
  requireRaw(ds, 'canvas composition');
  const [c, h, w] = ds.shape;
  if (!Number.isInteger(size) || size < h || size < w) throw new Error(`${ds.name}: canvas size ${size} must be an integer at least the image size ${h}x${w}`);
  if (!Number.isInteger(maxDigits) || maxDigits < 1) throw new Error(`${ds.name}: digits per canvas must be a positive integer, got ${maxDigits}`);
  const n = datasetSize(ds);
  const shape: ImageShape = [c, size, size];
  const inputs = new Float32Array(n * exampleSize(shape));
  const boxes = new Map<number, PixelBox>();
  const boxOf = (k: number): PixelBox => {
    let b = boxes.get(k);
    if (!b) boxes.set(k, (b = tightBox(ds.inputs, ds.shape, k)));
    return b;
  };
  const rng = new Rng(seed);
  const placements: PlacedDigit[][] = [];
  for (let i = 0; i < n; i++) {
    const count = 1 + rng.int(maxDigits);
    const placed: PlacedDigit[] = [];
    for (let d = 0; d < count; d++) {
      const source = d === 0 ? i : rng.int(n);
      const own = boxOf(source);
      for (let attempt = 0; attempt < PLACEMENT_TRIES; attempt++) {
        const top = rng.int(size - h + 1);
        const left = rng.int(size - w + 1);
        const box = { r0: own.r0 + top, c0: own.c0 + left, r1: own.r1 + top, c1: own.c1 + left };
        if (!placed.every((p) => clear(p.box, box))) continue;
        placed.push({ source, label: ds.labels[source], box });
        paste(ds.inputs, ds.shape, source, inputs, shape, i, top, left);
        break;
      }
    }
    placements.push(placed);
  }
  return { inputs, shape, placements };
}

function paste(src: Float32Array, srcShape: ImageShape, k: number, dst: Float32Array, dstShape: ImageShape, i: number, top: number, left: number): void {
  const [c, h, w] = srcShape;
  const size = dstShape[2];
  const from = k * exampleSize(srcShape);
  const to = i * exampleSize(dstShape);
  for (let ch = 0; ch < c; ch++) {
    for (let r = 0; r < h; r++) {
      for (let col = 0; col < w; col++) {
        const v = src[from + (ch * h + r) * w + col];
        const at = to + (ch * size + top + r) * size + left + col;
        if (v > dst[at]) dst[at] = v;
      }
    }
  }
}
