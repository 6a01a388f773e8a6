/** Helpers shared by the architecture builders: key scanning, validation, input shapes. */
import { FormatError } from '../formats/errors.js';
import { type Weights, asFloat32 } from '../tensor.js';
import type { BuildOptions, StateTensorSpec } from './types.js';

export function sourceOf(options: { source?: string }): string {
  return options.source ?? 'weights';
}

/**
 * The sorted indices N for which some key starts with `${prefix}N.`, checked to run 0..n-1 so a
 * missing block is reported rather than silently skipped.
 */
export function moduleIndices(weights: Weights, prefix: string, source: string): number[] {
  const found = new Set<number>();
  for (const key of weights.keys()) {
    if (!key.startsWith(prefix)) continue;
    const m = /^(\d+)\./.exec(key.slice(prefix.length));
    if (m) found.add(Number(m[1]));
  }
  const sorted = [...found].sort((a, b) => a - b);
  sorted.forEach((n, i) => {
    if (n !== i) throw new FormatError(source, `module ${prefix}${i} is missing (found ${prefix}${n})`);
  });
  return sorted;
}

export function shapeText(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

function listSome(names: readonly string[], max = 6): string {
  const shown = names.slice(0, max).join(', ');
  return names.length > max ? `${shown}, ... (${names.length} in all)` : shown;
}

/**
 * Checks that the weights hold exactly the parameters of `template` with the same shapes, so a
 * state dict that only partly fits an architecture is an error rather than a silently wrong model.
 */
export function checkAgainstTemplate(weights: Weights, template: readonly StateTensorSpec[], label: string, source: string): void {
  const expected = new Map(template.map((p) => [p.name, p]));
  const missing = template.filter((p) => !p.optional && !weights.has(p.name)).map((p) => p.name);
  if (missing.length > 0) throw new FormatError(source, `weights look like ${label} but lack ${listSome(missing)}`);
  const extra = [...weights.keys()].filter((k) => !expected.has(k));
  if (extra.length > 0) throw new FormatError(source, `weights look like ${label} but also hold tensors it does not use: ${listSome(extra)}`);
  for (const [name, t] of weights) {
    const p = expected.get(name) as StateTensorSpec;
    if (p.dtype === 'int64') continue;
    const sameShape = p.shape.length === t.shape.length && p.shape.every((d, i) => d === t.shape[i]);
    if (!sameShape) throw new FormatError(source, `tensor ${name} has shape ${shapeText(t.shape)}, ${label} expects ${shapeText(p.shape)}`);
    if (!['float32', 'float16', 'bfloat16', 'float64'].includes(t.dtype)) {
      throw new FormatError(source, `tensor ${name} has dtype ${t.dtype}, ${label} expects floating-point weights`);
    }
  }
}

/** The weights with every floating tensor in float32 (the graphs compute in float32). */
export function float32Weights(weights: Weights): Weights {
  const out: Weights = new Map();
  for (const [k, t] of weights) {
    const floating = t.dtype === 'float16' || t.dtype === 'bfloat16' || t.dtype === 'float64';
    out.set(k, floating ? asFloat32(t) : t);
  }
  return out;
}

/** Parses metadata `input_shape` such as "1,28,28"; undefined when absent. */
function metadataInputShape(options: BuildOptions, source: string): number[] | undefined {
  const text = options.metadata?.input_shape;
  if (text === undefined) return undefined;
  const dims = text
    .split(/[,x ]+/)
    .filter((s) => s.length > 0)
    .map(Number);
  if (dims.length === 0 || !dims.every((d) => Number.isSafeInteger(d) && d > 0)) {
    throw new FormatError(source, `metadata input_shape '${text}' is not a list of positive integers`);
  }
  return dims;
}

/**
 * The input shape to use: the option, else metadata `input_shape`, else `fallback`; `validate`
 * returns a problem description when the shape cannot feed the architecture.
 */
export function chooseInputShape(options: BuildOptions, fallback: number[], validate: (shape: number[]) => string | undefined): number[] {
  const source = sourceOf(options);
  const shape = options.inputShape ? [...options.inputShape] : (metadataInputShape(options, source) ?? fallback);
  if (!shape.every((d) => Number.isSafeInteger(d) && d > 0)) {
    throw new FormatError(source, `input shape ${shapeText(shape)} must be positive integers`);
  }
  const problem = validate(shape);
  if (problem) throw new FormatError(source, `input shape ${shapeText(shape)} does not fit: ${problem}`);
  return shape;
}

/** The usual image size for a channel count: 28x28 for one channel (MNIST-like), else `rgbSize`. */
export function defaultImageShape(channels: number, rgbSize: number): number[] {
  return channels === 1 ? [1, 28, 28] : [channels, rgbSize, rgbSize];
}

/** A BatchNorm2d's state-dict entries. */
export function batchNormParams(prefix: string, channels: number): StateTensorSpec[] {
  return [
    ...['weight', 'bias', 'running_mean', 'running_var'].map((k) => ({ name: `${prefix}.${k}`, shape: [channels], dtype: 'float32' as const })),
    { name: `${prefix}.num_batches_tracked`, shape: [], dtype: 'int64', optional: true },
  ];
}

export function linearParams(prefix: string, out: number, inFeatures: number, bias = true): StateTensorSpec[] {
  const w: StateTensorSpec = { name: `${prefix}.weight`, shape: [out, inFeatures], dtype: 'float32' };
  return bias ? [w, { name: `${prefix}.bias`, shape: [out], dtype: 'float32' }] : [w];
}

export function shapeOrThrow(weights: Weights, key: string, rank: number, source: string): readonly number[] {
  const t = weights.get(key);
  if (!t) throw new FormatError(source, `missing tensor ${key}`);
  if (t.shape.length !== rank) throw new FormatError(source, `tensor ${key} has shape ${shapeText(t.shape)}, expected rank ${rank}`);
  return t.shape;
}
