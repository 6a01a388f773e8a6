/** Gradients of element-wise unary kernels (ported from tfjs-core 4.22). */
import * as tf from '@tensorflow/tfjs-core';
import type { GradConfig, Tensor } from '@tensorflow/tfjs-core';
import { float, gradient, zeroGrads } from './grad-util.js';

// tfjs's constants, to the precision a double holds.
const SELU_SCALE = 1.0507009873554805;
const SELU_SCALEALPHA = 1.7580993408473768;

/** d/dx f(x) = g(x): dy * g(x), with x the saved input. */
function fromInput(kernelName: string, derivative: (x: Tensor) => Tensor): GradConfig {
  return gradient(kernelName, { inputs: ['x'] }, (dy, [x]) => ({ x: () => tf.mul(dy, derivative(float(x))) }));
}

/** d/dx f(x) = g(y): dy * g(y), with y the saved output. */
function fromOutput(kernelName: string, derivative: (y: Tensor) => Tensor): GradConfig {
  return gradient(kernelName, { outputs: [true] }, (dy, [y]) => ({ x: () => tf.mul(dy, derivative(y)) }));
}

const oneMinusSquare = (x: Tensor): Tensor => tf.sub(1, tf.square(x));

export const unaryGradients: GradConfig[] = [
  fromInput('Abs', (x) => tf.step(x, -1)),
  fromInput('Acos', (x) => tf.neg(tf.reciprocal(tf.sqrt(oneMinusSquare(x))))),
  fromInput('Acosh', (x) => tf.reciprocal(tf.sqrt(tf.sub(tf.square(x), 1)))),
  fromInput('Asin', (x) => tf.reciprocal(tf.sqrt(oneMinusSquare(x)))),
  fromInput('Asinh', (x) => tf.reciprocal(tf.sqrt(tf.add(1, tf.square(x))))),
  fromInput('Atan', (x) => tf.reciprocal(tf.add(tf.square(x), 1))),
  fromInput('Atanh', (x) => tf.reciprocal(oneMinusSquare(x))),
  fromInput('Cos', (x) => tf.neg(tf.sin(x))),
  fromInput('Cosh', (x) => tf.sinh(x)),
  fromInput('Sin', (x) => tf.cos(x)),
  fromInput('Sinh', (x) => tf.cosh(x)),
  fromInput('Tan', (x) => tf.reciprocal(tf.square(tf.cos(x)))),
  fromInput('Erf', (x) => tf.mul(tf.exp(tf.neg(tf.square(x))), 2 / Math.sqrt(Math.PI))),
  fromInput('Expm1', (x) => tf.exp(x)),
  fromInput('Log', (x) => tf.reciprocal(x)),
  fromInput('Log1p', (x) => tf.reciprocal(tf.add(x, 1))),
  fromInput('Sqrt', (x) => tf.reciprocal(tf.mul(tf.sqrt(x), 2))),
  fromInput('Rsqrt', (x) => tf.div(-0.5, tf.pow(x, 1.5))),
  fromInput('Square', (x) => tf.mul(x, 2)),
  fromInput('Reciprocal', (x) => tf.neg(tf.reciprocal(tf.square(x)))),
  fromInput('Relu', (x) => tf.step(x)),
  fromInput('Relu6', (x) => tf.mul(tf.cast(tf.lessEqual(x, 6), 'float32'), tf.step(x))),
  fromInput('Softplus', (x) => tf.sigmoid(x)),
  fromInput('Selu', (x) => tf.where(tf.greater(x, 0), tf.fill(x.shape, SELU_SCALE), tf.mul(SELU_SCALEALPHA, tf.exp(x)))),
  fromOutput('Tanh', (y) => oneMinusSquare(y)),
  fromOutput('Sigmoid', (y) => tf.mul(y, tf.sub(1, y))),
  fromOutput('Exp', (y) => y),
  gradient('Neg', {}, (dy) => ({ x: () => tf.neg(dy) })),
  gradient('LeakyRelu', { inputs: ['x'] }, (dy, [x], attrs) => ({
    x: () => tf.where(tf.greater(x, 0), dy, tf.mul(dy, attrs['alpha'] as number)),
  })),
  gradient('Elu', { outputs: [true] }, (dy, [y]) => ({ x: () => tf.engine().runKernel('EluGrad', { dy, y }) as Tensor })),
  gradient('ClipByValue', { inputs: ['x'] }, (dy, [x], attrs) => ({
    x: () =>
      tf.where(tf.logicalAnd(tf.greaterEqual(x, attrs['clipValueMin'] as number), tf.lessEqual(x, attrs['clipValueMax'] as number)), dy, tf.zerosLike(dy)),
  })),
  gradient('Cast', {}, (dy) => ({ x: () => dy.clone() })),
  gradient('Identity', {}, (dy) => ({ x: () => (dy.dtype === 'float32' ? dy.clone() : tf.cast(dy, 'float32')) })),
  ...['Step', 'Sign', 'Round', 'Floor', 'Ceil', 'IsFinite', 'IsInf', 'IsNan', 'ZerosLike', 'OnesLike', 'LogicalNot'].map((name) =>
    gradient(name, {}, zeroGrads('x')),
  ),
  ...['ArgMax', 'ArgMin'].map((name) => gradient(name, { inputs: ['x'] }, zeroGrads('x'))),
];
