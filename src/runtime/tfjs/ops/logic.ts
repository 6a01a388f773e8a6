/** Equal and Where (numpy broadcasting). */
import * as tf from '@tensorflow/tfjs-core';
import type { OpKernel } from './types.js';

const equal: OpKernel = (ctx) => tf.equal(ctx.input(0), ctx.input(1));

const where: OpKernel = (ctx) => {
  const condition = ctx.input(0);
  const flag = condition.dtype === 'bool' ? condition : tf.notEqual(condition, tf.scalar(0, condition.dtype));
  return tf.where(flag, ctx.input(1), ctx.input(2));
};

export const LOGIC_OPS = { Equal: equal, Where: where } satisfies Record<string, OpKernel>;
