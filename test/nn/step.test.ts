/** nn's one training step and BatchNorm running-statistics update, against hand-derived numbers. */
import { beforeAll, describe, expect, it } from 'vitest';
import type * as tfTypes from '@tensorflow/tfjs-core';
import { initTfjs } from '../../src/runtime/tfjs/backend.js';
import { updateRunningStatistics } from '../../src/nn/batchnorm.js';
import { createOptimizer } from '../../src/nn/optimizers.js';
import { ParameterSet } from '../../src/nn/parameter-set.js';
import { trainStep } from '../../src/nn/step.js';
import { makeTensor } from '../../src/tensor.js';

let tf: typeof tfTypes;
beforeAll(async () => {
  tf = await initTfjs('wasm');
});

const f32 = (shape: number[], values: number[]) => makeTensor('float32', shape, Float32Array.from(values));

function expectClose(actual: ArrayLike<number>, expected: number[]): void {
  expect(actual.length).toBe(expected.length);
  expected.forEach((e, i) => expect(actual[i]).toBeCloseTo(e, 6));
}

describe('trainStep', () => {
  it('applies the share-weighted sum of the parts gradients and returns the weighted loss', () => {
    // loss_i = sum (w - a_i)^2, so d loss_i / dw = 2 (w - a_i)
    const params = new ParameterSet(
      new Map([
        ['w', f32([2], [1, -1])],
        ['unused', f32([1], [5])],
      ]),
      [
        { name: 'w', buffer: false },
        { name: 'unused', buffer: false },
      ],
      'test model',
    );
    const sgd = createOptimizer(tf, { optimizer: 'sgd', lr: 0.1 });
    const w = params.variables.get('w')!;
    const towards = (a: number[]) => () => tf.sum(tf.square(tf.sub(w, tf.tensor1d(a)))) as tfTypes.Scalar;
    const loss = trainStep(params, sgd, 0.1, [
      { share: 0.25, loss: towards([3, 1]) },
      { share: 0.75, loss: towards([0, 0]) },
    ]);
    // losses before the step: (1-3)^2 + (-1-1)^2 = 8 and 1 + 1 = 2
    expect(loss).toBeCloseTo(0.25 * 8 + 0.75 * 2, 6);
    // gradient: 0.25 * 2 * [-2, -2] + 0.75 * 2 * [1, -1] = [0.5, -2.5]; w - 0.1 * gradient
    expectClose(params.value('w').data, [1 - 0.05, -1 + 0.25]);
    // a variable the loss does not reach keeps its value (PyTorch skips a None grad)
    expectClose(params.value('unused').data, [5]);
    sgd.dispose();
    params.dispose();
  });

  it('takes one loss function as one part of share 1, and frees every tensor it made', () => {
    const params = new ParameterSet(new Map([['w', f32([1], [2])]]), [{ name: 'w', buffer: false }], 'test model');
    const sgd = createOptimizer(tf, { optimizer: 'sgd', lr: 1 });
    const before = tf.memory().numTensors;
    const w = params.variables.get('w')!;
    expect(trainStep(params, sgd, 0.5, () => tf.sum(tf.mul(w, w)) as tfTypes.Scalar)).toBeCloseTo(4, 6);
    expect(tf.memory().numTensors).toBe(before);
    // d (w^2) / dw = 4 at w = 2; at rate 0.5 the step lands on 0
    expectClose(params.value('w').data, [0]);
    sgd.dispose();
    params.dispose();
  });
});

describe('ParameterSet', () => {
  it('names the model and the tensor it lacks', () => {
    expect(() => new ParameterSet(new Map(), [{ name: 'fc.weight', buffer: false }], 'detector weights')).toThrow(/detector weights has no tensor fc\.weight/);
  });

  it('loads half-precision tensors exactly as float32 and keeps buffers out of the variables', () => {
    // 0x3c00 = 1.0, 0xc000 = -2.0 in IEEE half precision
    const half = makeTensor('float16', [2], Uint16Array.of(0x3c00, 0xc000));
    const params = new ParameterSet(new Map([['bn.running_var', half]]), [{ name: 'bn.running_var', buffer: true }], 'test model');
    expect(params.variables.size).toBe(0);
    expectClose(params.value('bn.running_var').data, [1, -2]);
    params.dispose();
  });
});

describe('updateRunningStatistics', () => {
  it('moves the running statistics by momentum 0.1 with the unbiased batch variance', () => {
    const params = new ParameterSet(
      new Map([
        ['bn.running_mean', f32([2], [0, 1])],
        ['bn.running_var', f32([2], [1, 2])],
      ]),
      [
        { name: 'bn.running_mean', buffer: true },
        { name: 'bn.running_var', buffer: true },
      ],
      'test model',
    );
    const mean = tf.tensor4d([2, -1], [1, 2, 1, 1]);
    const variance = tf.tensor4d([3, 0.5], [1, 2, 1, 1]);
    updateRunningStatistics(params, { runningMean: 'bn.running_mean', runningVar: 'bn.running_var', mean, variance, count: 4 });
    // mean: 0.9 * [0, 1] + 0.1 * [2, -1]; var: 0.9 * [1, 2] + 0.1 * [3, 0.5] * 4 / 3
    expectClose(params.value('bn.running_mean').data, [0.2, 0.8]);
    expectClose(params.value('bn.running_var').data, [0.9 + 0.4, 1.8 + 0.2 / 3]);
    expect(params.buffer('bn.running_mean').shape).toEqual([2]);
    tf.dispose([mean, variance]);
    params.dispose();
  });
});
