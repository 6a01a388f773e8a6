/**
 * Helpers for our gradient registrations. tfjs-core's Node bundle (dist/tf-core.node.js, what
 * `import '@tensorflow/tfjs-core'` loads) registers NO gradients: they live in ESM files meant for
 * bundlers (dist/register_all_gradients.js, extensionless imports that Node cannot load). So we
 * register them ourselves, ported from tfjs-core 4.22 (Apache-2.0), with fixes noted where made.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { GradConfig, NamedAttrMap, Tensor } from '@tensorflow/tfjs-core';

export type InputGrads = Record<string, () => Tensor>;

interface Saves {
  inputs?: string[];
  outputs?: boolean[];
  allInputs?: boolean;
}

/** A gradient for a single-output kernel. */
export function gradient(kernelName: string, saves: Saves, gradFunc: (dy: Tensor, saved: Tensor[], attrs: NamedAttrMap) => InputGrads): GradConfig {
  return {
    kernelName,
    inputsToSave: saves.inputs,
    outputsToSave: saves.outputs,
    saveAllInputs: saves.allInputs,
    gradFunc: (dy, saved, attrs) => gradFunc(single(dy, kernelName), saved, attrs),
  };
}

/** A gradient for a kernel with several outputs (Unpack, SplitV). */
export function multiOutputGradient(kernelName: string, gradFunc: (dys: Tensor[], attrs: NamedAttrMap) => InputGrads): GradConfig {
  return { kernelName, gradFunc: (dy, _saved, attrs) => gradFunc(Array.isArray(dy) ? dy : [dy], attrs) };
}

function single(dy: Tensor | Tensor[], kernelName: string): Tensor {
  if (!Array.isArray(dy)) return dy;
  if (dy.length !== 1) throw new Error(`gradient of ${kernelName}: expected one output gradient, got ${dy.length}`);
  return dy[0];
}

/** Sums a gradient over the axes along which an input of `shape` was broadcast. */
export function unbroadcast(grad: Tensor, shape: readonly number[]): Tensor {
  const axes = tf.broadcast_util.getReductionAxes([...shape], grad.shape);
  const reduced = axes.length > 0 ? tf.sum(grad, axes) : grad;
  return tf.reshape(reduced, [...shape]);
}

export function zeroGrads(...names: string[]): (dy: Tensor, saved: Tensor[]) => InputGrads {
  return (dy, saved) => {
    const grads: InputGrads = {};
    names.forEach((name, i) => (grads[name] = () => tf.zerosLike(saved[i] ?? dy)));
    return grads;
  };
}

/** x as float32; no Cast when it already is (on wasm a same-dtype Cast copies the data). */
export function float(x: Tensor): Tensor {
  return x.dtype === 'float32' ? x : tf.cast(x, 'float32');
}

export function attrNumbers(value: unknown): number[] {
  return Array.isArray(value) ? (value as number[]) : [value as number];
}
