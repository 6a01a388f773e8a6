/**
 * BatchMatMul for backends whose kernel is fast only for one untransposed 2-D product
 * (tfjs-backend-wasm 4.22: ~18 GFLOP/s there, 0.5-1.8 GFLOP/s when transposed or batched).
 *
 * Transposes are made explicit (a Transpose kernel is a cheap copy), and batches are folded into
 * rows when one side has a single matrix: [B*M,K]x[K,N] when b is shared, and (B^T rows) x A^T
 * when a is shared. When both sides are batched, each output matrix is one 2-D product (broadcast
 * batch dims mapped exactly, numpy-style). Tiny batched products stay on the original kernel, whose
 * per-call cost is lower.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { BackendKernels, withScratch } from './backend-kernels.js';
import { stackBlocks, takeBlock } from './row-blocks.js';

/** Below this M*K*N a per-matrix loop of 2-D products costs more than the original batched kernel. */
const SMALL_PRODUCT = 1 << 17;

export function batchMatMulConfig(backendName: string, original: KernelFunc): KernelConfig {
  const kernelFunc: KernelFunc = (args) => {
    const { inputs, backend, attrs = {} } = args;
    const { a, b } = inputs as { a: TensorInfo; b: TensorInfo };
    const transposeA = attrs['transposeA'] === true;
    const transposeB = attrs['transposeB'] === true;
    if (a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length < 2 || b.shape.length < 2) {
      return original(args);
    }
    const ra = a.shape.length;
    const rb = b.shape.length;
    const m = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
    const inner = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
    const innerB = transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
    const n = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
    if (inner !== innerB) {
      throw new Error(
        `matMul: inner dimensions ${inner} and ${innerB} differ (shapes [${a.shape}] and [${b.shape}], ` +
          `transposeA=${transposeA}, transposeB=${transposeB})`,
      );
    }
    const outerA = a.shape.slice(0, -2);
    const outerB = b.shape.slice(0, -2);
    const outBatch = tf.broadcast_util.assertAndGetBroadcastShape(outerA, outerB);
    const batchA = product(outerA);
    const batchB = product(outerB);
    const batch = product(outBatch);
    const outShape = [...outBatch, m, n];
    if (batch * m * n * inner === 0) return original(args);
    if (batchA > 1 && batchB > 1 && batchA === batch && batchB === batch && m * inner * n < SMALL_PRODUCT) {
      return original(args);
    }

    const k = new BackendKernels(backend, backendName);
    const matMul2d = (x: TensorInfo, y: TensorInfo): TensorInfo => k.runFunc(original, { a: x, b: y }, { transposeA: false, transposeB: false });
    // [batch, rows, cols] view of an operand whose last two axes are (cols, rows) when transposed.
    const natural = (t: TensorInfo, transposed: boolean, count: number, rows: number, cols: number, keep: Keep) =>
      transposed ? keep(k.transpose(keep(k.reshape(t, [count, cols, rows])), [0, 2, 1])) : keep(k.reshape(t, [count, rows, cols]));

    return withScratch(k, (keep) => {
      if (batchB === 1) {
        const rowsA = keep(k.reshape(natural(a, transposeA, batchA, m, inner, keep), [batchA * m, inner]));
        const matB = keep(k.reshape(natural(b, transposeB, 1, inner, n, keep), [inner, n]));
        return k.reshape(keep(matMul2d(rowsA, matB)), outShape);
      }
      if (batchA === 1) {
        // out[i]^T = B[i]^T A^T, so B^T's rows of every batch go through one product.
        const rowsBt = keep(k.reshape(natural(b, !transposeB, batchB, n, inner, keep), [batchB * n, inner]));
        const matAt = keep(k.reshape(natural(a, !transposeA, 1, inner, m, keep), [inner, m]));
        const outT = keep(k.reshape(keep(matMul2d(rowsBt, matAt)), [batchB, n, m]));
        return k.reshape(keep(k.transpose(outT, [0, 2, 1])), outShape);
      }
      const matsA = natural(a, transposeA, batchA, m, inner, keep);
      const matsB = natural(b, transposeB, batchB, inner, n, keep);
      const indexA = broadcastIndex(outerA, outBatch);
      const indexB = broadcastIndex(outerB, outBatch);
      const products: TensorInfo[] = [];
      try {
        for (let i = 0; i < batch; i++) {
          const matA = takeBlock(k, matsA, indexA(i) * m * inner, [m, inner]);
          const matB = takeBlock(k, matsB, indexB(i) * inner * n, [inner, n]);
          try {
            products.push(matMul2d(matA, matB));
          } finally {
            k.release(matA, matB);
          }
        }
        return stackBlocks(k, products, outShape, 'float32');
      } finally {
        k.release(...products);
      }
    });
  };
  return { kernelName: 'BatchMatMul', backendName, kernelFunc };
}

type Keep = (t: TensorInfo) => TensorInfo;

function product(shape: readonly number[]): number {
  return shape.reduce((p, d) => p * d, 1);
}

/** Maps a flat index over the broadcast batch shape to the flat batch index of one operand. */
export function broadcastIndex(operand: readonly number[], out: readonly number[]): (i: number) => number {
  const padded = [...new Array<number>(out.length - operand.length).fill(1), ...operand];
  const strides = new Array<number>(out.length).fill(0);
  let stride = 1;
  for (let axis = out.length - 1; axis >= 0; axis--) {
    strides[axis] = padded[axis] === 1 ? 0 : stride;
    stride *= padded[axis];
  }
  return (i: number) => {
    let rest = i;
    let index = 0;
    for (let axis = out.length - 1; axis >= 0; axis--) {
      const coord = rest % out[axis];
      rest = (rest - coord) / out[axis];
      index += coord * strides[axis];
    }
    return index;
  };
}
