/**
 * Our wasm kernel fixes against the tfjs cpu backend (its own, independent loops) and against
 * plain-JS references; conv gradients also against finite differences.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Tensor, Tensor4D } from '@tensorflow/tfjs-core';
import { initTfjs } from '../../src/runtime/tfjs/backend.js';
import type { Tfjs } from '../../src/runtime/tfjs/backend.js';
import { expectClose, expectDirectionalDerivative, loadBoth, on, referenceMatMul, seeded, size, subsampleFilter, zeroInsertFilter } from './tfjs-reference.js';

type Pad = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];
type Pair = [number, number];

interface ConvCase {
  name: string;
  x: [number, number, number, number];
  kernel: Pair;
  outChannels: number;
  strides: Pair;
  pad: Pad;
}

const CONV_CASES: ConvCase[] = [
  { name: '3x3 s1 same', x: [2, 7, 7, 3], kernel: [3, 3], outChannels: 4, strides: [1, 1], pad: 'same' },
  { name: '3x3 s2 same, odd size', x: [2, 7, 7, 3], kernel: [3, 3], outChannels: 4, strides: [2, 2], pad: 'same' },
  { name: '3x2 s2 valid, remainder rows', x: [3, 8, 9, 2], kernel: [3, 2], outChannels: 3, strides: [2, 2], pad: 'valid' },
  { name: '2x3 s(1,2) valid', x: [1, 6, 5, 2], kernel: [2, 3], outChannels: 2, strides: [1, 2], pad: 'valid' },
  {
    name: '3x3 s2 explicit asymmetric',
    x: [2, 7, 6, 3],
    kernel: [3, 3],
    outChannels: 2,
    strides: [2, 2],
    pad: [
      [0, 0],
      [1, 2],
      [0, 1],
      [0, 0],
    ],
  },
  { name: '1x1 s1 valid', x: [2, 5, 5, 2], kernel: [1, 1], outChannels: 3, strides: [1, 1], pad: 'valid' },
  { name: '5x5 s3 same', x: [2, 9, 10, 2], kernel: [5, 5], outChannels: 2, strides: [3, 3], pad: 'same' },
  { name: '3x3 s2 numeric pad 1', x: [2, 8, 8, 2], kernel: [3, 3], outChannels: 3, strides: [2, 2], pad: 1 },
  {
    name: '2x2 s1 pads wider than filter',
    x: [1, 4, 5, 2],
    kernel: [2, 2],
    outChannels: 2,
    strides: [1, 1],
    pad: [
      [0, 0],
      [3, 2],
      [2, 3],
      [0, 0],
    ],
  },
  {
    name: '2x2 s2 pads wider than filter',
    x: [2, 5, 6, 2],
    kernel: [2, 2],
    outChannels: 3,
    strides: [2, 2],
    pad: [
      [0, 0],
      [3, 2],
      [2, 4],
      [0, 0],
    ],
  },
  { name: '2x2 s3 valid (a phase without taps)', x: [2, 8, 7, 2], kernel: [2, 2], outChannels: 2, strides: [3, 3], pad: 'valid' },
  { name: '1x1 s2 valid, even size', x: [2, 6, 6, 3], kernel: [1, 1], outChannels: 2, strides: [2, 2], pad: 'valid' },
  { name: '4x4 s2 same, even size', x: [2, 8, 6, 2], kernel: [4, 4], outChannels: 2, strides: [2, 2], pad: 'same' },
];

let tf: Tfjs;
beforeAll(async () => {
  tf = await loadBoth();
});

function outShape(c: ConvCase, depthwise: boolean, dilations: Pair = [1, 1]): number[] {
  const filter = [c.kernel[0], c.kernel[1], c.x[3], depthwise ? 1 : c.outChannels] as [number, number, number, number];
  return tf.backend_util.computeConv2DInfo(c.x, filter, c.strides, dilations, c.pad, undefined, depthwise).outShape;
}

describe('initTfjs', () => {
  it('is idempotent, switches backends and installs the wasm kernels once', async () => {
    const first = await initTfjs('wasm');
    expect(await initTfjs()).toBe(first);
    expect(first.getBackend()).toBe('wasm');
    await initTfjs('cpu');
    expect(first.getBackend()).toBe('cpu');
    expect(first.getKernel('Conv2DBackpropFilter', 'cpu')?.kernelFunc.name).not.toBe('');
    await initTfjs('wasm');
    expect(first.getBackend()).toBe('wasm');
    for (const name of ['Conv2DBackpropFilter', 'DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput', 'UnsortedSegmentSum']) {
      expect(first.getKernel(name, 'wasm'), name).toBeDefined();
    }
    expect(first.getGradient('Conv2DBackpropFilter')).toBeDefined();
    expect(await first.env().getAsync('WASM_HAS_SIMD_SUPPORT')).toBe(true);
  });
});

describe('Conv2DBackpropFilter / Conv2DBackpropInput on wasm match the cpu backend', () => {
  for (const [i, c] of CONV_CASES.entries()) {
    it(c.name, async () => {
      const dyShape = outShape(c, false);
      const filterShape = [c.kernel[0], c.kernel[1], c.x[3], c.outChannels];
      const x = seeded(10 + i, size(c.x));
      const dy = seeded(20 + i, size(dyShape));
      const w = seeded(30 + i, size(filterShape));
      const run = (t: Tfjs): Tensor[] => {
        const attrs = { strides: c.strides, pad: c.pad, dataFormat: 'NHWC' };
        return [
          t.engine().runKernel('Conv2DBackpropFilter', { x: t.tensor(x, c.x), dy: t.tensor(dy, dyShape) }, { ...attrs, filterShape }) as Tensor,
          t.engine().runKernel('Conv2DBackpropInput', { dy: t.tensor(dy, dyShape), filter: t.tensor(w, filterShape) }, { ...attrs, inputShape: c.x }) as Tensor,
        ];
      };
      const [wasmFilter, wasmInput] = await on('wasm', run);
      const [cpuFilter, cpuInput] = await on('cpu', run);
      expectClose(wasmFilter, cpuFilter, 1e-4, 'filter gradient');
      expectClose(wasmInput, cpuInput, 1e-4, 'input gradient');
    });
  }

  it('NCHW data format', async () => {
    const xShape = [2, 3, 7, 6];
    const dyShape = [2, 4, 4, 3];
    const filterShape = [3, 3, 3, 4];
    const x = seeded(1, size(xShape));
    const dy = seeded(2, size(dyShape));
    const w = seeded(3, size(filterShape));
    const attrs = { strides: [2, 2], pad: 'same', dataFormat: 'NCHW' };
    const run = (t: Tfjs): Tensor[] => [
      t.engine().runKernel('Conv2DBackpropFilter', { x: t.tensor(x, xShape), dy: t.tensor(dy, dyShape) }, { ...attrs, filterShape }) as Tensor,
      t.engine().runKernel('Conv2DBackpropInput', { dy: t.tensor(dy, dyShape), filter: t.tensor(w, filterShape) }, { ...attrs, inputShape: xShape }) as Tensor,
    ];
    const wasm = await on('wasm', run);
    const cpu = await on('cpu', run);
    expectClose(wasm[0], cpu[0], 1e-4, 'filter gradient');
    expectClose(wasm[1], cpu[1], 1e-4, 'input gradient');
  });

  it('dilated (our dilations attr) equals the plain backprop with a zero-inserted filter on cpu', async () => {
    const c: ConvCase = { name: 'dilated', x: [2, 9, 8, 2], kernel: [3, 2], outChannels: 3, strides: [1, 1], pad: 'same' };
    const dilations: Pair = [2, 3];
    const dyShape = outShape(c, false, dilations);
    const filterShape = [3, 2, 2, 3];
    const x = seeded(41, size(c.x));
    const dy = seeded(42, size(dyShape));
    const w = seeded(43, size(filterShape));
    const wide = zeroInsertFilter(w, filterShape, ...dilations);
    const attrs = { strides: [1, 1], pad: c.pad, dataFormat: 'NHWC' };
    const [filterGrad, inputGrad] = await on('wasm', (t) => [
      t.engine().runKernel('Conv2DBackpropFilter', { x: t.tensor(x, c.x), dy: t.tensor(dy, dyShape) }, { ...attrs, dilations, filterShape }) as Tensor,
      t
        .engine()
        .runKernel('Conv2DBackpropInput', { dy: t.tensor(dy, dyShape), filter: t.tensor(w, filterShape) }, { ...attrs, dilations, inputShape: c.x }) as Tensor,
    ]);
    const [wideFilterGrad, refInputGrad] = await on('cpu', (t) => [
      t.engine().runKernel('Conv2DBackpropFilter', { x: t.tensor(x, c.x), dy: t.tensor(dy, dyShape) }, { ...attrs, filterShape: wide.shape }) as Tensor,
      t
        .engine()
        .runKernel('Conv2DBackpropInput', { dy: t.tensor(dy, dyShape), filter: t.tensor(wide.values, wide.shape) }, { ...attrs, inputShape: c.x }) as Tensor,
    ]);
    expectClose(filterGrad, subsampleFilter(wideFilterGrad, wide.shape, ...dilations), 1e-4, 'filter gradient');
    expectClose(inputGrad, refInputGrad, 1e-4, 'input gradient');
  });

  it('rejects a dy whose shape does not fit the convolution', async () => {
    await initTfjs('wasm');
    expect(() =>
      tf.engine().runKernel(
        'Conv2DBackpropFilter',
        { x: tf.zeros([1, 5, 5, 1]), dy: tf.zeros([1, 4, 4, 1]) },
        {
          strides: 1,
          pad: 'same',
          dataFormat: 'NHWC',
          filterShape: [3, 3, 1, 1],
        },
      ),
    ).toThrow(/dy has shape/);
  });
});

describe('depthwise backprop kernels (missing in wasm) match the cpu backend', () => {
  const cases: Array<ConvCase & { multiplier: number }> = [
    { name: 'M=1 3x3 s1 same', x: [2, 6, 7, 3], kernel: [3, 3], outChannels: 3, strides: [1, 1], pad: 'same', multiplier: 1 },
    { name: 'M=2 3x3 s2 same', x: [2, 7, 7, 3], kernel: [3, 3], outChannels: 6, strides: [2, 2], pad: 'same', multiplier: 2 },
    { name: 'M=3 2x3 s2 valid', x: [3, 8, 9, 2], kernel: [2, 3], outChannels: 6, strides: [2, 2], pad: 'valid', multiplier: 3 },
    { name: 'M=1 5x5 s2 numeric pad', x: [1, 9, 9, 4], kernel: [5, 5], outChannels: 4, strides: [2, 2], pad: 2, multiplier: 1 },
  ];
  for (const [i, c] of cases.entries()) {
    it(c.name, async () => {
      const filterShape = [c.kernel[0], c.kernel[1], c.x[3], c.multiplier];
      const dyShape = tf.backend_util.computeConv2DInfo(c.x, filterShape as [number, number, number, number], c.strides, 1, c.pad, undefined, true).outShape;
      const x = seeded(50 + i, size(c.x));
      const dy = seeded(60 + i, size(dyShape));
      const w = seeded(70 + i, size(filterShape));
      const attrs = { strides: c.strides, pad: c.pad, dilations: [1, 1] };
      const run = (t: Tfjs): Tensor[] => [
        t.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x: t.tensor(x, c.x), dy: t.tensor(dy, dyShape) }, { ...attrs, filterShape }) as Tensor,
        t
          .engine()
          .runKernel(
            'DepthwiseConv2dNativeBackpropInput',
            { dy: t.tensor(dy, dyShape), filter: t.tensor(w, filterShape) },
            { ...attrs, inputShape: c.x },
          ) as Tensor,
      ];
      const wasm = await on('wasm', run);
      const cpu = await on('cpu', run);
      expectClose(wasm[0], cpu[0], 1e-4, 'filter gradient');
      expectClose(wasm[1], cpu[1], 1e-4, 'input gradient');
    });
  }

  it('dilated equals the plain backprop with a zero-inserted filter on cpu', async () => {
    const xShape: [number, number, number, number] = [2, 9, 9, 2];
    const filterShape = [3, 3, 2, 2];
    const dilations: Pair = [2, 2];
    const dyShape = tf.backend_util.computeConv2DInfo(xShape, [3, 3, 2, 2], 1, dilations, 'same', undefined, true).outShape;
    const x = seeded(81, size(xShape));
    const dy = seeded(82, size(dyShape));
    const w = seeded(83, size(filterShape));
    const wide = zeroInsertFilter(w, filterShape, ...dilations);
    const attrs = { strides: [1, 1], pad: 'same' };
    const [filterGrad, inputGrad] = await on('wasm', (t) => [
      t
        .engine()
        .runKernel(
          'DepthwiseConv2dNativeBackpropFilter',
          { x: t.tensor(x, xShape), dy: t.tensor(dy, dyShape) },
          { ...attrs, dilations, filterShape },
        ) as Tensor,
      t
        .engine()
        .runKernel(
          'DepthwiseConv2dNativeBackpropInput',
          { dy: t.tensor(dy, dyShape), filter: t.tensor(w, filterShape) },
          { ...attrs, dilations, inputShape: xShape },
        ) as Tensor,
    ]);
    const [wideFilterGrad, refInputGrad] = await on('cpu', (t) => [
      t
        .engine()
        .runKernel(
          'DepthwiseConv2dNativeBackpropFilter',
          { x: t.tensor(x, xShape), dy: t.tensor(dy, dyShape) },
          { ...attrs, dilations: 1, filterShape: wide.shape },
        ) as Tensor,
      t
        .engine()
        .runKernel(
          'DepthwiseConv2dNativeBackpropInput',
          { dy: t.tensor(dy, dyShape), filter: t.tensor(wide.values, wide.shape) },
          { ...attrs, dilations: 1, inputShape: xShape },
        ) as Tensor,
    ]);
    expectClose(filterGrad, subsampleFilter(wideFilterGrad, wide.shape, ...dilations), 1e-4, 'filter gradient');
    expectClose(inputGrad, refInputGrad, 1e-4, 'input gradient');
  });
});

describe('BatchMatMul on wasm matches a plain-JS product (numpy broadcasting)', () => {
  const cases: Array<[string, number[], number[]]> = [
    ['2-D', [5, 7], [7, 3]],
    ['batched a, shared b', [4, 5, 7], [7, 3]],
    ['shared a, batched b', [5, 7], [4, 7, 3]],
    ['both batched, small', [4, 5, 7], [4, 7, 3]],
    ['both batched, per-matrix loop', [3, 64, 48], [3, 48, 48]],
    ['broadcast [2,1] x [1,3]', [2, 1, 5, 7], [1, 3, 7, 4]],
    ['rank 4 x rank 3', [2, 3, 5, 7], [3, 7, 2]],
    ['batch of ones x batched', [1, 1, 5, 7], [2, 7, 3]],
  ];
  for (const [i, [name, aNatural, bNatural]] of cases.entries()) {
    for (const [transposeA, transposeB] of [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ]) {
      it(`${name}, transposeA=${transposeA}, transposeB=${transposeB}`, async () => {
        const swap = (s: number[], t: boolean) => (t ? [...s.slice(0, -2), s[s.length - 1], s[s.length - 2]] : s);
        const aShape = swap(aNatural, transposeA);
        const bShape = swap(bNatural, transposeB);
        const a = seeded(100 + i, size(aShape));
        const b = seeded(200 + i, size(bShape));
        const expected = referenceMatMul(a, aShape, b, bShape, transposeA, transposeB);
        const [got] = await on('wasm', (t) => {
          const out = t.matMul(t.tensor(a, aShape), t.tensor(b, bShape), transposeA, transposeB);
          expect(out.shape).toEqual(expected.shape);
          return out;
        });
        expectClose(got, expected.values, 1e-5);
      });
    }
  }
});

describe('UnsortedSegmentSum (missing in wasm)', () => {
  it('sums rows per segment and drops ids outside [0, numSegments)', async () => {
    const x = seeded(300, 6 * 4);
    const ids = [2, 0, 2, -1, 5, 1];
    const expected = new Float32Array(4 * 4);
    ids.forEach((id, row) => {
      if (id < 0 || id >= 4) return;
      for (let j = 0; j < 4; j++) expected[id * 4 + j] += x[row * 4 + j];
    });
    const [got] = await on('wasm', (t) => t.unsortedSegmentSum(t.tensor(x, [6, 4]), t.tensor1d(ids, 'int32'), 4));
    expectClose(got, expected, 1e-6);
    const inRange = [2, 0, 2, 3, 1, 1];
    const run = (t: Tfjs) => t.unsortedSegmentSum(t.tensor(x, [6, 2, 2]), t.tensor1d(inRange, 'int32'), 4);
    expectClose((await on('wasm', run))[0], (await on('cpu', run))[0], 1e-6);
  });
});

describe('GatherV2 with batchDims (wrong in wasm 4.22)', () => {
  it('matches the cpu backend, and batchDims 0 still works', async () => {
    const x = seeded(310, 2 * 3 * 5 * 4);
    const run = (t: Tfjs) => [
      t.gather(
        t.tensor(x, [2, 3, 5, 4]),
        t.tensor2d(
          [
            [0, 4, 4, 1],
            [3, 3, 0, 2],
          ],
          [2, 4],
          'int32',
        ),
        2,
        1,
      ),
      t.gather(
        t.tensor(x, [2, 3, 5, 4]),
        t.tensor2d(
          [
            [0, 2],
            [1, 1],
          ],
          [2, 2],
          'int32',
        ),
        1,
        1,
      ),
      t.gather(t.tensor(x, [2, 3, 5, 4]), t.tensor1d([4, 0, 4], 'int32'), 2, 0),
    ];
    const wasm = await on('wasm', run);
    const cpu = await on('cpu', run);
    wasm.forEach((values, i) => expectClose(values, cpu[i], 1e-6, `gather ${i}`));
    await initTfjs('wasm');
    expect(() => tf.gather(tf.zeros([2, 3]), tf.tensor2d([[0], [3]], [2, 1], 'int32'), 1, 1)).toThrow(/not in \[0, 2\]/);
  });
});

describe('pooling and resizing on wasm (forward and backprop kernels)', () => {
  const shapes: Array<[number, number, number, number]> = [
    [1, 8, 8, 4],
    [2, 8, 8, 1],
    [2, 7, 6, 5],
  ];
  const windows: Array<[number, number, 'same' | 'valid']> = [
    [2, 2, 'valid'],
    [3, 2, 'same'],
    [3, 1, 'same'],
    [2, 1, 'valid'],
  ];
  for (const [i, shape] of shapes.entries()) {
    it(`maxPool / avgPool and their gradient kernels match cpu, input ${shape}`, async () => {
      const x = seeded(500 + i, size(shape));
      const run = (t: Tfjs) =>
        windows.flatMap(([k, s, pad]) => {
          const input = t.tensor(x, shape) as Tensor4D;
          const output = t.maxPool(input, k, s, pad);
          const dy = t.tensor(seeded(510 + i, output.size), output.shape);
          const attrs = { filterSize: k, strides: s, pad };
          return [
            output,
            t.avgPool(input, k, s, pad),
            t.engine().runKernel('MaxPoolGrad', { dy, input, output }, attrs) as Tensor,
            t.engine().runKernel('AvgPoolGrad', { dy, input }, attrs) as Tensor,
          ];
        });
      const wasm = await on('wasm', run);
      const cpu = await on('cpu', run);
      wasm.forEach((values, j) => expectClose(values, cpu[j], 1e-5, `result ${j}`));
    });
  }

  it('MaxPoolGrad sends the gradient of a tied window to its first maximum, as cpu does', async () => {
    const shape: [number, number, number, number] = [2, 6, 5, 3];
    const x = seeded(540, size(shape)).map((v) => Math.round(v * 2));
    const run = (t: Tfjs) =>
      windows.map(([k, s, pad]) => {
        const input = t.tensor(x, shape) as Tensor4D;
        const output = t.maxPool(input, k, s, pad);
        const dy = t.tensor(seeded(541, output.size), output.shape);
        return t.engine().runKernel('MaxPoolGrad', { dy, input, output }, { filterSize: k, strides: s, pad }) as Tensor;
      });
    const wasm = await on('wasm', run);
    const cpu = await on('cpu', run);
    wasm.forEach((values, j) => expectClose(values, cpu[j], 1e-6, `window ${j}`));
  });

  const resizes: Array<[number, number, boolean, boolean]> = [
    [16, 14, false, false],
    [11, 5, false, true],
    [13, 9, true, false],
  ];
  it('resizeNearestNeighbor / resizeBilinear forward match cpu', async () => {
    const shape: [number, number, number, number] = [2, 7, 6, 3];
    const x = seeded(520, size(shape));
    const run = (t: Tfjs) =>
      resizes.flatMap(([h, w, alignCorners, halfPixel]) => [
        t.image.resizeNearestNeighbor(t.tensor(x, shape) as Tensor4D, [h, w], alignCorners, halfPixel),
        t.image.resizeBilinear(t.tensor(x, shape) as Tensor4D, [h, w], alignCorners, halfPixel),
      ]);
    const wasm = await on('wasm', run);
    const cpu = await on('cpu', run);
    wasm.forEach((values, j) => expectClose(values, cpu[j], 1e-5, `resize ${j}`));
  });

  for (const [h, w, alignCorners, halfPixel] of resizes) {
    it(`resize gradients, batch 2 -> ${h}x${w}, alignCorners=${alignCorners}, halfPixelCenters=${halfPixel}: finite differences`, async () => {
      // The cpu backend is no reference here: its nearest-neighbour gradient is wrong for batch > 1.
      await expectDirectionalDerivative(
        'wasm',
        [[2, 7, 6, 3]],
        (t, [x]) =>
          t.add(
            t.sum(t.square(t.image.resizeNearestNeighbor(x as Tensor4D, [h, w], alignCorners, halfPixel))),
            t.sum(t.square(t.image.resizeBilinear(x as Tensor4D, [h, w], alignCorners, halfPixel))),
          ),
        530,
        0.5,
        1e-3,
      );
    });
  }
});

describe('conv2d gradients', () => {
  // Quadratic in each input, so a central difference is exact up to float32 rounding.
  const loss = (t: Tfjs, [x, w]: Tensor[], strides: Pair, pad: 'same' | 'valid', dilations: Pair = [1, 1]) =>
    t.sum(t.square(t.conv2d(x as Tensor4D, w as Tensor4D, strides, pad, 'NHWC', dilations)));
  const cases: Array<[string, number[], number[], Pair, 'same' | 'valid']> = [
    ['s1 same', [2, 6, 6, 3], [3, 3, 3, 4], [1, 1], 'same'],
    ['s2 same', [2, 7, 7, 3], [3, 3, 3, 4], [2, 2], 'same'],
    ['s2 valid', [3, 8, 7, 2], [3, 3, 2, 3], [2, 2], 'valid'],
  ];
  for (const [name, xShape, wShape, strides, pad] of cases) {
    it(`wrt input and filter, ${name}: wasm = cpu`, async () => {
      const x = seeded(400, size(xShape));
      const w = seeded(401, size(wShape));
      const run = (t: Tfjs) =>
        t.grads((xt: Tensor, wt: Tensor) => t.sum(t.square(t.conv2d(xt as Tensor4D, wt as Tensor4D, strides, pad))))([
          t.tensor(x, xShape),
          t.tensor(w, wShape),
        ]);
      const wasm = await on('wasm', run);
      const cpu = await on('cpu', run);
      expectClose(wasm[0], cpu[0], 1e-4, 'dx');
      expectClose(wasm[1], cpu[1], 1e-4, 'dw');
    });
  }

  it('wrt input and filter match finite differences (s2 same)', async () => {
    await expectDirectionalDerivative(
      'wasm',
      [
        [2, 5, 5, 2],
        [3, 3, 2, 3],
      ],
      (t, xs) => loss(t, xs, [2, 2], 'same'),
      410,
      0.5,
      1e-3,
    );
  });

  it('dilated conv: wasm gradients match finite differences; cpu refuses clearly', async () => {
    await expectDirectionalDerivative(
      'wasm',
      [
        [2, 7, 7, 2],
        [3, 2, 2, 3],
      ],
      (t, xs) => loss(t, xs, [1, 1], 'same', [2, 2]),
      420,
      0.5,
      1e-3,
    );
    await expect(on('cpu', (t) => t.grad((w: Tensor) => loss(t, [t.ones([1, 5, 5, 1]), w], [1, 1], 'same', [2, 2]))(t.ones([3, 3, 1, 1])))).rejects.toThrow(
      /dilated conv2d/,
    );
  });

  it('conv2dTranspose forward and gradients: wasm = cpu', async () => {
    const dyShape = [2, 4, 4, 3];
    const wShape = [3, 3, 2, 3];
    const dy = seeded(430, size(dyShape));
    const w = seeded(431, size(wShape));
    const run = (t: Tfjs) => {
      const f = (d: Tensor, k: Tensor) => t.conv2dTranspose(d as Tensor4D, k as Tensor4D, [2, 8, 7, 2], 2, 'same');
      const out = f(t.tensor(dy, dyShape), t.tensor(w, wShape));
      const grads = t.grads((d: Tensor, k: Tensor) => t.sum(t.square(f(d, k))))([t.tensor(dy, dyShape), t.tensor(w, wShape)]);
      return [out, ...grads];
    };
    const wasm = await on('wasm', run);
    const cpu = await on('cpu', run);
    wasm.forEach((values, i) => expectClose(values, cpu[i], 1e-4, `output ${i}`));
  });

  it('second order through Conv2DBackpropFilter: wasm = cpu = finite differences', async () => {
    // h(x, r) = sum(dL/dW ^ 2) with L = sum(conv(x, W) * r): differentiating it needs the
    // gradient of Conv2DBackpropFilter with respect to both of its inputs.
    const secondOrder = (t: Tfjs, [x, r]: Tensor[]) => {
      const w = t.tensor(seeded(440, 3 * 3 * 2 * 3), [3, 3, 2, 3]);
      const dw = t.grad((wt: Tensor) => t.sum(t.mul(t.conv2d(x as Tensor4D, wt as Tensor4D, 2, 'same'), r)))(w);
      return t.sum(t.square(dw));
    };
    const shapes = [
      [2, 6, 5, 2],
      [2, 3, 3, 3],
    ];
    const run = (t: Tfjs) => t.grads((...xs: Tensor[]) => secondOrder(t, xs))(shapes.map((s, i) => t.tensor(seeded(450 + i, size(s)), s)));
    const wasm = await on('wasm', run);
    const cpu = await on('cpu', run);
    expectClose(wasm[0], cpu[0], 1e-4, 'd/dx');
    expectClose(wasm[1], cpu[1], 1e-4, 'd/dr');
    await expectDirectionalDerivative('wasm', shapes, secondOrder, 450, 0.5, 1e-3);
  });

  it('depthwise conv gradients (incl. second order): wasm = cpu = finite differences', async () => {
    const f = (t: Tfjs, [x, w]: Tensor[]) => t.sum(t.square(t.depthwiseConv2d(x as Tensor4D, w as Tensor4D, 2, 'same')));
    const shapes = [
      [2, 7, 6, 3],
      [3, 3, 3, 2],
    ];
    const run = (t: Tfjs) => {
      const inputs = shapes.map((s, i) => t.tensor(seeded(460 + i, size(s)), s));
      const first = t.grads((...xs: Tensor[]) => f(t, xs))(inputs);
      const second = t.grads((...xs: Tensor[]) => t.sum(t.square(t.grads((...ys: Tensor[]) => f(t, ys))(xs)[1])))(inputs);
      return [...first, ...second];
    };
    const wasm = await on('wasm', run);
    const cpu = await on('cpu', run);
    wasm.forEach((values, i) => expectClose(values, cpu[i], 1e-4, `gradient ${i}`));
    await expectDirectionalDerivative('wasm', shapes, f, 460, 0.5, 1e-3);
  });
});
