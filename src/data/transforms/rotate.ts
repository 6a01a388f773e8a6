import type { Dataset, ImageShape } from '../types.js';
import { renamed, requireRaw } from './raw.js';

/** Angle in [0, 360). */
export function normalizeAngle(degrees: number): number {
  const a = degrees % 360;
  return a < 0 ? a + 360 : a;
}

/**
 * Exact quarter turn(s) counterclockwise (as seen with row 0 at the top), like numpy.rot90.
 * 90 and 270 swap height and width.
 */
function rotateQuarter(inputs: Float32Array, shape: ImageShape, quarters: 1 | 2 | 3): { inputs: Float32Array; shape: ImageShape } {
  const [c, h, w] = shape;
  const plane = h * w;
  const out = new Float32Array(inputs.length);
  const outShape: ImageShape = quarters === 2 ? shape : [c, w, h];
  const outW = outShape[2];
  for (let p = 0; p < inputs.length; p += plane) {
    for (let r = 0; r < h; r++) {
      for (let col = 0; col < w; col++) {
        // where source pixel (r, col) lands
        let or: number;
        let oc: number;
        if (quarters === 1) [or, oc] = [w - 1 - col, r];
        else if (quarters === 2) [or, oc] = [h - 1 - r, w - 1 - col];
        else [or, oc] = [col, h - 1 - r];
        out[p + or * outW + oc] = inputs[p + r * w + col];
      }
    }
  }
  return { inputs: out, shape: outShape };
}

/** Rotation about the image centre with bilinear sampling; pixels from outside the image are 0. */
function rotateBilinear(inputs: Float32Array, shape: ImageShape, degrees: number): Float32Array {
  const [, h, w] = shape;
  const plane = h * w;
  const theta = (degrees * Math.PI) / 180;
  const cos = Math.cos(theta);
  const sin = Math.sin(theta);
  const cy = (h - 1) / 2;
  const cx = (w - 1) / 2;
  // Per output pixel: the source position (inverse rotation) and its 4 neighbours' weights.
  const index = new Int32Array(plane * 4).fill(-1);
  const weight = new Float64Array(plane * 4);
  for (let r = 0; r < h; r++) {
    for (let col = 0; col < w; col++) {
      const dx = col - cx;
      const dy = r - cy;
      const sx = cx + dx * cos - dy * sin;
      const sy = cy + dx * sin + dy * cos;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      const corners: [number, number, number][] = [
        [y0, x0, (1 - fy) * (1 - fx)],
        [y0, x0 + 1, (1 - fy) * fx],
        [y0 + 1, x0, fy * (1 - fx)],
        [y0 + 1, x0 + 1, fy * fx],
      ];
      const at = (r * w + col) * 4;
      corners.forEach(([yy, xx, wt], k) => {
        if (yy >= 0 && yy < h && xx >= 0 && xx < w) {
          index[at + k] = yy * w + xx;
          weight[at + k] = wt;
        }
      });
    }
  }
  const out = new Float32Array(inputs.length);
  for (let p = 0; p < inputs.length; p += plane) {
    for (let q = 0; q < plane; q++) {
      let v = 0;
      for (let k = q * 4; k < q * 4 + 4; k++) if (index[k] >= 0) v += weight[k] * inputs[p + index[k]];
      out[p + q] = v;
    }
  }
  return out;
}

/**
 * Rotates every image counterclockwise by `degrees`. Multiples of 90 are exact pixel moves (90 and
 * 270 swap height and width); other angles resample bilinearly about the centre with zero fill.
 */
export function rotate(ds: Dataset, degrees: number, id = `rot=${normalizeAngle(degrees)}`): Dataset {
  requireRaw(ds, 'rotation');
  if (!Number.isFinite(degrees)) throw new Error(`${ds.name}: rotation angle must be finite, got ${degrees}`);
  const angle = normalizeAngle(degrees);
  const name = renamed(ds, id);
  if (angle === 0) return { ...ds, name, inputs: ds.inputs.slice() };
  if (angle % 90 === 0) {
    const rotated = rotateQuarter(ds.inputs, ds.shape, (angle / 90) as 1 | 2 | 3);
    return { ...ds, name, ...rotated };
  }
  return { ...ds, name, inputs: rotateBilinear(ds.inputs, ds.shape, angle) };
}
