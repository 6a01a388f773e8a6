import { describe, it, expect } from 'vitest';
import { segmentation } from '../../src/data/transforms/segmentation.js';
import { detection } from '../../src/data/transforms/detection.js';
import type { Dataset } from '../../src/data/types.js';
import { bytesOf, syntheticDataset } from './synthetic.js';

/**
 * "Digits" of class c: a 6x6 tile holding a (c+1) x 3 block of pixels starting at row 1, col 2,
 * with values alternating 0.9 and 0.3 (so the 0.5 threshold keeps only some of them).
 */
function blocks(labels: number[]): Dataset {
  return syntheticDataset(labels, [1, 6, 6], (i, _, r, c) => {
    const h = labels[i] + 1;
    if (r < 1 || r >= 1 + h || c < 2 || c >= 5) return 0;
    return (r + c) % 2 === 0 ? 0.9 : 0.3;
  });
}

const labels = Array.from({ length: 60 }, (_, i) => i % 4);
const source = blocks(labels);
const S = 20;

describe('segmentation canvases', () => {
  const seg = segmentation(source, { size: S, maxDigits: 3, seed: 5 });

  it('has one canvas per source example and background + classes', () => {
    expect(seg.kind).toBe('segmentation');
    expect(seg.shape).toEqual([1, S, S]);
    expect(seg.masks.length).toBe(60 * S * S);
    expect(seg.numClasses).toBe(5);
    expect(seg.classNames?.[0]).toBe('background');
  });

  it('masks mark exactly the canvas pixels above the threshold', () => {
    let wrong = 0;
    let strange = 0;
    for (let p = 0; p < seg.inputs.length; p++) {
      const v = seg.inputs[p];
      if ((seg.masks[p] !== 0) !== v > 0.5) wrong++;
      if (!(v === 0 || v === Math.fround(0.9) || v === Math.fround(0.3))) strange++;
    }
    expect([wrong, strange]).toEqual([0, 0]);
  });

  it('each connected digit carries its class: block height = class + 1', () => {
    let multi = 0;
    for (let i = 0; i < 60; i++) {
      const mask = seg.masks.subarray(i * S * S, (i + 1) * S * S);
      // label 4-connected components of the canvas's nonzero pixels (blocks are solid rectangles)
      const seen = new Uint8Array(S * S);
      let components = 0;
      for (let p = 0; p < S * S; p++) {
        if (seen[p] || seg.inputs[i * S * S + p] === 0) continue;
        components++;
        const stack = [p];
        seen[p] = 1;
        let r0 = S;
        let r1 = 0;
        const classes = new Set<number>();
        while (stack.length) {
          const q = stack.pop() as number;
          const r = Math.floor(q / S);
          const c = q % S;
          r0 = Math.min(r0, r);
          r1 = Math.max(r1, r + 1);
          if (mask[q]) classes.add(mask[q] - 1);
          for (const [rr, cc] of [
            [r - 1, c],
            [r + 1, c],
            [r, c - 1],
            [r, c + 1],
          ]) {
            const n = rr * S + cc;
            if (rr >= 0 && rr < S && cc >= 0 && cc < S && !seen[n] && seg.inputs[i * S * S + n] !== 0) {
              seen[n] = 1;
              stack.push(n);
            }
          }
        }
        expect(classes.size).toBe(1);
        expect([...classes][0]).toBe(r1 - r0 - 1);
      }
      expect(components).toBeGreaterThanOrEqual(1);
      expect(components).toBeLessThanOrEqual(3);
      if (components > 1) multi++;
    }
    expect(multi).toBeGreaterThan(10);
  });

  it('canvas i contains source example i', () => {
    // example i has class i % 4, so canvas i has a component of height (i % 4) + 1
    for (let i = 0; i < 60; i++) {
      const mask = seg.masks.subarray(i * S * S, (i + 1) * S * S);
      expect(mask.includes(1 + labels[i])).toBe(true);
    }
  });

  it('is seeded', () => {
    const again = segmentation(source, { size: S, maxDigits: 3, seed: 5 });
    expect(bytesOf(again.inputs).equals(bytesOf(seg.inputs))).toBe(true);
    expect(bytesOf(again.masks).equals(bytesOf(seg.masks))).toBe(true);
    const other = segmentation(source, { size: S, maxDigits: 3, seed: 6 });
    expect(bytesOf(other.masks).equals(bytesOf(seg.masks))).toBe(false);
  });

  it('rejects a canvas smaller than the digits', () => {
    expect(() => segmentation(source, { size: 5, maxDigits: 1, seed: 0 })).toThrow(/canvas size 5/);
  });
});

describe('detection canvases', () => {
  it('one object: the box is the tight box of the digit’s nonzero pixels', () => {
    const det = detection(source, { size: S, maxObjects: 1, seed: 2 });
    expect(det.kind).toBe('detection');
    let wrong = 0;
    expect(det.boxes.length).toBe(60 * 4);
    for (let i = 0; i < 60; i++) {
      expect(det.classes[i]).toBe(labels[i]);
      const [x0, y0, x1, y1] = Array.from(det.boxes.subarray(i * 4, i * 4 + 4), (v) => Math.round(v * S));
      // the block is 3 wide and class+1 high
      expect(x1 - x0).toBe(3);
      expect(y1 - y0).toBe(labels[i] + 1);
      for (let r = 0; r < S; r++) {
        for (let c = 0; c < S; c++) {
          const inside = r >= y0 && r < y1 && c >= x0 && c < x1;
          if ((det.inputs[i * S * S + r * S + c] !== 0) !== inside) wrong++;
        }
      }
    }
    expect(wrong).toBe(0);
  });

  it('several objects: filled slots first, left to right, every nonzero pixel in a box', () => {
    const det = detection(source, { size: S, maxObjects: 3, seed: 9 });
    let counted = 0;
    let wrong = 0;
    for (let i = 0; i < 60; i++) {
      const cls = Array.from(det.classes.subarray(i * 3, i * 3 + 3));
      const filled = cls.filter((c) => c >= 0).length;
      counted += filled;
      expect(cls.slice(filled).every((c) => c === -1)).toBe(true);
      expect(cls[0]).toBeGreaterThanOrEqual(0);
      const boxes = Array.from({ length: filled }, (_, k) => Array.from(det.boxes.subarray((i * 3 + k) * 4, (i * 3 + k) * 4 + 4), (v) => Math.round(v * S)));
      for (let k = 1; k < filled; k++) expect(boxes[k][0]).toBeGreaterThanOrEqual(boxes[k - 1][0]);
      boxes.forEach((b, k) => expect(b[3] - b[1]).toBe(cls[k] + 1));
      for (let k = filled; k < 3; k++) expect(Array.from(det.boxes.subarray((i * 3 + k) * 4, (i * 3 + k) * 4 + 4))).toEqual([0, 0, 0, 0]);
      for (let r = 0; r < S; r++) {
        for (let c = 0; c < S; c++) {
          const inBox = boxes.some(([x0, y0, x1, y1]) => r >= y0 && r < y1 && c >= x0 && c < x1);
          if ((det.inputs[i * S * S + r * S + c] !== 0) !== inBox) wrong++;
        }
      }
    }
    expect(wrong).toBe(0);
    expect(counted).toBeGreaterThan(90);
  });
});
