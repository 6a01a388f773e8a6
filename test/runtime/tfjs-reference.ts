/**
 * Shared helpers for the tfjs tests: seeded inputs, running one computation on a chosen backend,
 * tolerance checks, finite differences and small independent reference implementations.
 */
import { expect } from 'vitest';
import type { Tensor } from '@tensorflow/tfjs-core';
import { initTfjs } from '../../src/runtime/tfjs/backend.js';
import type { Tfjs, TfjsBackendName } from '../../src/runtime/tfjs/backend.js';

/**
 * Both backends loaded, wasm active. `leakChecks` sets tfjs's IS_TEST flag: every kernel call then
 * fails if it leaves backend data behind (it also mutes tfjs's Node banners).
 */
export async function loadBoth(leakChecks = true): Promise<Tfjs> {
  const tf = await initTfjs('cpu');
  tf.env().set('IS_TEST', true);
  tf.tensor([0]).dispose(); // the cpu backend's first write prints a banner unless IS_TEST
  await initTfjs('wasm');
  tf.env().set('IS_TEST', leakChecks);
  return tf;
}

/** Uniform values in [-1, 1) from a seeded mulberry32 generator. */
export function seeded(seed: number, size: number): Float32Array {
  let state = seed >>> 0;
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) / 2 ** 31 - 1;
  }
  return out;
}

export function size(shape: readonly number[]): number {
  return shape.reduce((p, d) => p * d, 1);
}

/** Runs `fn` on `backend` and copies every resulting tensor out. */
export async function on(backend: TfjsBackendName, fn: (tf: Tfjs) => Tensor | Tensor[]): Promise<Float32Array[]> {
  const tf = await initTfjs(backend);
  const before = tf.memory().numTensors;
  const out = tf.tidy(() => {
    const result = fn(tf);
    return (Array.isArray(result) ? result : [result]).map((t) => Float32Array.from(t.dataSync()));
  });
  expect(tf.memory().numTensors, 'tensors leaked').toBe(before);
  return out;
}

/** max |a - b| <= rel * max(1, max |b|). */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rel = 1e-4, what = ''): void {
  expect(actual.length, `${what} length`).toBe(expected.length);
  let scale = 1;
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    scale = Math.max(scale, Math.abs(expected[i]));
    const diff = Math.abs(actual[i] - expected[i]);
    worst = Number.isNaN(diff) ? Infinity : Math.max(worst, diff);
  }
  expect(worst, `${what} max abs diff ${worst} vs scale ${scale}`).toBeLessThanOrEqual(rel * scale);
}

/**
 * Central finite difference of a scalar function along a random direction v, compared with
 * <grad, v>: one check per input covers every coordinate at once.
 */
export async function expectDirectionalDerivative(
  backend: TfjsBackendName,
  shapes: number[][],
  loss: (tf: Tfjs, inputs: Tensor[]) => Tensor,
  seed: number,
  eps = 1e-2,
  rel = 1e-2,
): Promise<void> {
  const values = shapes.map((s, i) => seeded(seed + i, size(s)));
  const grads = await on(backend, (tf) => {
    const inputs = values.map((v, i) => tf.tensor(v, shapes[i]));
    return tf.grads((...xs: Tensor[]) => loss(tf, xs))(inputs);
  });
  for (let which = 0; which < shapes.length; which++) {
    const direction = seeded(seed + 100 + which, size(shapes[which]));
    const shifted = (sign: number) => values.map((v, i) => (i === which ? v.map((x, j) => x + sign * eps * direction[j]) : v));
    const [plus, minus] = await on(backend, (tf) =>
      [shifted(1), shifted(-1)].map((vs) =>
        loss(
          tf,
          vs.map((v, i) => tf.tensor(v, shapes[i])),
        ),
      ),
    );
    const numeric = (plus[0] - minus[0]) / (2 * eps);
    const analytic = grads[which].reduce((acc, g, j) => acc + g * direction[j], 0);
    expect(Math.abs(numeric - analytic), `input ${which}: numeric ${numeric}, analytic ${analytic}`).toBeLessThanOrEqual(rel * Math.max(1, Math.abs(numeric)));
  }
}

/** out = a @ b over broadcast batch axes (numpy semantics), optionally transposing the last two axes. */
export function referenceMatMul(
  a: Float32Array,
  aShape: number[],
  b: Float32Array,
  bShape: number[],
  transposeA: boolean,
  transposeB: boolean,
): { values: Float32Array; shape: number[] } {
  const ra = aShape.length;
  const rb = bShape.length;
  const m = transposeA ? aShape[ra - 1] : aShape[ra - 2];
  const k = transposeA ? aShape[ra - 2] : aShape[ra - 1];
  const n = transposeB ? bShape[rb - 2] : bShape[rb - 1];
  const outerA = aShape.slice(0, -2);
  const outerB = bShape.slice(0, -2);
  const rank = Math.max(outerA.length, outerB.length);
  const padA = [...new Array<number>(rank - outerA.length).fill(1), ...outerA];
  const padB = [...new Array<number>(rank - outerB.length).fill(1), ...outerB];
  const outer = padA.map((d, i) => Math.max(d, padB[i]));
  const values = new Float32Array(size(outer) * m * n);
  for (let batch = 0; batch < size(outer); batch++) {
    let rest = batch;
    let ia = 0;
    let ib = 0;
    let strideA = 1;
    let strideB = 1;
    for (let axis = rank - 1; axis >= 0; axis--) {
      const coord = rest % outer[axis];
      rest = Math.floor(rest / outer[axis]);
      ia += (padA[axis] === 1 ? 0 : coord) * strideA;
      ib += (padB[axis] === 1 ? 0 : coord) * strideB;
      strideA *= padA[axis];
      strideB *= padB[axis];
    }
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let acc = 0;
        for (let p = 0; p < k; p++) {
          const av = transposeA ? a[ia * m * k + p * m + i] : a[ia * m * k + i * k + p];
          const bv = transposeB ? b[ib * k * n + j * k + p] : b[ib * k * n + p * n + j];
          acc += av * bv;
        }
        values[batch * m * n + i * n + j] = acc;
      }
    }
  }
  return { values, shape: [...outer, m, n] };
}

/** A [KH,KW,...] filter with (d-1) zeros between taps: a dilated conv equals a plain one with it. */
export function zeroInsertFilter(filter: Float32Array, shape: number[], dh: number, dw: number): { values: Float32Array; shape: number[] } {
  const [kh, kw, ...rest] = shape;
  const inner = size(rest);
  const outShape = [dh * (kh - 1) + 1, dw * (kw - 1) + 1, ...rest];
  const values = new Float32Array(size(outShape));
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const src = (i * kw + j) * inner;
      const dst = (i * dh * outShape[1] + j * dw) * inner;
      values.set(filter.subarray(src, src + inner), dst);
    }
  }
  return { values, shape: outShape };
}

/** The taps of a zero-inserted filter's gradient that belong to the real filter. */
export function subsampleFilter(grad: Float32Array, dilatedShape: number[], dh: number, dw: number): Float32Array {
  const [kh, kw, ...rest] = dilatedShape;
  const inner = size(rest);
  const outH = (kh - 1) / dh + 1;
  const outW = (kw - 1) / dw + 1;
  const out = new Float32Array(outH * outW * inner);
  for (let i = 0; i < outH; i++) {
    for (let j = 0; j < outW; j++) {
      const src = (i * dh * kw + j * dw) * inner;
      out.set(grad.subarray(src, src + inner), (i * outW + j) * inner);
    }
  }
  return out;
}
