import { describe, it, expect } from 'vitest';
import { scoreMatrix } from '../../src/lineage/learning-free.js';
import type { LineageModel } from '../../src/lineage/model.js';
import { makeTensor } from '../../src/tensor.js';
import { syntheticStateDict } from '../../src/testing/synthetic-weights.js';

const keys = [
  { name: 'fc1.weight', shape: [32, 784] },
  { name: 'fc1.bias', shape: [32] },
  { name: 'fc2.weight', shape: [16, 32] },
  { name: 'fc2.bias', shape: [16] },
  { name: 'fc3.weight', shape: [10, 16] },
  { name: 'fc3.bias', shape: [10] },
];
const model = (id: string, seed: number): LineageModel => ({ id, file: id, metadata: {}, weights: syntheticStateDict(keys, seed) });
const probe = makeTensor(
  'float32',
  [37, 1, 28, 28],
  new Float32Array(37 * 784).map((_, i) => Math.cos(i * 0.7)),
);

describe('scoreMatrix', () => {
  it('gives the same scores whatever the probe chunking', async () => {
    const children = [model('c', 1)];
    const parents = [model('p1', 2), model('p2', 3)];
    const methods = ['direct-l2', 'taylor-cka', 'linearized-lse'];
    const whole = await scoreMatrix(children, parents, { probe, methods, alpha: 0.3, batchRows: 1000 });
    const chunked = await scoreMatrix(children, parents, { probe, methods, alpha: 0.3, batchRows: 5 });
    for (let m = 0; m < methods.length; m++) {
      const a = whole[m].children[0].scores;
      const b = chunked[m].children[0].scores;
      expect(b.map((s) => s.parent)).toEqual(a.map((s) => s.parent));
      b.forEach((s, i) => expect(s.score).toBeCloseTo(a[i].score, 6));
    }
  });

  it('scores the child itself as its best candidate, with zero distance', async () => {
    const child = model('c', 1);
    const [r] = await scoreMatrix([child], [model('other', 5), { ...child, id: 'self' }], { probe, methods: ['taylor-l1'] });
    expect(r.children[0].parent).toBe('self');
    expect(Math.abs(r.children[0].scores[0].score)).toBe(0);
  });

  it('scores each method together with others exactly as it scores it alone', async () => {
    // One pass serves every method of a pair, and the raw similarity is computed once per metric:
    // a linearised or fitted score given the direct score's raw value would differ from its own.
    const children = [model('c', 1)];
    const parents = [model('p1', 2), model('p2', 3)];
    const methods = ['direct-l2', 'taylor-l2', 'linearized-l2', 'fitted-l2', 'taylor-cka', 'fitted-cka', 'weights-cos'];
    const together = await scoreMatrix(children, parents, { probe, methods, alpha: 0.3, alphas: [0.05] });
    expect(together.map((r) => r.method)).toEqual([
      'direct-l2',
      'taylor-l2',
      'taylor-l2@0.05',
      'linearized-l2',
      'linearized-l2@0.05',
      'fitted-l2',
      'taylor-cka',
      'taylor-cka@0.05',
      'fitted-cka',
      'weights-cos',
    ]);
    for (const r of together) {
      const [name, at] = r.method.split('@');
      const [alone] = await scoreMatrix(children, parents, { probe, methods: [name], alpha: at === undefined ? 0.3 : Number(at) });
      expect(r.children[0].scores, r.method).toEqual(alone.children[0].scores);
    }
    const score = (method: string) => together.find((r) => r.method === method)!.children[0].scores[0].score;
    expect(score('linearized-l2')).not.toBe(score('direct-l2'));
    expect(score('fitted-l2')).not.toBe(score('direct-l2'));
  });

  it('rejects a bad batch size and a missing probe', async () => {
    await expect(scoreMatrix([model('c', 1)], [model('p', 2)], { probe, batchRows: 0 })).rejects.toThrow(/batchRows must be a positive integer/);
    await expect(scoreMatrix([model('c', 1)], [model('p', 2)], { methods: ['direct-l1'] })).rejects.toThrow(/need a probe/);
  });
});

describe('BatchNorm statistics option', () => {
  // One convnet block with BatchNorm and a head.
  const convKeys = [
    { name: 'blocks.0.conv.weight', shape: [4, 1, 3, 3] },
    { name: 'blocks.0.bn.weight', shape: [4] },
    { name: 'blocks.0.bn.bias', shape: [4] },
    { name: 'blocks.0.bn.running_mean', shape: [4] },
    { name: 'blocks.0.bn.running_var', shape: [4] },
    { name: 'head.weight', shape: [10, 4] },
    { name: 'head.bias', shape: [10] },
  ];

  it("with bnStats 'child' a candidate differing only in running statistics scores as identical", async () => {
    const parent = syntheticStateDict(convKeys, 1);
    const other = syntheticStateDict(convKeys, 2);
    const childWeights = new Map(parent);
    childWeights.set('blocks.0.bn.running_mean', other.get('blocks.0.bn.running_mean')!);
    childWeights.set('blocks.0.bn.running_var', other.get('blocks.0.bn.running_var')!);
    const child: LineageModel = { id: 'c', file: 'c', metadata: {}, weights: childWeights };
    const p: LineageModel = { id: 'p', file: 'p', metadata: {}, weights: parent };
    const x = makeTensor(
      'float32',
      [6, 1, 28, 28],
      new Float32Array(6 * 784).map((_, i) => Math.sin(i)),
    );
    const [own] = await scoreMatrix([child], [p], { probe: x, methods: ['direct-l1'], bnStats: 'parent' });
    const [childStats] = await scoreMatrix([child], [p], { probe: x, methods: ['direct-l1'], bnStats: 'child' });
    expect(own.children[0].scores[0].score).toBeLessThan(-1e-3);
    expect(Math.abs(childStats.children[0].scores[0].score)).toBe(0);
    // The child's statistics are the default.
    const [byDefault] = await scoreMatrix([child], [p], { probe: x, methods: ['direct-l1'] });
    expect(byDefault.children[0].scores).toEqual(childStats.children[0].scores);
  });

  it("with bnStats 'delta' the tangent carries the statistics' change to first order", async () => {
    const parent = syntheticStateDict(convKeys, 1);
    const childWeights = new Map(parent);
    // A 1% change: the first-order residual is then about 100 times smaller than the change itself.
    const mean = parent.get('blocks.0.bn.running_mean')!.data as Float32Array;
    const variance = parent.get('blocks.0.bn.running_var')!.data as Float32Array;
    childWeights.set(
      'blocks.0.bn.running_mean',
      makeTensor(
        'float32',
        [4],
        mean.map((v, i) => v + 0.01 * (i % 2 ? 1 : -1)),
      ),
    );
    childWeights.set(
      'blocks.0.bn.running_var',
      makeTensor(
        'float32',
        [4],
        variance.map((v, i) => v * (1 + 0.01 * (i < 2 ? 1 : -1))),
      ),
    );
    const child: LineageModel = { id: 'c', file: 'c', metadata: {}, weights: childWeights };
    const p: LineageModel = { id: 'p', file: 'p', metadata: {}, weights: parent };
    const x = makeTensor(
      'float32',
      [6, 1, 28, 28],
      new Float32Array(6 * 784).map((_, i) => Math.sin(i)),
    );
    const methods = ['direct-l1', 'linearized-l1'];
    const score = (r: Awaited<ReturnType<typeof scoreMatrix>>, method: string) => r.find((m) => m.method === method)!.children[0].scores[0].score;
    const moved = await scoreMatrix([child], [p], { probe: x, methods, alpha: 1, bnStats: 'delta' });
    const own = await scoreMatrix([child], [p], { probe: x, methods, alpha: 1, bnStats: 'parent' });
    expect(score(moved, 'direct-l1')).toBe(score(own, 'direct-l1'));
    expect(score(own, 'direct-l1')).toBeLessThan(-1e-4);
    // Statistics are outside Delta in 'parent' mode: the tangent is zero and linearised = direct.
    expect(score(own, 'linearized-l1')).toBe(score(own, 'direct-l1'));
    expect(Math.abs(score(moved, 'linearized-l1'))).toBeLessThan(0.05 * Math.abs(score(moved, 'direct-l1')));
  });
});
