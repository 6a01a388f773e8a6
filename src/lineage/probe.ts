import { readNpy } from '../formats/npy.js';
import { asFloat32, type Tensor, makeTensor } from '../tensor.js';
import { InputError } from '../base/errors.js';

/**
 * Rows readProbe keeps when not told (the default of `detect`, `tree` and the benchmark). A learned
 * detector uses the count saved in its file instead (detector/config.ts, 64 by default).
 */
export const DEFAULT_PROBE_ROWS = 1024;

/**
 * The one reader of probe batches: an NCHW (or N x D) floating-point .npy, of which the first
 * `rows` rows are kept. The kept rows must be finite: a NaN or infinite input makes every
 * feature, hence every score, NaN.
 */
export async function readProbe(path: string, rows = DEFAULT_PROBE_ROWS): Promise<Tensor<'float32'>> {
  if (!Number.isInteger(rows) || rows < 1) throw new RangeError(`probe rows must be a positive integer, got ${rows}`);
  const raw = await readNpy(path);
  if (raw.dtype !== 'float32' && raw.dtype !== 'float64' && raw.dtype !== 'float16') {
    throw new InputError(path, `probe must hold floating-point inputs, found ${raw.dtype}`);
  }
  if (raw.shape.length < 2) throw new InputError(path, `probe must be N x C x H x W (or N x D), found shape [${raw.shape.join(',')}]`);
  const t = asFloat32(raw);
  const n = Math.min(rows, t.shape[0]);
  if (n === 0) throw new InputError(path, 'probe has no rows');
  const perRow = t.data.length / t.shape[0];
  const kept = t.data.slice(0, n * perRow);
  const bad = kept.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new InputError(path, `probe array holds NaN or infinite values (row ${Math.floor(bad / perRow)}, value ${kept[bad]})`);
  return makeTensor('float32', [n, ...t.shape.slice(1)], kept);
}
