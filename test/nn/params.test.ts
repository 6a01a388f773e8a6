/** Parameter specs: PyTorch's default distributions by name, seeded per tensor. */
import { describe, expect, it } from 'vitest';
import { type ParamSpec, initialWeights, pytorchDefaultSpecs } from '../../src/nn/params.js';

describe('pytorchDefaultSpecs', () => {
  it('judges each tensor from its name and the shape of its weight', () => {
    const specs = pytorchDefaultSpecs([
      { name: 'conv.weight', shape: [4, 2, 3, 3] },
      { name: 'conv.bias', shape: [4] },
      { name: 'bn.weight', shape: [4] },
      { name: 'bn.bias', shape: [4] },
      { name: 'bn.running_mean', shape: [4] },
      { name: 'bn.running_var', shape: [4] },
      { name: 'bn.num_batches_tracked', shape: [] },
      { name: 'cls_token', shape: [1, 1, 4] },
    ]);
    expect(specs.map((s) => [s.name, s.buffer, s.init])).toEqual([
      ['conv.weight', false, { kind: 'uniform', fanIn: 18 }],
      ['conv.bias', false, { kind: 'uniform', fanIn: 18 }],
      ['bn.weight', false, { kind: 'ones' }],
      ['bn.bias', false, { kind: 'zeros' }],
      ['bn.running_mean', true, { kind: 'zeros' }],
      ['bn.running_var', true, { kind: 'ones' }],
      ['bn.num_batches_tracked', true, { kind: 'counter' }],
      ['cls_token', false, { kind: 'normal', std: 0.02 }],
    ]);
  });
});

describe('initialWeights', () => {
  const uniform: ParamSpec = { name: 'fc.weight', shape: [8, 25], buffer: false, init: { kind: 'uniform', fanIn: 25 } };
  const normal: ParamSpec = { name: 'embed', shape: [500], buffer: false, init: { kind: 'normal', std: 0.02 } };
  const counter: ParamSpec = { name: 'bn.num_batches_tracked', shape: [], buffer: true, init: { kind: 'counter' } };

  it('draws each tensor from its own stream: other tensors and their order do not change it', () => {
    const alone = initialWeights([uniform], 7, 'init').get('fc.weight')!;
    const among = initialWeights([normal, counter, uniform], 7, 'init').get('fc.weight')!;
    expect(among.data).toEqual(alone.data);
    expect(initialWeights([uniform], 7, 'detector:init').get('fc.weight')!.data).not.toEqual(alone.data);
    expect(initialWeights([uniform], 8, 'init').get('fc.weight')!.data).not.toEqual(alone.data);
  });

  it('keeps uniform values within 1/sqrt(fan_in), normal ones near their std, counters at int64 zero', () => {
    const w = initialWeights([uniform, normal, counter], 1, 'init');
    const u = w.get('fc.weight')!.data as Float32Array;
    expect(Math.max(...u.map(Math.abs))).toBeLessThanOrEqual(1 / 5);
    expect(Math.max(...u.map(Math.abs))).toBeGreaterThan(0.9 / 5);
    const n = w.get('embed')!.data as Float32Array;
    const std = Math.sqrt(n.reduce((a, v) => a + v * v, 0) / n.length);
    expect(std).toBeGreaterThan(0.016);
    expect(std).toBeLessThan(0.024);
    const c = w.get('bn.num_batches_tracked')!;
    expect([c.dtype, c.shape, [...(c.data as BigInt64Array)]]).toEqual(['int64', [], [0n]]);
  });
});
