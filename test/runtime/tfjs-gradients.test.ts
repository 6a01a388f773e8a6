/**
 * tfjs-core's Node bundle registers no gradients, so ours are checked twice: against central
 * finite differences (formula errors), and wasm against cpu (kernels used by the backward pass).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Tensor, Tensor1D, Tensor2D, Tensor3D, Tensor4D } from '@tensorflow/tfjs-core';
import type { Tfjs } from '../../src/runtime/tfjs/backend.js';
import { expectClose, expectDirectionalDerivative, loadBoth, on, seeded, size } from './tfjs-reference.js';

type Loss = (t: Tfjs, inputs: Tensor[]) => Tensor;

let tf: Tfjs;
beforeAll(async () => {
  // Without kernel leak checks: with them on, tfjs flags its own customGrad ops (logSoftmax) on
  // wasm, whose Identity copies where cpu's shares. tfjs-kernels.test.ts keeps them on.
  tf = await loadBoth(false);
});

const gelu = (t: Tfjs, x: Tensor): Tensor => t.mul(t.mul(x, 0.5), t.add(1, t.erf(t.div(x, Math.SQRT2))));

function layerNorm(t: Tfjs, x: Tensor, gamma: Tensor, beta: Tensor): Tensor {
  const { mean, variance } = t.moments(x, -1, true);
  return t.add(t.mul(t.mul(t.sub(x, mean), t.rsqrt(t.add(variance, 1e-5))), gamma), beta);
}

/** Small training-shaped graphs: every op the brief lists appears in at least one. */
/** `eps`: finite-difference step; small where relu/max-pool kinks are crossed, larger where float32 rounding of a big loss dominates. */
const GRAPHS: Array<{ name: string; shapes: number[][]; loss: Loss; eps: number }> = [
  {
    name: 'CNN: conv2d s1/s2 + relu + maxPool + batch-norm (moments) + dense + logSoftmax',
    shapes: [[2, 8, 8, 1], [3, 3, 1, 4], [3, 3, 4, 6], [4], [4], [24, 3]],
    eps: 1e-3,
    loss: (t, [x, w1, w2, gamma, beta, dense]) => {
      let h: Tensor = t.relu(t.conv2d(x as Tensor4D, w1 as Tensor4D, 1, 'same'));
      const { mean, variance } = t.moments(h, [0, 1, 2]);
      h = t.batchNorm(h, mean, variance, beta as Tensor1D, gamma as Tensor1D, 1e-3);
      h = t.maxPool(h as Tensor4D, 2, 2, 'valid');
      h = t.relu(t.conv2d(h as Tensor4D, w2 as Tensor4D, 2, 'same'));
      const logits = t.matMul(t.reshape(h, [2, 24]), dense as Tensor2D);
      return t.neg(t.sum(t.mul(t.logSoftmax(logits), t.oneHot(t.tensor1d([0, 2], 'int32'), 3))));
    },
  },
  {
    // Batch 1: for batch > 1 the cpu backend's ResizeNearestNeighborGrad is itself wrong (it
    // offsets dy by the images' batch stride); tfjs-kernels.test.ts checks ours there.
    name: 'depthwise + avgPool + sigmoid/tanh + resizeNearestNeighbor + conv2dTranspose',
    shapes: [
      [1, 6, 6, 3],
      [3, 3, 3, 2],
      [3, 3, 4, 6],
    ],
    eps: 1e-2,
    loss: (t, [x, depthwise, transposed]) => {
      let h = t.depthwiseConv2d(x as Tensor4D, depthwise as Tensor4D, 1, 'same');
      h = t.avgPool(t.sigmoid(h) as Tensor4D, 2, 2, 'same');
      h = t.image.resizeNearestNeighbor(t.tanh(h) as Tensor4D, [6, 6]);
      h = t.conv2dTranspose(h as Tensor4D, transposed as Tensor4D, [1, 12, 12, 4], 2, 'same');
      return t.sum(t.square(h));
    },
  },
  {
    name: 'ViT block: embedding gather + concat cls + layerNorm + attention (batched matMul, softmax) + GELU MLP',
    shapes: [[10, 8], [1, 1, 8], [8], [8], [8, 24], [8, 16], [16, 8]],
    eps: 1e-2,
    loss: (t, [embedding, cls, gamma, beta, qkv, up, down]) => {
      const tokens = t.reshape(
        t.gather(
          embedding,
          t.tensor2d(
            [
              [1, 4, 4],
              [9, 0, 2],
            ],
            [2, 3],
            'int32',
          ),
        ),
        [2, 3, 8],
      );
      let h = t.concat([t.tile(cls, [2, 1, 1]), tokens], 1);
      const normed = layerNorm(t, h, gamma, beta);
      const [q, k, v] = t.split(t.matMul(normed, qkv as Tensor2D), 3, -1).map((part) => t.transpose(t.reshape(part, [2, 4, 2, 4]), [0, 2, 1, 3]));
      const attention = t.softmax(t.div(t.matMul(q, k, false, true), 2));
      const mixed = t.reshape(t.transpose(t.matMul(attention, v), [0, 2, 1, 3]), [2, 4, 8]);
      h = t.add(h, mixed);
      h = t.add(h, t.matMul(gelu(t, t.matMul(layerNorm(t, h, gamma, beta), up as Tensor2D)), down as Tensor2D));
      return t.sum(t.square(t.slice(h, [0, 0, 0], [2, 1, 8])));
    },
  },
  {
    name: 'MLP with pad, slice, transpose, leakyRelu, elu, maximum, where',
    shapes: [[3, 5], [7, 4], [4]],
    eps: 1e-3,
    loss: (t, [x, w, b]) => {
      const padded = t.pad(x, [
        [0, 0],
        [1, 1],
      ]);
      const h = t.add(t.matMul(padded, w as Tensor2D), b);
      const mixed = t.add(t.leakyRelu(h, 0.1), t.elu(t.transpose(t.transpose(h))));
      const clipped = t.where(t.greater(mixed, 0.5), t.maximum(mixed, 0.7), t.mul(mixed, 0.3));
      return t.sum(t.mul(t.slice(clipped, [1, 0], [2, 4]), t.slice(clipped, [0, 0], [2, 4])));
    },
  },
];

describe('training-shaped graphs differentiate on wasm like on cpu, and like finite differences', () => {
  for (const [i, graph] of GRAPHS.entries()) {
    it(graph.name, async () => {
      const values = graph.shapes.map((s, j) => seeded(1000 + 10 * i + j, size(s)));
      const run = (t: Tfjs) => {
        const inputs = values.map((v, j) => t.tensor(v, graph.shapes[j]));
        const { value, grads } = t.valueAndGrads((...xs: Tensor[]) => graph.loss(t, xs))(inputs);
        return [value, ...grads];
      };
      const wasm = await on('wasm', run);
      const cpu = await on('cpu', run);
      wasm.forEach((g, j) => expectClose(g, cpu[j], 1e-4, j === 0 ? 'loss' : `gradient ${j - 1}`));
      await expectDirectionalDerivative('wasm', graph.shapes, graph.loss, 1000 + 10 * i, graph.eps, 1e-2);
    });
  }
});

describe('gradients that tfjs-core 4.22 got wrong', () => {
  const cases: Array<[string, number[][], Loss]> = [
    ['cumsum along a non-last axis', [[3, 4]], (t, [x]) => t.sum(t.square(t.cumsum(x, 0, true, true)))],
    [
      'mirrorPad reflect',
      [[3, 4]],
      (t, [x]) =>
        t.sum(
          t.square(
            t.mirrorPad(
              x as Tensor2D,
              [
                [2, 1],
                [1, 2],
              ],
              'reflect',
            ),
          ),
        ),
    ],
    [
      'mirrorPad symmetric',
      [[3, 4]],
      (t, [x]) =>
        t.sum(
          t.square(
            t.mirrorPad(
              x as Tensor2D,
              [
                [3, 1],
                [0, 2],
              ],
              'symmetric',
            ),
          ),
        ),
    ],
    ['tile, rank 5', [[2, 1, 3, 1, 2]], (t, [x]) => t.sum(t.square(t.tile(x, [1, 2, 2, 3, 1])))],
    [
      'squaredDifference with broadcasting',
      [
        [3, 4],
        [3, 1],
      ],
      (t, [a, b]) => t.sum(t.squaredDifference(a, b)),
    ],
    [
      'matMul [B,T,D] x [D,E]',
      [
        [2, 3, 4],
        [4, 5],
      ],
      (t, [a, b]) => t.sum(t.square(t.matMul(a, b))),
    ],
    [
      'matMul [D,T]^T x [B,D,E]',
      [
        [4, 3],
        [2, 4, 5],
      ],
      (t, [a, b]) => t.sum(t.square(t.matMul(a, b, true, false))),
    ],
    [
      'matMul [B,1,T,D] x [1,H,E,D]^T',
      [
        [2, 1, 3, 4],
        [1, 2, 5, 4],
      ],
      (t, [a, b]) => t.sum(t.square(t.matMul(a, b, false, true))),
    ],
  ];
  for (const [name, shapes, loss] of cases) {
    it(name, async () => {
      await expectDirectionalDerivative('wasm', shapes, loss, 2000, 0.5, 1e-3);
    });
  }
});

describe('element-wise gradients match finite differences', () => {
  // Inputs are mapped into each op's smooth domain first.
  const unary: Array<[string, (t: Tfjs, x: Tensor) => Tensor]> = [
    ['abs', (t, x) => t.abs(t.add(x, 0.05))],
    ['acos', (t, x) => t.acos(t.mul(x, 0.8))],
    ['acosh', (t, x) => t.acosh(t.add(t.abs(x), 1.5))],
    ['asin', (t, x) => t.asin(t.mul(x, 0.8))],
    ['asinh', (t, x) => t.asinh(x)],
    ['atan', (t, x) => t.atan(x)],
    ['atanh', (t, x) => t.atanh(t.mul(x, 0.8))],
    ['cos', (t, x) => t.cos(x)],
    ['cosh', (t, x) => t.cosh(x)],
    ['sin', (t, x) => t.sin(x)],
    ['sinh', (t, x) => t.sinh(x)],
    ['tan', (t, x) => t.tan(x)],
    ['erf', (t, x) => t.erf(x)],
    ['exp', (t, x) => t.exp(x)],
    ['expm1', (t, x) => t.expm1(x)],
    ['log', (t, x) => t.log(t.add(t.abs(x), 0.5))],
    ['log1p', (t, x) => t.log1p(t.abs(x))],
    ['sqrt', (t, x) => t.sqrt(t.add(t.abs(x), 0.5))],
    ['rsqrt', (t, x) => t.rsqrt(t.add(t.abs(x), 0.5))],
    ['reciprocal', (t, x) => t.reciprocal(t.add(t.abs(x), 0.5))],
    ['relu6', (t, x) => t.relu6(t.mul(x, 8))],
    ['selu', (t, x) => t.selu(x)],
    ['softplus', (t, x) => t.softplus(x)],
    ['clipByValue', (t, x) => t.clipByValue(x, -0.5, 0.5)],
    ['prelu', (t, x) => t.prelu(x, t.scalar(0.2))],
    ['pow', (t, x) => t.pow(t.add(t.abs(x), 0.5), t.add(x, 2))],
    ['atan2', (t, x) => t.atan2(x, t.add(t.abs(x), 0.5))],
    // a/b stays within (2.3, 2.7): no jump of floor(a/b) between the difference points.
    ['mod', (t, x) => t.mod(t.add(5, t.mul(x, 0.1)), t.add(2, t.mul(t.reverse(x), 0.05)))],
    ['maximum with broadcasting', (t, x) => t.maximum(x, t.slice(x, [1, 0], [1, 4]))],
    ['div', (t, x) => t.div(x, t.add(t.abs(t.reverse(x)), 0.5))],
    ['prod', (t, x) => t.prod(t.add(x, 2), 1)],
    ['min/max', (t, x) => t.concat([t.max(x, 0), t.min(x, 1)])],
    ['mean', (t, x) => t.mean(t.square(x), 1)],
    [
      'unstack/stack',
      (t, x) =>
        t.stack(
          t.unstack(x).map((r, i) => t.mul(r, i + 1)),
          1,
        ),
    ],
    ['addN', (t, x) => t.addN([x, t.square(x), t.sin(x)])],
    ['expandDims/squeeze', (t, x) => t.squeeze(t.expandDims(t.square(x), 1))],
  ];
  for (const [name, f] of unary) {
    it(name, async () => {
      await expectDirectionalDerivative('wasm', [[3, 4]], (t, [x]) => t.sum(t.square(f(t, x))), 3000, 1e-3, 1e-2);
    });
  }
});

describe('gather with batchDims and unsortedSegmentSum', () => {
  it('gradients match finite differences', async () => {
    const indices = [
      [0, 2, 2],
      [1, 1, 0],
    ];
    await expectDirectionalDerivative(
      'wasm',
      [[2, 3, 4]],
      (t, [x]) => t.sum(t.square(t.gather(x as Tensor3D, t.tensor2d(indices, [2, 3], 'int32'), 1, 1))),
      4000,
      0.5,
      1e-3,
    );
    await expectDirectionalDerivative(
      'wasm',
      [[5, 3]],
      (t, [x]) => t.sum(t.square(t.unsortedSegmentSum(x, t.tensor1d([1, 0, 1, 3, 1], 'int32'), 4))),
      4010,
      0.5,
      1e-3,
    );
  });
});
