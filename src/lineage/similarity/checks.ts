import type { FeatureMatrix, MetricParams } from './types.js';

/** Programming errors (wrong sizes, bad parameters) fail loudly instead of giving a wrong score. */
export function checkShape(what: string, matrix: FeatureMatrix, n: number, d: number): void {
  if (!Number.isInteger(n) || n < 1 || !Number.isInteger(d) || d < 1) {
    throw new RangeError(`similarity: N and D must be positive integers, got N=${n}, D=${d}`);
  }
  if (matrix.length !== n * d) {
    throw new RangeError(`similarity: ${what} has ${matrix.length} values, expected N*D = ${n}*${d} = ${n * d}`);
  }
}

export function checkPair(fp: FeatureMatrix, fc: FeatureMatrix, n: number, d: number): void {
  checkShape('parent features', fp, n, d);
  checkShape('child features', fc, n, d);
}

export function checkTriple(fp: FeatureMatrix, fc: FeatureMatrix, tangent: FeatureMatrix, n: number, d: number): void {
  checkPair(fp, fc, n, d);
  checkShape('tangent', tangent, n, d);
}

export const DEFAULT_P = 4;
export const DEFAULT_T = 0.01;

function positiveParam(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v <= 0) {
    throw new RangeError(`similarity: parameter ${name} must be a finite number > 0, got ${v}`);
  }
  return v;
}

export function exponentOf(params: MetricParams | undefined): number {
  return positiveParam('p', params?.p, DEFAULT_P);
}

export function temperatureOf(params: MetricParams | undefined): number {
  return positiveParam('t', params?.t, DEFAULT_T);
}

/**
 * The checks a parameterised metric (lp, lse) starts each call with: the shapes, with the tangent
 * for a directional call, then its parameter read by `param` (exponentOf, temperatureOf).
 */
export function checkedParam(
  param: (params: MetricParams | undefined) => number,
  params: MetricParams | undefined,
  fp: FeatureMatrix,
  fc: FeatureMatrix,
  n: number,
  d: number,
  tangent?: FeatureMatrix,
): number {
  if (tangent) checkTriple(fp, fc, tangent, n, d);
  else checkPair(fp, fc, n, d);
  return param(params);
}
