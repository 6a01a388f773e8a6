/**
 * A seeded sparse random projection of unit vectors to a few dimensions (a count sketch with a
 * few hashes per coordinate): each coordinate is added, with a random sign, to `hashes` random
 * output dimensions, scaled by 1 / sqrt(hashes). Inner products are preserved in expectation with
 * an error of about |x| |y| / sqrt(dim); it costs hashes * n * length additions, where a dense
 * Gaussian projection would cost dim * n * length multiply-adds.
 */
import { Rng } from '../../base/random.js';

export interface SketchSpec {
  dim: number;
  /** Output dimension of each (hash, coordinate). */
  bucket: Uint16Array;
  /** +-1 / sqrt(hashes) for each (hash, coordinate). */
  sign: Float32Array;
  hashes: number;
  length: number;
}

export function sketchSpec(length: number, dim: number, seed: number, hashes = 2): SketchSpec {
  if (dim > 65536) throw new RangeError(`sketch dimension ${dim} over 65536`);
  const rng = new Rng(seed);
  const bucket = new Uint16Array(hashes * length);
  const sign = new Float32Array(hashes * length);
  const scale = 1 / Math.sqrt(hashes);
  for (let k = 0; k < bucket.length; k++) {
    bucket[k] = rng.int(dim);
    sign[k] = rng.next() < 0.5 ? -scale : scale;
  }
  return { dim, bucket, sign, hashes, length };
}

/** The sketches of the n rows of `f` (n x spec.length, row-major): n x spec.dim, row-major. */
export function sketchRows(f: Float32Array, n: number, spec: SketchSpec): Float32Array {
  const { dim, bucket, sign, hashes, length } = spec;
  const out = new Float32Array(n * dim);
  const acc = new Float64Array(dim);
  for (let i = 0; i < n; i++) {
    acc.fill(0);
    const row = i * length;
    for (let h = 0; h < hashes; h++) {
      const off = h * length;
      for (let c = 0; c < length; c++) acc[bucket[off + c]] += sign[off + c] * f[row + c];
    }
    out.set(acc, i * dim);
  }
  return out;
}

/** Each row scaled to unit length (zero rows stay zero): sketch cosines rank candidates without favouring large units. */
export function normalisedRows(s: Float32Array, n: number, dim: number): Float32Array {
  const out = new Float32Array(s.length);
  for (let i = 0; i < n; i++) {
    let sq = 0;
    for (let k = 0; k < dim; k++) sq += s[i * dim + k] ** 2;
    const inv = sq > 0 ? 1 / Math.sqrt(sq) : 0;
    for (let k = 0; k < dim; k++) out[i * dim + k] = s[i * dim + k] * inv;
  }
  return out;
}
