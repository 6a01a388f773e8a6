/** Constant: its value is converted once per graph and kept. */
import * as tf from '@tensorflow/tfjs-core';
import { toTf } from '../convert.js';
import type { OpContext, OpKernel } from './types.js';

function constantValue(ctx: OpContext): tf.Tensor {
  const attributes = ctx.node.attributes;
  const names = Object.keys(attributes);
  if (names.length !== 1) ctx.fail(`expected exactly one value attribute, got ${names.length ? names.join(', ') : 'none'}`);
  const a = attributes[names[0]];
  switch (names[0]) {
    case 'value':
      if (a.type === 'tensor') return toTf(a.value);
      break;
    case 'value_float':
      if (a.type === 'float' || a.type === 'int') return tf.scalar(a.value, 'float32');
      break;
    case 'value_floats':
      if (a.type === 'floats' || a.type === 'ints') return tf.tensor1d(a.value, 'float32');
      break;
    case 'value_int':
      if (a.type === 'int') return tf.scalar(a.value, 'int32');
      break;
    case 'value_ints':
      if (a.type === 'ints') return tf.tensor1d(a.value, 'int32');
      break;
    default:
      return ctx.fail(`value attribute ${names[0]} is not supported`);
  }
  return ctx.fail(`attribute ${names[0]} has the wrong type (${a.type})`);
}

const constant: OpKernel = (ctx) => ctx.constant(`Constant:${ctx.node.name}`, () => constantValue(ctx));

export const CONSTANT_OPS = { Constant: constant } satisfies Record<string, OpKernel>;
