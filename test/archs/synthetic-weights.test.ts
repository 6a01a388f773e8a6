import { describe, expect, it } from 'vitest';
import { fnv1a32, hash32, syntheticKind, syntheticLike, syntheticTensor } from '../../src/testing/synthetic-weights.js';
import { FIXTURE_MODELS, fixtureWeights, readFixture } from './fixtures.js';

function bitsOf(values: Float32Array): number[] {
  return [...new Uint32Array(values.buffer, values.byteOffset, values.length)];
}

describe('synthetic weights', () => {
  it('FNV-1a 32 matches published test vectors', () => {
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
  });

  it('hash32 is the murmur3 finaliser of a Weyl sequence (hand-checked value)', () => {
    // fmix32(0) = 0; index 1, seed 0 -> fmix32(0x9E3779B1), computed with BigInt as an independent check.
    const fmix = (x: bigint): bigint => {
      const m = (a: bigint, b: bigint): bigint => (a * b) & 0xffffffffn;
      x ^= x >> 16n;
      x = m(x, 0x85ebca6bn);
      x ^= x >> 13n;
      x = m(x, 0xc2b2ae35n);
      return x ^ (x >> 16n);
    };
    expect(hash32(0, 0)).toBe(0);
    for (const [seed, i] of [
      [0, 1],
      [12345, 678],
      [0xffffffff, 0x7fffffff],
      [7, 3_000_000_000],
    ]) {
      const x = (BigInt(i) * 0x9e3779b1n + BigInt(seed)) & 0xffffffffn;
      expect(hash32(seed, i)).toBe(Number(fmix(x)));
    }
  });

  it('kinds follow the key: conv/linear fan-in, norm weights, BN statistics, embeddings, int buffers', () => {
    expect(syntheticKind('layer1.0.conv1.weight', [64, 64, 3, 3])).toBe('fan_in');
    expect(syntheticKind('bn1.weight', [64])).toBe('norm_weight');
    expect(syntheticKind('fc.bias', [10])).toBe('bias');
    expect(syntheticKind('bn1.running_mean', [64])).toBe('running_mean');
    expect(syntheticKind('bn1.running_var', [64])).toBe('running_var');
    expect(syntheticKind('pos_embed', [1, 50, 64])).toBe('embedding');
    expect(syntheticKind('bn1.num_batches_tracked', [], 'int64')).toBe('zeros');
  });

  it('values lie in the documented ranges', () => {
    const w = syntheticTensor({ name: 'conv.weight', shape: [16, 3, 3, 3] }, 1).data as Float32Array;
    const bound = Math.sqrt(3 / 27);
    expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...w.map(Math.abs))).toBeGreaterThan(0.9 * bound);
    const v = syntheticTensor({ name: 'bn.running_var', shape: [1000] }, 1).data as Float32Array;
    expect(Math.min(...v)).toBeGreaterThanOrEqual(0.5);
    expect(Math.max(...v)).toBeLessThan(1.5);
  });

  for (const model of FIXTURE_MODELS) {
    it(`reproduces the Python generator bit for bit (${model})`, () => {
      const fixture = readFixture(model);
      const weights = fixtureWeights(fixture);
      const names = Object.keys(fixture.samples);
      expect(names.length).toBeGreaterThan(1);
      for (const name of names) {
        const data = weights.get(name)?.data as Float32Array;
        const sample = fixture.samples[name];
        expect(bitsOf(data.subarray(0, 8)), name).toEqual(sample.first);
        if (sample.last) expect(bitsOf(data.subarray(data.length - 8)), name).toEqual(sample.last);
      }
    });
  }

  it('syntheticLike copies keys, shapes and integer dtypes', () => {
    const fixture = readFixture('convnet');
    const weights = fixtureWeights(fixture);
    const again = syntheticLike(weights, fixture.seed);
    expect([...again.keys()]).toEqual([...weights.keys()]);
    expect(again.get('blocks.0.bn.num_batches_tracked')?.dtype).toBe('int64');
    expect(again.get('head.weight')?.data).toEqual(weights.get('head.weight')?.data);
  });
});
