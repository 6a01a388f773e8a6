/**
 * The tfjs interpreter against ONNX Runtime (an independent executor of the same ONNX semantics):
 * one-node graphs per op group over seeded random inputs, and a few multi-op graphs that exercise
 * the channels-last hand-over between ops. Each graph runs in both layout modes.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { type Attribute, type Graph, attr } from '../../src/graph/ir.js';
import { GraphBuilder } from '../../src/graph/builder.js';
import { initTfjs } from '../../src/runtime/tfjs/backend.js';
import { interpretGraph } from '../../src/runtime/tfjs/interpreter.js';
import { type DType, makeTensor, type Tensor } from '../../src/tensor.js';
import { expectMatchesOrt, float32, int64, oneNodeGraph, randomTensor, rng } from './interpreter-harness.js';

beforeAll(async () => {
  await initTfjs('wasm');
});

const INT64_MAX = 9223372036854775807n;

function positive(shape: number[], next: () => number): Tensor<'float32'> {
  return randomTensor(shape, next, 0.45, 0.55);
}

async function unaryCase(op: string, x: Tensor, attributes: Record<string, Attribute> = {}, opset?: number, outputType?: DType): Promise<void> {
  await expectMatchesOrt(oneNodeGraph({ op, feeds: { x }, attributes, opset, outputTypes: outputType && [outputType] }), { x });
}

async function binaryCase(op: string, a: Tensor, b: Tensor, bAsConstant = false, outputType?: DType): Promise<void> {
  const outputTypes = outputType && [outputType];
  const g = bAsConstant ? oneNodeGraph({ op, feeds: { a }, constants: { b }, outputTypes }) : oneNodeGraph({ op, feeds: { a, b }, outputTypes });
  await expectMatchesOrt(g, bAsConstant ? { a } : { a, b });
}

describe('linear ops', () => {
  const r = rng(11);
  it('Gemm: alpha, beta, transA, transB, broadcast C, no C', async () => {
    const cases: Array<{ a: number[]; b: number[]; c?: number[]; attrs: Record<string, Attribute> }> = [
      { a: [3, 4], b: [5, 4], c: [5], attrs: { transB: attr.int(1) } },
      { a: [4, 3], b: [4, 5], c: [3, 1], attrs: { transA: attr.int(1), alpha: attr.float(0.7), beta: attr.float(1.3) } },
      { a: [4, 3], b: [5, 4], c: [1], attrs: { transA: attr.int(1), transB: attr.int(1) } },
      { a: [2, 6], b: [6, 3], attrs: { alpha: attr.float(-2) } },
    ];
    for (const c of cases) {
      const a = randomTensor(c.a, r);
      const constants: Record<string, Tensor> = { b: randomTensor(c.b, r) };
      if (c.c) constants.c = randomTensor(c.c, r);
      await expectMatchesOrt(oneNodeGraph({ op: 'Gemm', feeds: { a }, constants, attributes: c.attrs }), { a });
    }
  });

  it('MatMul: 1-D operands, 2-D weights, broadcast batches', async () => {
    const shapes: Array<[number[], number[]]> = [
      [
        [3, 4],
        [4, 5],
      ],
      [
        [2, 3, 4],
        [4, 5],
      ],
      [
        [2, 1, 3, 4],
        [5, 4, 2],
      ],
      [
        [6, 3, 4],
        [6, 4, 2],
      ],
      [[4], [2, 4, 3]],
      [[2, 3, 4], [4]],
      [[4], [4]],
      [
        [1, 3, 4],
        [2, 1, 4, 3],
      ],
    ];
    for (const [sa, sb] of shapes) await binaryCase('MatMul', randomTensor(sa, r), randomTensor(sb, r));
  });
});

describe('element-wise ops', () => {
  const r = rng(12);
  it('Add, Sub, Mul, Div broadcast like numpy', async () => {
    const pairs: Array<[number[], number[]]> = [
      [
        [2, 3, 4, 5],
        [3, 1, 1],
      ],
      [[2, 3, 4, 5], [5]],
      [[2, 3, 4, 5], []],
      [
        [3, 1],
        [1, 4],
      ],
      [
        [2, 1, 4, 1],
        [1, 3, 1, 5],
      ],
    ];
    for (const op of ['Add', 'Sub', 'Mul', 'Div']) {
      for (const [sa, sb] of pairs) {
        const b = op === 'Div' ? positive(sb, r) : randomTensor(sb, r);
        await binaryCase(op, randomTensor(sa, r), b, sb.length < 4);
      }
    }
  });

  it('integer Div truncates toward zero', async () => {
    await binaryCase('Div', int64([-7, 7, -9, 9, 5]), int64([2, 2, 4, -4, 5]), false, 'int64');
  });

  it('Pow with float and integer exponents', async () => {
    await binaryCase('Pow', positive([2, 3, 4], r), randomTensor([4], r, 2));
    await binaryCase('Pow', randomTensor([2, 3], r), float32([2]), true);
    await binaryCase('Pow', randomTensor([2, 3], r), float32([3], [1]), true);
  });

  it('unary activations and math', async () => {
    const x = randomTensor([2, 3, 4, 5], r, 3);
    for (const op of ['Relu', 'Sigmoid', 'Tanh', 'Erf', 'Neg', 'Exp', 'Identity']) await unaryCase(op, x);
    await unaryCase('Sqrt', positive([3, 7], r));
    await unaryCase('Gelu', x, {}, 20);
    await unaryCase('Gelu', x, { approximate: attr.string('tanh') }, 20);
  });

  it('Cast between float, int and bool', async () => {
    const x = float32([-2.7, -0.5, 0, 0.4, 1.9, 300.2]);
    await unaryCase('Cast', x, { to: attr.int(7) }, undefined, 'int64');
    await unaryCase('Cast', x, { to: attr.int(6) }, undefined, 'int32');
    await unaryCase('Cast', x, { to: attr.int(9) }, undefined, 'bool');
    await unaryCase('Cast', int64([-3, 0, 5]), { to: attr.int(1) });
  });

  it('Dropout is the identity at inference, with an all-true mask', async () => {
    const x = randomTensor([3, 4], r);
    await expectMatchesOrt(oneNodeGraph({ op: 'Dropout', feeds: { x }, outputs: 2, outputTypes: ['float32', 'bool'] }), { x });
  });

  it('Equal and Where', async () => {
    await binaryCase('Equal', int64([1, 2, 3, 4]), int64([1, 0, 3, 5]), false, 'bool');
    const condition = makeTensor('bool', [3, 1], Uint8Array.from([1, 0, 1]));
    const x = randomTensor([2, 3, 4], r);
    const y = randomTensor([4], r);
    await expectMatchesOrt(oneNodeGraph({ op: 'Where', feeds: { condition, x, y } }), { condition, x, y });
  });
});

describe('convolutions', () => {
  const r = rng(13);
  const conv = async (x: number[], w: number[], attributes: Record<string, Attribute>, bias = true, op = 'Conv') => {
    const input = randomTensor(x, r);
    const constants: Record<string, Tensor> = { w: randomTensor(w, r) };
    if (bias) constants.b = randomTensor([op === 'Conv' ? w[0] : w[1] * ((attributes.group?.value as number) ?? 1)], r);
    await expectMatchesOrt(oneNodeGraph({ op, feeds: { x: input }, constants, attributes }), { x: input }, 2e-5);
  };

  it('Conv 2-D: strides, asymmetric pads, dilations, no bias', async () => {
    await conv([2, 3, 9, 8], [4, 3, 3, 3], { strides: attr.ints([2, 1]), pads: attr.ints([1, 0, 2, 1]) });
    await conv([2, 3, 9, 8], [4, 3, 3, 2], { dilations: attr.ints([2, 3]) });
    await conv([1, 3, 11, 10], [4, 3, 3, 3], { dilations: attr.ints([2, 2]), strides: attr.ints([2, 2]), pads: attr.ints([2, 2, 2, 2]) });
    await conv([2, 2, 5, 5], [3, 2, 1, 1], {}, false);
  });

  it('Conv 2-D: groups, depthwise (with multiplier)', async () => {
    await conv([2, 4, 7, 7], [6, 2, 3, 3], { group: attr.int(2), pads: attr.ints([1, 1, 1, 1]) });
    await conv([2, 4, 7, 7], [4, 1, 3, 3], { group: attr.int(4), pads: attr.ints([1, 1, 1, 1]), strides: attr.ints([2, 2]) });
    await conv([2, 3, 6, 6], [6, 1, 3, 3], { group: attr.int(3), pads: attr.ints([0, 1, 2, 1]) });
    await conv([1, 4, 9, 9], [4, 1, 3, 3], { group: attr.int(4), dilations: attr.ints([2, 2]), pads: attr.ints([2, 2, 2, 2]) });
  });

  it('Conv 2-D: auto_pad SAME_UPPER, SAME_LOWER, VALID', async () => {
    for (const mode of ['SAME_UPPER', 'SAME_LOWER', 'VALID']) {
      await conv([2, 3, 8, 7], [4, 3, 4, 3], { auto_pad: attr.string(mode), strides: attr.ints([2, 2]) });
    }
  });

  it('Conv 1-D', async () => {
    await conv([2, 3, 17], [5, 3, 4], { strides: attr.ints([2]), pads: attr.ints([1, 2]) });
    await conv([2, 4, 12], [4, 2, 3], { group: attr.int(2), dilations: attr.ints([2]) });
  });

  it('ConvTranspose: strides, pads, output_padding, groups, dilations, output_shape, 1-D', async () => {
    await conv(
      [2, 3, 5, 4],
      [3, 4, 3, 3],
      { strides: attr.ints([2, 2]), pads: attr.ints([1, 1, 1, 1]), output_padding: attr.ints([1, 1]) },
      true,
      'ConvTranspose',
    );
    await conv([2, 3, 5, 4], [3, 2, 2, 2], { strides: attr.ints([2, 2]) }, false, 'ConvTranspose');
    await conv([2, 3, 5, 4], [3, 4, 3, 2], { pads: attr.ints([0, 1, 1, 0]) }, true, 'ConvTranspose');
    await conv([2, 4, 5, 4], [4, 3, 3, 3], { group: attr.int(2), strides: attr.ints([2, 1]) }, true, 'ConvTranspose');
    await conv([1, 2, 4, 4], [2, 3, 3, 3], { dilations: attr.ints([2, 2]), strides: attr.ints([2, 2]) }, true, 'ConvTranspose');
    await conv([1, 2, 4, 4], [2, 3, 3, 3], { strides: attr.ints([2, 2]), output_shape: attr.ints([9, 8]) }, true, 'ConvTranspose');
    await conv([1, 2, 4, 4], [2, 3, 3, 3], { strides: attr.ints([2, 2]), auto_pad: attr.string('SAME_UPPER') }, true, 'ConvTranspose');
    await conv([2, 3, 6], [3, 2, 4], { strides: attr.ints([3]), pads: attr.ints([1, 2]) }, true, 'ConvTranspose');
  });
});

describe('pooling', () => {
  const r = rng(14);
  const pool = async (op: string, shape: number[], attributes: Record<string, Attribute>) => {
    const x = randomTensor(shape, r);
    await expectMatchesOrt(oneNodeGraph({ op, feeds: { x }, attributes }), { x });
  };
  const k = (...v: number[]) => attr.ints(v);

  it('MaxPool: pads, strides, ceil_mode, auto_pad, 1-D', async () => {
    await pool('MaxPool', [2, 3, 9, 8], { kernel_shape: k(3, 3), strides: k(2, 2), pads: k(1, 1, 1, 1) });
    await pool('MaxPool', [2, 3, 8, 8], { kernel_shape: k(2, 2), strides: k(2, 2) });
    await pool('MaxPool', [2, 3, 9, 8], { kernel_shape: k(3, 2), strides: k(2, 2), ceil_mode: attr.int(1) });
    await pool('MaxPool', [1, 2, 7, 7], { kernel_shape: k(3, 3), strides: k(2, 2), pads: k(1, 0, 1, 0), ceil_mode: attr.int(1) });
    await pool('MaxPool', [2, 3, 9, 8], { kernel_shape: k(3, 3), strides: k(2, 2), auto_pad: attr.string('SAME_UPPER') });
    await pool('MaxPool', [2, 3, 11], { kernel_shape: k(3), strides: k(2), pads: k(1, 1) });
  });

  it('AveragePool: count_include_pad, asymmetric pads, ceil_mode, 1-D', async () => {
    for (const include of [0, 1]) {
      const cip = { count_include_pad: attr.int(include) };
      await pool('AveragePool', [2, 3, 9, 8], { kernel_shape: k(3, 3), strides: k(2, 2), pads: k(1, 1, 1, 1), ...cip });
      await pool('AveragePool', [2, 3, 9, 8], { kernel_shape: k(3, 3), strides: k(1, 2), pads: k(0, 1, 2, 0), ...cip });
      await pool('AveragePool', [2, 3, 9, 8], { kernel_shape: k(3, 3), strides: k(2, 2), pads: k(1, 1, 1, 1), ceil_mode: attr.int(1), ...cip });
      await pool('AveragePool', [2, 3, 10], { kernel_shape: k(4), strides: k(3), pads: k(2, 1), ...cip });
    }
    await pool('AveragePool', [2, 3, 8, 8], { kernel_shape: k(2, 2), strides: k(2, 2) });
  });

  it('GlobalAveragePool', async () => {
    await pool('GlobalAveragePool', [2, 3, 5, 4], {});
    await pool('GlobalAveragePool', [2, 3, 5], {});
  });
});

describe('normalization and reductions', () => {
  const r = rng(15);
  it('BatchNormalization (inference) on 4-D and 2-D inputs', async () => {
    for (const shape of [
      [2, 3, 4, 5],
      [4, 3],
    ]) {
      const x = randomTensor(shape, r, 2);
      const constants = { scale: randomTensor([3], r), bias: randomTensor([3], r), mean: randomTensor([3], r), variance: positive([3], r) };
      await expectMatchesOrt(oneNodeGraph({ op: 'BatchNormalization', feeds: { x }, constants, attributes: { epsilon: attr.float(1e-3) } }), { x });
    }
  });

  it('LayerNormalization over trailing axes, with Mean and InvStdDev', async () => {
    const x = randomTensor([2, 3, 4], r, 2, 0.5);
    await expectMatchesOrt(
      oneNodeGraph({ op: 'LayerNormalization', feeds: { x }, constants: { s: randomTensor([4], r), b: randomTensor([4], r) }, outputs: 3 }),
      { x },
    );
    const g = oneNodeGraph({
      op: 'LayerNormalization',
      feeds: { x },
      constants: { s: randomTensor([3, 4], r) },
      attributes: { axis: attr.int(1), epsilon: attr.float(1e-2) },
      outputs: 3,
    });
    await expectMatchesOrt(g, { x });
  });

  it('ReduceMean: axes attribute (opset 17) and input (opset 18), keepdims', async () => {
    const x = randomTensor([2, 3, 4, 5], r);
    await unaryCase('ReduceMean', x, { axes: attr.ints([2, 3]) });
    await unaryCase('ReduceMean', x, { axes: attr.ints([-3]), keepdims: attr.int(0) });
    await unaryCase('ReduceMean', x, {});
    await expectMatchesOrt(
      oneNodeGraph({ op: 'ReduceMean', feeds: { x }, constants: { axes: int64([0, 2]) }, attributes: { keepdims: attr.int(0) }, opset: 18 }),
      { x },
    );
  });

  it('Softmax: opset 13 axis semantics and the older flatten-to-2-D semantics', async () => {
    const x = randomTensor([2, 3, 4], r, 3);
    await unaryCase('Softmax', x);
    await unaryCase('Softmax', x, { axis: attr.int(1) });
    await unaryCase('Softmax', x, { axis: attr.int(1) }, 11);
    await unaryCase('Softmax', x, {}, 11);
  });
});

describe('shape ops', () => {
  const r = rng(16);
  const x = randomTensor([2, 3, 4, 5], r);
  it('Shape (with start/end) and Reshape with 0 and -1', async () => {
    await unaryCase('Shape', x, {}, undefined, 'int64');
    await unaryCase('Shape', x, { start: attr.int(1), end: attr.int(-1) }, undefined, 'int64');
    for (const target of [[0, -1], [-1, 5], [2, 0, 20], [120]]) {
      await expectMatchesOrt(oneNodeGraph({ op: 'Reshape', feeds: { x }, constants: { s: int64(target) } }), { x });
    }
  });

  it('Flatten, Transpose', async () => {
    for (const axis of [0, 1, 2, -1]) await unaryCase('Flatten', x, { axis: attr.int(axis) });
    await unaryCase('Transpose', x);
    await unaryCase('Transpose', x, { perm: attr.ints([0, 2, 3, 1]) });
  });

  it('Unsqueeze and Squeeze: axes as input (opset 13) and as attribute (opset 11)', async () => {
    const y = randomTensor([3, 1, 4, 1], r);
    await expectMatchesOrt(oneNodeGraph({ op: 'Unsqueeze', feeds: { y }, constants: { a: int64([0, -1]) } }), { y });
    await unaryCase('Unsqueeze', y, { axes: attr.ints([1, 3]) }, 11);
    await expectMatchesOrt(oneNodeGraph({ op: 'Squeeze', feeds: { y }, constants: { a: int64([-1]) } }), { y });
    await unaryCase('Squeeze', y);
    await unaryCase('Squeeze', y, { axes: attr.ints([1]) }, 11);
  });

  it('Concat, Split, Expand, ConstantOfShape', async () => {
    const a = randomTensor([2, 1, 4], r);
    const b = randomTensor([2, 3, 4], r);
    const c = randomTensor([2, 2, 4], r);
    await expectMatchesOrt(oneNodeGraph({ op: 'Concat', feeds: { a, b, c }, attributes: { axis: attr.int(-2) } }), { a, b, c });
    await expectMatchesOrt(oneNodeGraph({ op: 'Split', feeds: { b }, attributes: { axis: attr.int(2) }, outputs: 2 }), { b });
    await expectMatchesOrt(oneNodeGraph({ op: 'Split', feeds: { b }, constants: { s: int64([1, 2]) }, attributes: { axis: attr.int(1) }, outputs: 2 }), { b });
    await expectMatchesOrt(oneNodeGraph({ op: 'Split', feeds: { b }, attributes: { axis: attr.int(1), num_outputs: attr.int(2) }, outputs: 2, opset: 18 }), {
      b,
    });
    await expectMatchesOrt(oneNodeGraph({ op: 'Expand', feeds: { a }, constants: { s: int64([3, 1, 5, 1]) } }), { a });
    const value = attr.tensor(makeTensor('float32', [1], Float32Array.from([2.5])));
    await expectMatchesOrt(oneNodeGraph({ op: 'ConstantOfShape', constants: { s: int64([2, 3]) }, attributes: { value } }), {});
  });
});

describe('indexing ops', () => {
  const r = rng(17);
  const x = randomTensor([4, 5, 6], r);
  const slice = async (starts: number[], ends: Array<number | bigint>, axes?: number[], steps?: number[]) => {
    const constants: Record<string, Tensor> = {
      starts: int64(starts),
      ends: makeTensor('int64', [ends.length], BigInt64Array.from(ends.map((e) => BigInt(e)))),
    };
    if (axes) constants.axes = int64(axes);
    if (steps) constants.steps = int64(steps);
    await expectMatchesOrt(oneNodeGraph({ op: 'Slice', feeds: { x }, constants }), { x });
  };

  it('Slice: negative indices, huge ends, steps (negative included), axes', async () => {
    await slice([1], [3]);
    await slice([-3, 1], [INT64_MAX, -1], [2, 0]);
    await slice([0, 4], [INT64_MAX, -INT64_MAX], [1, 2], [2, -2]);
    await slice([-1], [-INT64_MAX], [-1], [-1]);
    await slice([3, 1], [0, 100], [0, 1], [-3, 3]);
    await slice([2], [2], [1]);
    await unaryCase('Slice', x, { starts: attr.ints([1, -4]), ends: attr.ints([3, 1000]), axes: attr.ints([0, 2]) }, 9);
  });

  it('Gather: axis, negative and scalar indices', async () => {
    const gather = async (indices: Tensor, axis: number) => {
      await expectMatchesOrt(oneNodeGraph({ op: 'Gather', feeds: { x }, constants: { i: indices }, attributes: { axis: attr.int(axis) } }), { x });
    };
    await gather(int64([3, -1, 0, 0, 2, -4], [2, 3]), 0);
    await gather(int64([2], []), 1);
    await gather(int64([-1, 0]), -1);
  });
});

describe('Constant, Resize and Pad', () => {
  const r = rng(18);
  it('Constant: value, value_float(s), value_int(s)', async () => {
    const attributes: Array<Record<string, Attribute>> = [
      { value: attr.tensor(randomTensor([2, 3], r)) },
      { value_float: attr.float(1.5) },
      { value_floats: attr.floats([1, -2, 3.5]) },
      { value_int: attr.int(-4) },
      { value_ints: attr.ints([7, 8]) },
    ];
    for (const a of attributes) await expectMatchesOrt(oneNodeGraph({ op: 'Constant', attributes: a }), {});
  });

  it('Resize nearest: scales or sizes, coordinate modes, rounding modes', async () => {
    const x = randomTensor([1, 2, 5, 6], r);
    const empty = makeTensor('float32', [0], new Float32Array(0));
    const resize = async (attributes: Record<string, Attribute>, scales?: number[], sizes?: number[]) => {
      const constants: Record<string, Tensor> = { roi: empty, scales: scales ? float32(scales) : empty };
      const inputs = ['x', 'roi', 'scales'];
      if (sizes) {
        constants.sizes = int64(sizes);
        inputs.push('sizes');
      }
      await expectMatchesOrt(oneNodeGraph({ op: 'Resize', feeds: { x }, constants, inputs, attributes }), { x });
    };
    const mode = (c: string, n: string) => ({ mode: attr.string('nearest'), coordinate_transformation_mode: attr.string(c), nearest_mode: attr.string(n) });
    await resize(mode('asymmetric', 'floor'), [1, 1, 2, 2]);
    await resize(mode('half_pixel', 'round_prefer_floor'), [1, 1, 0.5, 1.5]);
    await resize(mode('half_pixel', 'round_prefer_ceil'), undefined, [1, 2, 3, 13]);
    await resize(mode('align_corners', 'round_prefer_floor'), undefined, [1, 2, 9, 4]);
    await resize(mode('pytorch_half_pixel', 'ceil'), [1, 1, 3, 2]);
    await resize({}, [1, 1, 2, 3]);
  });

  it('Pad: constant value, reflect, edge, negative pads, axes', async () => {
    const x = randomTensor([2, 3, 4, 5], r);
    const pad = async (pads: number[], mode: string, value?: number, axes?: number[], opset?: number) => {
      const constants: Record<string, Tensor> = { pads: int64(pads), value: float32(value === undefined ? [0] : [value], []) };
      if (axes) constants.axes = int64(axes);
      const g = oneNodeGraph({ op: 'Pad', feeds: { x }, constants, attributes: { mode: attr.string(mode) }, opset });
      await expectMatchesOrt(g, { x });
    };
    await pad([0, 0, 1, 2, 0, 1, 0, 1], 'constant', 1.5);
    await pad([0, 0, 2, 1, 0, 0, 1, 3], 'reflect');
    await pad([0, 1, 2, 1, 0, 0, 3, 2], 'edge');
    await pad([0, 0, -1, 2, 0, 0, 1, -2], 'constant');
    await pad([1, 2, 0, 1], 'constant', -1, [2, -1], 18);
  });
});

/** A conv stack whose values pass channels-last between ops (bn, relu, pool, residual add, concat, slice, resize, GAP). */
function cnnGraph(next: () => number): Graph {
  const weights = new Map<string, Tensor>([
    ['c1.weight', randomTensor([8, 3, 3, 3], next, 0.5)],
    ['c1.bias', randomTensor([8], next)],
    ['bn.weight', randomTensor([8], next)],
    ['bn.bias', randomTensor([8], next)],
    ['bn.running_mean', randomTensor([8], next)],
    ['bn.running_var', positive([8], next)],
    ['dw.weight', randomTensor([8, 1, 3, 3], next, 0.5)],
    ['c2.weight', randomTensor([4, 8, 1, 1], next, 0.5)],
    ['fc.weight', randomTensor([5, 12], next)],
    ['fc.bias', randomTensor([5], next)],
  ]);
  const g = new GraphBuilder('cnn', weights);
  const x = g.input('x', [2, 3, 12, 12]);
  let y = g.relu(g.batchNorm(g.conv(x, 'c1', { pad: 1 }), 'bn'));
  y = g.maxPool(y, 2, 2, 0);
  const d = g.conv(y, 'dw', { pad: 1, groups: 8 });
  y = g.node('Sigmoid', [g.add(y, d)]);
  const narrow = g.conv(y, 'c2');
  const sliced = g.node('Slice', [y, g.int64('s', [0]), g.int64('e', [4]), g.int64('a', [1])]);
  y = g.node('Concat', [narrow, sliced, g.node('Mul', [narrow, g.float('k', [0.5, 2, -1, 3], [4, 1, 1])])], { axis: attr.int(1) });
  y = g.node('Resize', [y, '', g.float('sc', [1, 1, 2, 2])], {
    mode: attr.string('nearest'),
    coordinate_transformation_mode: attr.string('asymmetric'),
    nearest_mode: attr.string('floor'),
  });
  const mean = g.node('ReduceMean', [y], { axes: attr.ints([2, 3]), keepdims: attr.int(0) });
  return g.build([{ name: g.linear(mean, 'fc') }, { name: y }]);
}

/** A transformer-ish block: patch-embed conv, tokens via Shape/Gather/Concat/Reshape, attention, class token. */
function vitGraph(next: () => number): Graph {
  const d = 8;
  const weights = new Map<string, Tensor>([
    ['patch.weight', randomTensor([d, 3, 4, 4], next, 0.5)],
    ['patch.bias', randomTensor([d], next)],
    ['cls', randomTensor([1, 1, d], next)],
    ['ln.weight', randomTensor([d], next)],
    ['ln.bias', randomTensor([d], next)],
    ['qkv.weight', randomTensor([3 * d, d], next, 0.5)],
    ['qkv.bias', randomTensor([3 * d], next)],
    ['mlp.weight', randomTensor([d, d], next, 0.5)],
  ]);
  const g = new GraphBuilder('vit', weights);
  const x = g.input('x', [2, 3, 8, 8]);
  const p = g.conv(x, 'patch', { stride: 4 });
  // torch.onnx's flatten(2).transpose(1, 2), with the batch size read from the shape.
  const scalarZero = g.constant('zero', makeTensor('int64', [], BigInt64Array.from([0n])));
  const batch = g.node('Unsqueeze', [g.node('Gather', [g.node('Shape', [p]), scalarZero], { axis: attr.int(0) }), g.int64('ax', [0])]);
  const shape = g.node('Concat', [batch, g.int64('dims', [d, -1])], { axis: attr.int(0) });
  let t = g.node('Transpose', [g.node('Reshape', [p, shape])], { perm: attr.ints([0, 2, 1]) });
  const cls = g.node('Expand', [g.param('cls'), g.node('Concat', [batch, g.int64('one', [1, 1])], { axis: attr.int(0) })]);
  t = g.node('Concat', [cls, t], { axis: attr.int(1) });
  const n = g.layerNorm(t, 'ln', 1e-6);
  const qkv = g.linearNd(n, 'qkv');
  const [q, k, v] = g.nodeMulti('Split', [qkv, g.int64('split', [d, d, d])], { axis: attr.int(-1) }, 3);
  const scores = g.node('Mul', [g.node('MatMul', [q, g.node('Transpose', [k], { perm: attr.ints([0, 2, 1]) })]), g.float('scale', [1 / Math.sqrt(d)], [])]);
  const attn = g.node('MatMul', [g.node('Softmax', [scores], { axis: attr.int(-1) }), v]);
  const h = g.add(t, attn);
  const mlp = g.node('Gelu', [g.linearNd(g.node('Sqrt', [g.node('Pow', [h, g.float('two', [2], [])])]), 'mlp')]);
  const token = g.node('Gather', [g.add(h, mlp), scalarZero], { axis: attr.int(1) });
  const graph = g.build([{ name: token }]);
  graph.opset = 20;
  return graph;
}

/** Ops with channels-last shortcuts, each fed by a conv so that its input is held channels-last. */
function layoutGraph(next: () => number): Graph {
  const weights = new Map<string, Tensor>([
    ['c.weight', randomTensor([4, 3, 3, 3], next, 0.5)],
    ['c.bias', randomTensor([4], next)],
    ['bn.weight', randomTensor([4], next)],
    ['bn.bias', randomTensor([4], next)],
    ['bn.running_mean', randomTensor([4], next)],
    ['bn.running_var', positive([4], next)],
  ]);
  const g = new GraphBuilder('layout', weights);
  const c = g.conv(g.input('x', [2, 3, 6, 5]), 'c', { pad: 1 });
  const t = g.node('Transpose', [c], { perm: attr.ints([0, 2, 3, 1]) });
  const p = g.node('Pad', [c, g.int64('p', [0, 1, 0, 2, 0, 0, 1, 0])], { mode: attr.string('edge') });
  const [s1, s2] = g.nodeMulti('Split', [g.batchNorm(c, 'bn')], { axis: attr.int(1) }, 2);
  const m1 = g.node('ReduceMean', [s1], { axes: attr.ints([0]), keepdims: attr.int(0) });
  const m2 = g.node('ReduceMean', [s2], { axes: attr.ints([1, 3]), keepdims: attr.int(1) });
  const gap = g.globalAveragePool(g.node('Cast', [c], { to: attr.int(1) }));
  const outputs = [t, p, m1, m2, gap].map((name) => ({ name }));
  return g.build(outputs);
}

describe('multi-op graphs', () => {
  it('a CNN with channels-last chains matches ONNX Runtime', async () => {
    const next = rng(19);
    const graph = cnnGraph(next);
    const x = randomTensor([2, 3, 12, 12], next);
    await expectMatchesOrt(graph, { x }, 2e-5, true);
  });

  it('a transformer block (shape arithmetic, attention, class token) matches ONNX Runtime', async () => {
    const next = rng(20);
    const graph = vitGraph(next);
    const x = randomTensor([2, 3, 8, 8], next);
    await expectMatchesOrt(graph, { x }, 2e-5, true);
  });

  it('layout-aware Transpose, Pad, Split, ReduceMean, GlobalAveragePool, BatchNorm and Cast after a conv', async () => {
    const next = rng(21);
    const graph = layoutGraph(next);
    const x = randomTensor([2, 3, 6, 5], next);
    await expectMatchesOrt(graph, { x }, 2e-5, true);
  });
});

describe('errors and API', () => {
  it('names the node and op of an unsupported operator', () => {
    const graph = oneNodeGraph({ op: 'Mish', feeds: { x: float32([1]) } });
    expect(() => interpretGraph(graph, { x: tf.tensor1d([1]) }, ['y0'])).toThrow(/node Mish_node \(Mish\).*Mish is not supported/);
  });

  it('names a missing feed and a value nothing defines', () => {
    const graph = oneNodeGraph({ op: 'Relu', feeds: { x: float32([1]) } });
    expect(() => interpretGraph(graph, {}, ['y0'])).toThrow(/no value fed for input 'x'/);
    expect(() => interpretGraph(graph, { x: tf.tensor1d([1]) }, ['nope'])).toThrow(/'nope' is neither a graph input/);
  });

  it('names the node when an op rejects its inputs', () => {
    const graph = oneNodeGraph({ op: 'Reshape', feeds: { x: float32([1, 2, 3]) }, constants: { s: int64([2, -1]) } });
    expect(() => interpretGraph(graph, { x: tf.tensor1d([1, 2, 3]) }, ['y0'])).toThrow(/node Reshape_node \(Reshape\): cannot reshape \[3\] to \[2,-1\]/);
  });

  it('uses params instead of initializers, without touching the cached constants', () => {
    const graph = oneNodeGraph({ op: 'Add', feeds: { a: float32([1, 2]) }, constants: { b: float32([10, 20]) } });
    const a = tf.tensor1d([1, 2]);
    const plain = interpretGraph(graph, { a }, ['y0']);
    const b = tf.tensor1d([100, 200]);
    const swapped = interpretGraph(graph, { a }, ['y0'], new Map([['b', b]]));
    expect(Array.from(plain.y0.dataSync())).toEqual([11, 22]);
    expect(Array.from(swapped.y0.dataSync())).toEqual([101, 202]);
    tf.dispose([a, b, plain.y0, swapped.y0]);
  });
});
