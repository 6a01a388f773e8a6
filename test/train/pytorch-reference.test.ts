/** Optimizers, losses and training steps against PyTorch (fixtures/train/reference.json). */
import { describe, expect, it, beforeAll } from 'vitest';
import type * as tfTypes from '@tensorflow/tfjs-core';
import { initTfjs } from '../../src/runtime/tfjs/backend.js';
import { createOptimizer, learningRate, type OptimizerConfig } from '../../src/nn/optimizers.js';
import { crossEntropy, detectionLoss, pixelCrossEntropy } from '../../src/nn/losses.js';
import { prepareFinetune } from '../../src/train/finetune.js';
import { TrainSession } from '../../src/train/trainer.js';
import { interpretGraph } from '../../src/runtime/tfjs/interpreter.js';
import { batchDataset, maxAbsDiff, reference, weightsFromJson, type TrainCaseJson } from './reference.js';
import { toFloat32 } from '../../src/tensor.js';

let tf: typeof tfTypes;
beforeAll(async () => {
  tf = await initTfjs('wasm');
});

describe('optimizers match torch.optim', () => {
  const ref = reference.optimizers;
  for (const [name, c] of Object.entries(ref.cases)) {
    it(name, () => {
      const param = tf.variable(tf.tensor(ref.initial, ref.shape), true, `opt-test/${name}`);
      const opt = createOptimizer(tf, c.config as unknown as OptimizerConfig);
      const params = new Map([['p', param]]);
      ref.grads.forEach((g, step) => {
        const grad = tf.tensor(g, ref.shape);
        opt.step(params, new Map([['p', grad]]), (c.config as { lr: number }).lr);
        grad.dispose();
        expect(maxAbsDiff(param.dataSync() as Float32Array, c.after[step])).toBeLessThan(1e-6);
      });
      opt.dispose();
      param.dispose();
    });
  }

  it('StepLR decays every stepSize steps', () => {
    expect([0, 2, 3, 5, 6, 9].map((s) => learningRate(0.1, { stepSize: 3, gamma: 0.5 }, s))).toEqual([0.1, 0.1, 0.05, 0.05, 0.025, 0.0125]);
    expect(learningRate(0.1, {}, 1000)).toBe(0.1);
  });
});

describe('losses match torch.nn.functional', () => {
  const gradOf = (logits: number[], shape: number[], loss: (x: tfTypes.Tensor) => tfTypes.Scalar) => {
    const x = tf.tensor(logits, shape);
    const { value, grad } = tf.valueAndGrad(loss)(x);
    return { value: value.dataSync()[0], grad: grad.dataSync() as Float32Array };
  };

  it('cross-entropy with ignored labels', () => {
    const c = reference.losses.ce;
    const { value, grad } = gradOf(c.logits, c.shape, (x) => crossEntropy(tf, x, Int32Array.from(c.labels)));
    expect(value).toBeCloseTo(c.loss, 5);
    expect(maxAbsDiff(grad, c.grad)).toBeLessThan(1e-6);
  });

  it('per-pixel cross-entropy', () => {
    const c = reference.losses.pixel;
    const { value, grad } = gradOf(c.logits, c.shape, (x) => pixelCrossEntropy(tf, x, Int32Array.from(c.masks)));
    expect(value).toBeCloseTo(c.loss, 5);
    expect(maxAbsDiff(grad, c.grad)).toBeLessThan(1e-6);
  });

  it('detection: smooth L1 on filled slots + class cross-entropy', () => {
    const c = reference.losses.detection;
    const targets = { boxes: Float32Array.from(c.boxes), classes: Int32Array.from(c.classes), slots: c.slots };
    const parts = detectionLoss(tf, tf.tensor(c.outputs, c.shape), targets);
    expect(parts.box.dataSync()[0]).toBeCloseTo(c.box, 5);
    expect(parts.cls.dataSync()[0]).toBeCloseTo(c.cls, 5);
    const { value, grad } = gradOf(c.outputs, c.shape, (x) => detectionLoss(tf, x, targets).total);
    expect(value).toBeCloseTo(c.total, 5);
    expect(maxAbsDiff(grad, c.grad)).toBeLessThan(1e-6);
  });
});

function runCase(c: TrainCaseJson, inputShape: number[], classes: number) {
  const plan = prepareFinetune(weightsFromJson(c.before), { kind: 'classification', numClasses: classes, inputShape, mode: { kind: 'full' }, seed: 0 });
  const session = new TrainSession(plan, { ...c.config, batchSize: c.batches[0].shape[0], steps: c.batches.length, seed: 0 }, inputShape);
  const losses = c.batches.map((b) => session.step(batchDataset(b, classes)));
  const after = session.stateDict();
  const x = tf.tensor(c.batches[0].x, [c.batches[0].shape[0], ...inputShape]);
  const logits = interpretGraph(plan.evalGraph, { [plan.input]: x }, [plan.output], session.params())[plan.output].dataSync() as Float32Array;
  session.dispose();
  return { losses, after, logits };
}

describe('training steps match PyTorch', () => {
  it('MLP 12-8-6-3, SGD with momentum and weight decay, 3 steps', () => {
    const c = reference.mlp_train;
    const { losses, after, logits } = runCase(c, [12, 1, 1], 3);
    losses.forEach((l, i) => expect(l).toBeCloseTo(c.losses[i], 5));
    expect([...after.keys()]).toEqual(Object.keys(c.after));
    for (const [k, t] of after) expect(maxAbsDiff(toFloat32(t), c.after[k].data), k).toBeLessThan(2e-6);
    expect(maxAbsDiff(logits, c.eval_logits)).toBeLessThan(1e-5);
  });

  it('convnet in train mode: batch statistics, running mean/var (momentum 0.1, unbiased), num_batches_tracked', () => {
    const c = reference.convnet_train;
    const { losses, after, logits } = runCase(c, [1, 8, 8], 3);
    losses.forEach((l, i) => expect(l).toBeCloseTo(c.losses[i], 5));
    expect([...after.keys()]).toEqual(Object.keys(c.after));
    for (const [k, t] of after) {
      if (k.endsWith('num_batches_tracked')) expect(Number((t.data as BigInt64Array)[0]), k).toBe(2);
      else expect(maxAbsDiff(toFloat32(t), c.after[k].data), k).toBeLessThan(1e-5);
    }
    expect(maxAbsDiff(logits, c.eval_logits)).toBeLessThan(1e-4);
  });
});
