/** Element-wise ops (Cast, Identity and Dropout included). They work in whatever layout their input is held, so channels-last chains stay so. */
import * as tf from '@tensorflow/tfjs-core';
import { intAttr, stringAttr } from '../../../graph/ir.js';
import { ChannelsLast, type OpContext, type OpKernel, type OpOutput, TO_NHWC } from './types.js';

function unary(fn: (x: tf.Tensor, ctx: OpContext) => tf.Tensor): OpKernel {
  return (ctx) => {
    if (ctx.isChannelsLast(0)) return new ChannelsLast(fn(ctx.channelsLast(0), ctx) as tf.Tensor4D);
    return fn(ctx.input(0), ctx);
  };
}

const SQRT_2 = Math.SQRT2;
const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

function gelu(x: tf.Tensor, ctx: OpContext): tf.Tensor {
  const approximate = stringAttr(ctx.node, 'approximate', 'none');
  if (approximate === 'none') return tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.div(x, SQRT_2)), 1));
  if (approximate === 'tanh') {
    const inner = tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), SQRT_2_OVER_PI);
    return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1));
  }
  return ctx.fail(`approximate='${approximate}' is not one of none, tanh`);
}

/** ONNX TensorProto.DataType codes by the tfjs dtype that holds them. */
const CAST_TARGETS: Record<number, tf.DataType> = {
  1: 'float32', // FLOAT
  10: 'float32', // FLOAT16
  11: 'float32', // DOUBLE
  16: 'float32', // BFLOAT16
  2: 'int32', // UINT8
  3: 'int32', // INT8
  4: 'int32', // UINT16
  5: 'int32', // INT16
  6: 'int32', // INT32
  7: 'int32', // INT64
  12: 'int32', // UINT32
  13: 'int32', // UINT64
  9: 'bool', // BOOL
};

function cast(x: tf.Tensor, ctx: OpContext): tf.Tensor {
  const to = intAttr(ctx.node, 'to', -1);
  const dtype = CAST_TARGETS[to];
  if (!dtype) return ctx.fail(`cannot cast to ONNX data type ${to}`);
  if (x.dtype === dtype) return tf.clone(x);
  // tfjs-backend-wasm casts to bool by truncating to a byte (-2 -> 254, 0.5 -> 0): compare instead.
  if (dtype === 'bool') return tf.notEqual(x, tf.scalar(0, x.dtype));
  // tfjs casts float -> int by truncation toward zero, as ONNX does.
  return tf.cast(x, dtype);
}

/** Identity also serves Dropout (inference: no-op); a clone keeps the value's lifetime its own. */
const identity = unary((x) => tf.clone(x));

const dropout: OpKernel = (ctx) => {
  const y = identity(ctx) as OpOutput;
  if (ctx.node.outputs.length < 2 || !ctx.node.outputs[1]) return y;
  const mask = ctx.constant(`dropout-mask:${ctx.shape(0).join(',')}`, () => tf.ones(ctx.shape(0), 'bool'));
  return [y, mask];
};

/** Integer Div truncates toward zero in ONNX; tfjs floors. Exact below 2^24, plenty for shapes. */
function truncatingDiv(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const q = tf.div(tf.cast(a, 'float32'), tf.cast(b, 'float32'));
  return tf.cast(tf.mul(tf.sign(q), tf.floor(tf.abs(q))), 'int32');
}

function pow(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  return tf.pow(a, b.dtype === a.dtype ? b : tf.cast(b, a.dtype));
}

type BinaryFn = (a: tf.Tensor, b: tf.Tensor) => tf.Tensor;

/** An operand of rank <= 4 as the NHWC counterpart of its right-aligned NCHW broadcast. */
function operandChannelsLast(ctx: OpContext, index: number): tf.Tensor {
  const shape = ctx.shape(index);
  if (shape.length === 4) return ctx.channelsLast(index);
  const x = ctx.input(index);
  // A single value broadcasts the same in either layout.
  if (x.size === 1) return x;
  const padded = [...Array<number>(4 - shape.length).fill(1), ...shape];
  return tf.transpose(tf.reshape(x, padded), TO_NHWC);
}

function binary(fn: BinaryFn): OpKernel {
  return (ctx) => {
    const ranks = [ctx.shape(0).length, ctx.shape(1).length];
    const channelsLast = (ctx.isChannelsLast(0) || ctx.isChannelsLast(1)) && Math.max(...ranks) === 4;
    if (channelsLast) return new ChannelsLast(fn(operandChannelsLast(ctx, 0), operandChannelsLast(ctx, 1)) as tf.Tensor4D);
    return fn(ctx.input(0), ctx.input(1));
  };
}

export const ELEMENTWISE_OPS = {
  Add: binary((a, b) => tf.add(a, b)),
  Sub: binary((a, b) => tf.sub(a, b)),
  Mul: binary((a, b) => tf.mul(a, b)),
  Div: binary((a, b) => (a.dtype === 'int32' && b.dtype === 'int32' ? truncatingDiv(a, b) : tf.div(a, b))),
  Pow: binary(pow),
  Relu: unary((x) => tf.relu(x)),
  Gelu: unary(gelu),
  Erf: unary((x) => tf.erf(x)),
  Sigmoid: unary((x) => tf.sigmoid(x)),
  Tanh: unary((x) => tf.tanh(x)),
  Sqrt: unary((x) => tf.sqrt(x)),
  Exp: unary((x) => tf.exp(x)),
  Neg: unary((x) => tf.neg(x)),
  Cast: unary(cast),
  Identity: identity,
  Dropout: dropout,
} satisfies Record<string, OpKernel>;
