/**
 * Gradients of element-wise binary kernels (ported from tfjs-core 4.22). Fix: Maximum, Minimum and
 * SquaredDifference now also sum over broadcast axes (tfjs returned the broadcast shape).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { GradConfig, Tensor } from '@tensorflow/tfjs-core';
import { float, gradient, unbroadcast, zeroGrads } from './grad-util.js';
import type { InputGrads } from './grad-util.js';

/** Gradients dy * da and dy * db, each summed back to its input's shape. */
function broadcasting(
  kernelName: string,
  outputSaved: boolean,
  partials: (dy: Tensor, a: Tensor, b: Tensor, y: Tensor | undefined) => { a: () => Tensor; b: () => Tensor },
): GradConfig {
  const saves = outputSaved ? { inputs: ['a', 'b'], outputs: [true] } : { inputs: ['a', 'b'] };
  return gradient(kernelName, saves, (dy, [a, b, y]): InputGrads => {
    const p = partials(dy, a, b, y);
    return { a: () => unbroadcast(p.a(), a.shape), b: () => unbroadcast(p.b(), b.shape) };
  });
}

/** a / b: the b side divides by b^2 after the reduction, as tfjs does. */
function quotient(kernelName: string): GradConfig {
  return gradient(kernelName, { inputs: ['a', 'b'] }, (dy, [a, b]) => ({
    a: () => unbroadcast(tf.div(dy, float(b)), a.shape),
    b: () => tf.neg(tf.div(unbroadcast(tf.mul(dy, float(a)), b.shape), float(tf.square(b)))),
  }));
}

export const binaryGradients: GradConfig[] = [
  broadcasting('Add', false, (dy) => ({ a: () => dy, b: () => dy })),
  broadcasting('Sub', false, (dy) => ({ a: () => dy, b: () => tf.neg(dy) })),
  broadcasting('Multiply', false, (dy, a, b) => ({ a: () => tf.mul(dy, float(b)), b: () => tf.mul(dy, float(a)) })),
  quotient('RealDiv'),
  quotient('FloorDiv'),
  broadcasting('Mod', false, (dy, a, b) => ({ a: () => dy, b: () => tf.mul(dy, tf.neg(tf.floor(tf.div(a, b)))) })),
  broadcasting('Pow', true, (dy, a, b, y) => ({
    a: () => {
      const exponent = float(b);
      return tf.mul(dy, tf.mul(exponent, tf.pow(a, tf.sub(exponent, 1))));
    },
    b: () => tf.mul(dy, tf.mul(y as Tensor, tf.where(tf.greater(a, 0), tf.log(a), tf.zerosLike(a)))),
  })),
  broadcasting('Maximum', false, (dy, a, b) => ({
    a: () => tf.mul(dy, float(tf.greaterEqual(a, b))),
    b: () => tf.mul(dy, float(tf.less(a, b))),
  })),
  broadcasting('Minimum', false, (dy, a, b) => ({
    a: () => tf.mul(dy, float(tf.lessEqual(a, b))),
    b: () => tf.mul(dy, float(tf.greater(a, b))),
  })),
  broadcasting('SquaredDifference', false, (dy, a, b) => ({
    a: () => tf.mul(dy, tf.mul(2, tf.sub(a, b))),
    b: () => tf.mul(dy, tf.mul(2, tf.sub(b, a))),
  })),
  broadcasting('Atan2', false, (dy, a, b) => {
    const denominator = (): Tensor => tf.add(tf.square(a), tf.square(b));
    return { a: () => tf.mul(dy, tf.div(b, denominator())), b: () => tf.neg(tf.mul(dy, tf.div(a, denominator()))) };
  }),
  gradient('Prelu', { inputs: ['x', 'alpha'] }, (dy, [x, alpha]) => {
    const positive = (): Tensor => tf.greater(x, 0);
    return {
      x: () => tf.where(positive(), dy, tf.mul(dy, alpha)),
      alpha: () => unbroadcast(tf.where(positive(), tf.zerosLike(dy), tf.mul(dy, x)), alpha.shape),
    };
  }),
  gradient('AddN', { allInputs: true }, (dy, saved) => {
    const grads: InputGrads = {};
    saved.forEach((_, i) => (grads[String(i)] = () => dy.clone()));
    return grads;
  }),
  gradient('Select', { inputs: ['condition'] }, (dy, [condition]) => ({
    condition: () => float(tf.zerosLike(condition)),
    t: () => tf.mul(dy, tf.cast(condition, dy.dtype)),
    e: () => tf.mul(dy, tf.cast(tf.logicalNot(condition), dy.dtype)),
  })),
  // Comparisons and logic have zero gradient; registering it lets a path through them (e.g. a
  // where(x > 0, ...) relu) be differentiated instead of failing with "gradient not found".
  ...['Greater', 'GreaterEqual', 'Less', 'LessEqual', 'Equal', 'NotEqual', 'LogicalAnd', 'LogicalOr'].map((name) =>
    gradient(name, { inputs: ['a', 'b'] }, zeroGrads('a', 'b')),
  ),
];
