/**
 * Which assignment solves a group: exact (hungarian.ts) on exact scores when the group is small,
 * the sketched approximation (approximate.ts) otherwise.
 */
import { approximateAssignment } from './approximate.js';
import { maxAssignment } from './hungarian.js';
import { EXACT_WORK_LIMIT, denseScores } from './scores.js';
import { sketchRows, sketchSpec } from './sketch.js';

/** Units up to which a group is solved exactly, when its scores are affordable (EXACT_WORK_LIMIT). */
export const EXACT_UNITS = 1024;

/** Sketch dimensions for the scores of few, long units (attention heads of a large model). */
const HEAD_SKETCH_DIM = 1024;

/** perm[i] = b's unit matched to a's unit i, maximising the summed inner product of matched units (rows of fa, fb). */
export function assignUnits(fa: Float32Array, fb: Float32Array, n: number, length: number, seed: number): Int32Array {
  if (n <= EXACT_UNITS && n * n * length <= EXACT_WORK_LIMIT) return maxAssignment(denseScores(fa, fb, n, length), n);
  return approximateAssignment(fa, fb, n, length, { seed });
}

/**
 * All n x n scores of a few units (attention heads): exact when affordable, otherwise inner
 * products of 1024-dimensional sketches, whose error (about |x| |y| / 32) is small against the
 * score of a matched head.
 */
export function unitScores(fa: Float32Array, fb: Float32Array, n: number, length: number, seed: number): Float64Array {
  if (n * n * length <= EXACT_WORK_LIMIT) return denseScores(fa, fb, n, length);
  const spec = sketchSpec(length, HEAD_SKETCH_DIM, seed);
  return denseScores(sketchRows(fa, n, spec), sketchRows(fb, n, spec), n, HEAD_SKETCH_DIM);
}
