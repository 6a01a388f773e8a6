import { describe, expect, it } from 'vitest';
import { Rng } from '../../../src/base/random.js';
import { approximateAssignment } from '../../../src/lineage/align/approximate.js';
import { compareAligned } from '../../../src/lineage/align/compare.js';
import { inferUnitGroups } from '../../../src/lineage/align/groups.js';
import { maxAssignment } from '../../../src/lineage/align/hungarian.js';
import { compareModels } from '../../../src/lineage/weights/compare.js';
import { matchTensors } from '../../../src/lineage/weights/match.js';
import { describeNaming } from '../../../src/lineage/weights/model-naming.js';
import { memorySource } from '../../../src/source/memory.js';
import type { Tensor, Weights } from '../../../src/tensor.js';
import { type SyntheticTensorSpec, syntheticStateDict } from '../../../src/testing/synthetic-weights.js';
import { GGUF_LLAMA_METADATA, LLAMA, gpt2Weights, llamaToGguf, llamaWeights, perturbed } from '../weights/models.js';
import {
  convForward,
  edited,
  inverse,
  llamaLayerForward,
  maxRelativeDifference,
  mlpForward,
  permuteCols,
  permuteRows,
  randomInput,
  shuffled,
} from './models.js';

const MLP_SPECS: SyntheticTensorSpec[] = [
  { name: 'fc1.weight', shape: [32, 16] },
  { name: 'fc1.bias', shape: [32] },
  { name: 'fc2.weight', shape: [24, 32] },
  { name: 'fc2.bias', shape: [24] },
  { name: 'fc3.weight', shape: [5, 24] },
  { name: 'fc3.bias', shape: [5] },
];

/** The MLP's hidden units reordered: the child's unit j of layer 1 is the parent's unit p1[j]. */
function permutedMlp(w: Weights, p1: number[], p2: number[]): Weights {
  return edited(w, {
    'fc1.weight': (t) => permuteRows(t, p1),
    'fc1.bias': (t) => permuteRows(t, p1),
    'fc2.weight': (t) => permuteCols(permuteRows(t, p2), p1),
    'fc2.bias': (t) => permuteRows(t, p2),
    'fc3.weight': (t) => permuteCols(t, p2),
  });
}

function moved(p: readonly number[]): number {
  return p.filter((v, i) => v !== i).length;
}

describe('compareAligned: a plain MLP', () => {
  const parent = syntheticStateDict(MLP_SPECS, 31);
  const tuned = perturbed(parent, 32, 0.01);
  const p1 = shuffled(32, 1);
  const p2 = shuffled(24, 2);
  const child = permutedMlp(tuned, p1, p2);

  it('the reordering keeps the function', () => {
    for (let s = 0; s < 4; s++) {
      const x = randomInput(16, 100 + s);
      expect(maxRelativeDifference(mlpForward(tuned, x), mlpForward(child, x))).toBeLessThan(1e-12);
    }
  });

  it('plain distance looks unrelated; aligned distance is the fine-tune distance and every unit is recovered', async () => {
    const a = memorySource(parent, 'parent');
    const plain = await compareModels(a, memorySource(child, 'child'));
    const unrelated = await compareModels(a, memorySource(syntheticStateDict(MLP_SPECS, 77), 'other'));
    const beforePermuting = await compareModels(a, memorySource(tuned, 'tuned'));
    const aligned = await compareAligned(a, memorySource(child, 'child'));
    expect(plain.distance!).toBeGreaterThan(0.7 * unrelated.distance!);
    expect(beforePermuting.distance!).toBeLessThan(0.05);
    expect(aligned.comparison.distance!).toBeCloseTo(beforePermuting.distance!, 12);
    expect(aligned.groups.map((g) => [g.label, g.units])).toEqual([
      ['fc1', 32],
      ['fc2', 24],
    ]);
    expect([...aligned.groups[0].permutation]).toEqual(inverse(p1));
    expect([...aligned.groups[1].permutation]).toEqual(inverse(p2));
    expect(aligned.groups.map((g) => g.moved)).toEqual([moved(p1), moved(p2)]);
    aligned.comparison.tensors.forEach((t, i) => expect(t.sums.dd).toBeCloseTo(beforePermuting.tensors[i].sums.dd, 12));
  });

  it('an unpermuted child keeps the identity and compareModels numbers', async () => {
    const a = memorySource(parent, 'parent');
    const aligned = await compareAligned(a, memorySource(tuned, 'tuned'));
    const plain = await compareModels(a, memorySource(tuned, 'tuned'));
    expect(aligned.groups.map((g) => g.moved)).toEqual([0, 0]);
    expect(aligned.comparison.distance).toBe(plain.distance);
    expect(aligned.comparison.tensors.map((t) => t.sums)).toEqual(plain.tensors.map((t) => t.sums));
  });

  it('a layer of 1100 units goes through the approximate assignment and is recovered', async () => {
    const specs: SyntheticTensorSpec[] = [
      { name: 'fc1.weight', shape: [1100, 12] },
      { name: 'fc1.bias', shape: [1100] },
      { name: 'fc2.weight', shape: [4, 1100] },
    ];
    const w = syntheticStateDict(specs, 5);
    const t = perturbed(w, 6, 0.005);
    const p = shuffled(1100, 3);
    const child = edited(t, { 'fc1.weight': (x) => permuteRows(x, p), 'fc1.bias': (x) => permuteRows(x, p), 'fc2.weight': (x) => permuteCols(x, p) });
    const aligned = await compareAligned(memorySource(w, 'a'), memorySource(child, 'b'));
    const recovered = inverse(p).filter((v, i) => aligned.groups[0].permutation[i] === v).length;
    expect(recovered / 1100).toBeGreaterThanOrEqual(0.99);
  });
});

const { hidden, heads, kvHeads, ffn, layers } = LLAMA;
const HEAD_DIM = hidden / heads;
const CONFIG = { num_attention_heads: heads, num_key_value_heads: kvHeads };

interface LlamaShuffle {
  mlp: number[];
  kv: number[];
  /** Query heads: the child's head j is the parent's head q[j]. */
  q: number[];
}

/** Key/value heads reordered by kv; query head (g, t) of the child is the parent's (kv[g], within[g][t]). */
function llamaShuffle(seed: number): LlamaShuffle {
  const group = heads / kvHeads;
  const kv = shuffled(kvHeads, seed);
  const q: number[] = [];
  kv.forEach((src, g) => {
    for (const t of shuffled(group, seed + 10 + g)) q.push(src * group + t);
  });
  return { mlp: shuffled(ffn, seed + 20), kv, q };
}

function permutedLlama(w: Weights, perLayer: LlamaShuffle[]): Weights {
  const edits: Record<string, (t: Tensor) => Tensor> = {};
  perLayer.forEach((s, l) => {
    const p = `model.layers.${l}`;
    edits[`${p}.mlp.gate_proj.weight`] = (t) => permuteRows(t, s.mlp);
    edits[`${p}.mlp.up_proj.weight`] = (t) => permuteRows(t, s.mlp);
    edits[`${p}.mlp.down_proj.weight`] = (t) => permuteCols(t, s.mlp);
    edits[`${p}.self_attn.q_proj.weight`] = (t) => permuteRows(t, s.q, HEAD_DIM);
    edits[`${p}.self_attn.k_proj.weight`] = (t) => permuteRows(t, s.kv, HEAD_DIM);
    edits[`${p}.self_attn.v_proj.weight`] = (t) => permuteRows(t, s.kv, HEAD_DIM);
    edits[`${p}.self_attn.o_proj.weight`] = (t) => permuteCols(t, s.q, HEAD_DIM);
  });
  return edited(w, edits);
}

describe('compareAligned: a Llama with grouped-query attention', () => {
  const parent = llamaWeights(41);
  const tuned = perturbed(parent, 42, 0.01);
  const shuffles = Array.from({ length: layers }, (_, l) => llamaShuffle(50 + 7 * l));
  const child = permutedLlama(tuned, shuffles);

  it('the reordering keeps every layer’s function', () => {
    const xs = [0, 1, 2].map((t) => randomInput(hidden, 200 + t));
    for (let l = 0; l < layers; l++) {
      const before = llamaLayerForward(tuned, l, xs, heads, kvHeads);
      const after = llamaLayerForward(child, l, xs, heads, kvHeads);
      before.forEach((y, t) => expect(maxRelativeDifference(y, after[t])).toBeLessThan(1e-12));
    }
  });

  it('finds the groups: heads with key/value heads outside, then the MLP, per layer', async () => {
    const a = memorySource(parent, 'a', { config: CONFIG });
    const b = memorySource(child, 'b', { config: CONFIG });
    const { pairs } = await matchTensors(a, b);
    const groups = inferUnitGroups(pairs, { a: describeNaming(a), b: describeNaming(b) });
    expect(groups.map((g) => [g.label, g.units, g.outer?.units])).toEqual([
      ['blk.0.attn heads', 4, 2],
      ['blk.0.ffn', 20, undefined],
      ['blk.1.attn heads', 4, 2],
      ['blk.1.ffn', 20, undefined],
    ]);
    expect(groups[0].members).toEqual([
      { name: 'model.layers.0.self_attn.q_proj.weight', axis: 0, block: HEAD_DIM },
      { name: 'model.layers.0.self_attn.o_proj.weight', axis: 1, block: HEAD_DIM },
    ]);
    expect(groups[0].outer?.members.map((m) => [m.name, m.axis, m.block])).toEqual([
      ['model.layers.0.self_attn.k_proj.weight', 0, HEAD_DIM],
      ['model.layers.0.self_attn.v_proj.weight', 0, HEAD_DIM],
    ]);
    expect(groups[1].members.map((m) => [m.name.replace('model.layers.0.mlp.', ''), m.axis])).toEqual([
      ['up_proj.weight', 0],
      ['gate_proj.weight', 0],
      ['down_proj.weight', 1],
    ]);
  });

  const expectations = (aligned: Awaited<ReturnType<typeof compareAligned>>, unpermuted: number) => {
    expect(Math.abs(aligned.comparison.distance! - unpermuted) / unpermuted).toBeLessThan(1e-9);
    const expected = shuffles.flatMap((s, l) => [
      [`blk.${l}.attn heads`, inverse(s.q)],
      [`blk.${l}.attn kv heads`, inverse(s.kv)],
      [`blk.${l}.ffn`, inverse(s.mlp)],
    ]);
    expect(aligned.groups.map((g) => [g.label, [...g.permutation]])).toEqual(expected);
  };

  it('aligned distance equals the distance before permuting (Hugging Face names)', async () => {
    const a = memorySource(parent, 'a', { config: CONFIG });
    const unpermuted = (await compareModels(a, memorySource(tuned, 't', { config: CONFIG }))).distance!;
    const plain = (await compareModels(a, memorySource(child, 'b', { config: CONFIG }))).distance!;
    const aligned = await compareAligned(a, memorySource(child, 'b', { config: CONFIG }), { blockBytes: 256 });
    expect(plain).toBeGreaterThan(5 * unpermuted);
    expectations(aligned, unpermuted);
  });

  it('and against the child converted to GGUF (llama.cpp names, rotary rows permuted)', async () => {
    const a = memorySource(parent, 'a', { config: CONFIG });
    const unpermuted = (await compareModels(a, memorySource(tuned, 't', { config: CONFIG }))).distance!;
    const gguf = memorySource(llamaToGguf(child), 'b.gguf', { format: 'gguf', metadata: GGUF_LLAMA_METADATA });
    const aligned = await compareAligned(a, gguf);
    expect(aligned.comparison.tensors.filter((t) => t.transform === 'rope-unpermute').length).toBe(2 * layers);
    expectations(aligned, unpermuted);
  });
});

describe('compareAligned: a convnet with BatchNorm', () => {
  const bn = (p: string, c: number): SyntheticTensorSpec[] => [
    { name: `${p}.weight`, shape: [c] },
    { name: `${p}.bias`, shape: [c] },
    { name: `${p}.running_mean`, shape: [c] },
    { name: `${p}.running_var`, shape: [c] },
    { name: `${p}.num_batches_tracked`, shape: [], dtype: 'int64' },
  ];
  const specs: SyntheticTensorSpec[] = [
    { name: 'conv1.weight', shape: [8, 3, 3, 3] },
    ...bn('bn1', 8),
    { name: 'conv2.weight', shape: [12, 8, 3, 3] },
    ...bn('bn2', 12),
    { name: 'fc.weight', shape: [5, 48] },
    { name: 'fc.bias', shape: [5] },
  ];
  const parent = syntheticStateDict(specs, 61);
  const tuned = perturbed(parent, 62, 0.01);
  const p1 = shuffled(8, 4);
  const p2 = shuffled(12, 5);
  const perChannel = (p: string, src: number[]) =>
    Object.fromEntries(['weight', 'bias', 'running_mean', 'running_var'].map((s) => [`${p}.${s}`, (t: Tensor) => permuteRows(t, src)]));
  const child = edited(tuned, {
    'conv1.weight': (t) => permuteRows(t, p1),
    ...perChannel('bn1', p1),
    // Rows are conv2's output channels, columns blocks of 3 x 3 per input channel.
    'conv2.weight': (t) => permuteCols(permuteRows(t, p2), p1, 9),
    ...perChannel('bn2', p2),
    // Flattened [12, 2, 2]: 4 columns per channel.
    'fc.weight': (t) => permuteCols(t, p2, 4),
  });

  it('the reordering keeps the function', () => {
    for (let s = 0; s < 3; s++) {
      const x = randomInput(48, 300 + s);
      expect(maxRelativeDifference(convForward(tuned, x), convForward(child, x))).toBeLessThan(1e-12);
    }
  });

  it('aligns conv output channels with their BatchNorm and the next layer’s inputs', async () => {
    const a = memorySource(parent, 'a');
    const unpermuted = await compareModels(a, memorySource(tuned, 't'));
    const plain = await compareModels(a, memorySource(child, 'b'));
    const aligned = await compareAligned(a, memorySource(child, 'b'), { blockBytes: 64 });
    expect(plain.distance!).toBeGreaterThan(5 * unpermuted.distance!);
    expect(Math.abs(aligned.comparison.distance! - unpermuted.distance!) / unpermuted.distance!).toBeLessThan(1e-9);
    expect(aligned.groups.map((g) => [g.label, [...g.permutation]])).toEqual([
      ['conv1', inverse(p1)],
      ['conv2', inverse(p2)],
    ]);
  });
});

describe('group inference from names', () => {
  async function groupsOf(w: Weights) {
    const s = memorySource(w, 'm');
    const { pairs } = await matchTensors(s, s);
    return inferUnitGroups(pairs, { a: describeNaming(s), b: describeNaming(s) });
  }

  it('GPT-2 (Conv1D [in, out]): MLP units are c_fc columns and c_proj rows; fused attention is left alone', async () => {
    const groups = await groupsOf(gpt2Weights(3));
    expect(groups.map((g) => g.label)).toEqual(['blk.0.ffn', 'blk.1.ffn']);
    expect(groups[0].members).toEqual([
      { name: 'transformer.h.0.mlp.c_fc.weight', axis: 1, block: 1 },
      { name: 'transformer.h.0.mlp.c_fc.bias', axis: 0, block: 1 },
      { name: 'transformer.h.0.mlp.c_proj.weight', axis: 0, block: 1 },
    ]);
  });

  it('a ResNet block: conv1 -> conv2 inside the block; block outputs (the residual stream) and the stem stay put', async () => {
    const specs: SyntheticTensorSpec[] = [
      { name: 'conv1.weight', shape: [8, 3, 3, 3] },
      { name: 'bn1.weight', shape: [8] },
      { name: 'bn1.bias', shape: [8] },
      { name: 'layer1.0.conv1.weight', shape: [8, 8, 3, 3] },
      { name: 'layer1.0.bn1.weight', shape: [8] },
      { name: 'layer1.0.bn1.bias', shape: [8] },
      { name: 'layer1.0.conv2.weight', shape: [8, 8, 3, 3] },
      { name: 'layer1.0.bn2.weight', shape: [8] },
      { name: 'layer1.0.bn2.bias', shape: [8] },
      { name: 'layer1.1.conv1.weight', shape: [8, 8, 3, 3] },
      { name: 'fc.weight', shape: [10, 8] },
    ];
    const groups = await groupsOf(syntheticStateDict(specs, 1));
    expect(groups.map((g) => [g.label, g.members.map((m) => `${m.name}#${m.axis}/${m.block}`)])).toEqual([
      ['layer1.0.conv1', ['layer1.0.conv1.weight#0/1', 'layer1.0.bn1.weight#0/1', 'layer1.0.bn1.bias#0/1', 'layer1.0.conv2.weight#1/9']],
    ]);
  });
});

describe('assignment', () => {
  function permutations(n: number): number[][] {
    if (n === 0) return [[]];
    return permutations(n - 1).flatMap((p) => Array.from({ length: n }, (_, i) => [...p.slice(0, i), n - 1, ...p.slice(i)]));
  }

  it('maxAssignment finds the best of all 720 permutations of random 6 x 6 scores', () => {
    const rng = new Rng(9);
    for (let trial = 0; trial < 20; trial++) {
      const score = Float64Array.from({ length: 36 }, () => rng.normal());
      const value = (p: ArrayLike<number>) => Array.from({ length: 6 }, (_, i) => score[i * 6 + p[i]]).reduce((x, y) => x + y, 0);
      const best = Math.max(...permutations(6).map(value));
      expect(value(maxAssignment(score, 6))).toBeCloseTo(best, 12);
    }
  });

  function noisyPermuted(n: number, length: number, noise: number, seed: number) {
    const rng = new Rng(seed);
    const fa = Float32Array.from({ length: n * length }, () => rng.normal());
    const src = shuffled(n, seed + 1);
    const fb = new Float32Array(n * length);
    for (let j = 0; j < n; j++) for (let c = 0; c < length; c++) fb[j * length + c] = fa[src[j] * length + c] + noise * rng.normal();
    return { fa, fb, expected: inverse(src) };
  }

  it('approximate assignment of 2048 units (256 values each, noise std 1 against unit-variance weights: cosine 0.71) recovers >= 99%', () => {
    const n = 2048;
    const { fa, fb, expected } = noisyPermuted(n, 256, 1, 11);
    const started = performance.now();
    const perm = approximateAssignment(fa, fb, n, 256);
    const seconds = (performance.now() - started) / 1000;
    const recovered = expected.filter((v, i) => perm[i] === v).length / n;
    console.log(`approximate assignment, n = ${n}, noise 1: ${(100 * recovered).toFixed(2)}% recovered in ${seconds.toFixed(2)} s`);
    expect(recovered).toBeGreaterThanOrEqual(0.99);
  });

  it('on unrelated units it still returns a permutation', () => {
    const rng = new Rng(12);
    const n = 1500;
    const fa = Float32Array.from({ length: n * 32 }, () => rng.normal());
    const fb = Float32Array.from({ length: n * 32 }, () => rng.normal());
    const perm = approximateAssignment(fa, fb, n, 32, { exactLimit: 200 });
    expect(new Set(perm).size).toBe(n);
    expect(Math.min(...perm)).toBe(0);
    expect(Math.max(...perm)).toBe(n - 1);
  });
});
