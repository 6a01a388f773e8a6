/** Gemm and MatMul (numpy matmul semantics, with broadcast batch dimensions). */
import * as tf from '@tensorflow/tfjs-core';
import { floatAttr, intAttr } from '../../../graph/ir.js';
import { type OpContext, type OpKernel, product } from './types.js';

const gemm: OpKernel = (ctx) => {
  const a = ctx.input(0);
  const b = ctx.input(1);
  if (a.rank !== 2 || b.rank !== 2) ctx.fail(`A and B must be 2-D, got [${a.shape.join(',')}] and [${b.shape.join(',')}]`);
  const alpha = floatAttr(ctx.node, 'alpha', 1);
  const beta = floatAttr(ctx.node, 'beta', 1);
  let y = tf.matMul(a, b, intAttr(ctx.node, 'transA', 0) !== 0, intAttr(ctx.node, 'transB', 0) !== 0);
  if (alpha !== 1) y = tf.mul(y, alpha);
  const c = ctx.optional(2);
  if (c && beta !== 0) y = tf.add(y, beta === 1 ? c : tf.mul(c, beta));
  return y;
};

function broadcastShapes(ctx: OpContext, a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) ctx.fail(`batch dimensions [${a.join(',')}] and [${b.join(',')}] do not broadcast`);
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** a [..., M, K] @ b [..., K, N], both of rank >= 2. */
function batchedMatMul(ctx: OpContext, a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const [m, k] = a.shape.slice(-2);
  const [k2, n] = b.shape.slice(-2);
  if (k !== k2) ctx.fail(`inner dimensions differ: [${a.shape.join(',')}] @ [${b.shape.join(',')}]`);
  const aBatch = a.shape.slice(0, -2);
  const bBatch = b.shape.slice(0, -2);
  if (bBatch.every((d) => d === 1)) {
    // Fold A's batch into rows: one 2-D product, the fast path of every backend.
    const y = tf.matMul(tf.reshape(a, [product(aBatch) * m, k]), tf.reshape(b, [k, n]));
    return tf.reshape(y, [...broadcastShapes(ctx, aBatch, bBatch), m, n]);
  }
  const batch = broadcastShapes(ctx, aBatch, bBatch);
  const size = product(batch);
  const a3 = tf.reshape(sameShape(aBatch, batch) ? a : tf.broadcastTo(a, [...batch, m, k]), [size, m, k]);
  const b3 = tf.reshape(sameShape(bBatch, batch) ? b : tf.broadcastTo(b, [...batch, k, n]), [size, k, n]);
  return tf.reshape(tf.matMul(a3, b3), [...batch, m, n]);
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

const matMul: OpKernel = (ctx) => {
  const a = ctx.input(0);
  const b = ctx.input(1);
  if (a.rank === 0 || b.rank === 0) ctx.fail('inputs must have rank >= 1');
  // numpy: a 1-D operand gains a unit dimension that is dropped from the result.
  const a2 = a.rank === 1 ? tf.reshape(a, [1, a.shape[0]]) : a;
  const b2 = b.rank === 1 ? tf.reshape(b, [b.shape[0], 1]) : b;
  const y = batchedMatMul(ctx, a2, b2);
  const shape = y.shape.slice();
  if (b.rank === 1) shape.splice(-1, 1);
  if (a.rank === 1) shape.splice(-2 + (b.rank === 1 ? 1 : 0), 1);
  return shape.length === y.rank ? y : tf.reshape(y, shape);
};

export const LINEAR_OPS = { Gemm: gemm, MatMul: matMul } satisfies Record<string, OpKernel>;
