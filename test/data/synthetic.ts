import type { Dataset } from '../../src/data/types.js';

/** A small classification dataset whose pixel values come from `pixel(example, channel, row, col)`. */
export function syntheticDataset(
  labels: number[],
  shape: [number, number, number],
  pixel: (i: number, ch: number, r: number, c: number) => number,
  numClasses = Math.max(...labels) + 1,
): Dataset {
  const [C, H, W] = shape;
  const inputs = new Float32Array(labels.length * C * H * W);
  let at = 0;
  for (let i = 0; i < labels.length; i++)
    for (let ch = 0; ch < C; ch++) for (let r = 0; r < H; r++) for (let c = 0; c < W; c++) inputs[at++] = pixel(i, ch, r, c);
  return { name: 'synthetic', inputs, shape, labels: Int32Array.from(labels), numClasses, classNames: Array.from({ length: numClasses }, (_, k) => `c${k}`) };
}

/** labels 0..numClasses-1 with `perClass[c]` examples each, interleaved. */
export function labelsWithCounts(perClass: number[]): number[] {
  const out: number[] = [];
  const left = [...perClass];
  while (left.some((n) => n > 0)) left.forEach((n, c) => n > 0 && (out.push(c), (left[c] = n - 1)));
  return out;
}

export function bytesOf(a: Float32Array | Int32Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}
