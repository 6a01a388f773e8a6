/** Fine-tuning modes change exactly the tensors they should; heads have the documented shapes. */
import { beforeAll, describe, expect, it } from 'vitest';
import type * as tfTypes from '@tensorflow/tfjs-core';
import { initTfjs } from '../../src/runtime/tfjs/backend.js';
import { mlpSpec } from '../../src/archs/mlp.js';
import { buildGraph, inferArchitecture } from '../../src/archs/registry.js';
import { interpretGraph } from '../../src/runtime/tfjs/interpreter.js';
import { Rng } from '../../src/base/random.js';
import type { Dataset, DetectionDataset, SegmentationDataset } from '../../src/data/types.js';
import { initWeights } from '../../src/train/init.js';
import { type FinetuneMode, prepareFinetune } from '../../src/train/finetune.js';
import { TrainSession, runTraining, type TrainConfig } from '../../src/train/trainer.js';
import { parseSafetensors } from '../../src/formats/safetensors.js';
import { serializeSafetensors } from '../../src/formats/safetensors.js';
import { type Weights, tensorsIdentical, toFloat32 } from '../../src/tensor.js';
import { maxAbsDiff } from './reference.js';

let tf: typeof tfTypes;
beforeAll(async () => {
  tf = await initTfjs('wasm');
});

function randomImages(n: number, shape: [number, number, number], classes: number, seed: number): Dataset {
  const rng = new Rng(seed);
  const inputs = Float32Array.from({ length: n * shape[0] * shape[1] * shape[2] }, () => rng.normal());
  const labels = Int32Array.from({ length: n }, () => rng.int(classes));
  return { name: 'random', inputs, shape, labels, numClasses: classes };
}

const CONFIG: TrainConfig = { optimizer: 'sgd', lr: 0.05, momentum: 0.9, batchSize: 16, steps: 4, seed: 1 };

async function finetune(weights: Weights, data: Dataset | SegmentationDataset | DetectionDataset, mode: FinetuneMode, extra: { slots?: number } = {}) {
  const plan = prepareFinetune(weights, {
    kind: data.kind ?? 'classification',
    numClasses: data.numClasses,
    inputShape: [...data.shape],
    mode,
    seed: 7,
    ...extra,
  });
  const session = new TrainSession(plan, CONFIG, data.shape);
  await runTraining(session, data, CONFIG);
  const result = { plan, state: session.stateDict(), adapters: session.adapters(), params: session.params() };
  return { ...result, dispose: () => session.dispose() };
}

function changed(before: Weights, after: Weights): string[] {
  return [...after.keys()].filter((k) => !before.has(k) || !tensorsIdentical(before.get(k)!, after.get(k)!));
}

const convnet = () => initWeights({ name: 'convnet', inChannels: 1, widths: [4, 6, 8], numClasses: 3 }, 3);
const convData = () => randomImages(48, [1, 8, 8], 3, 5);

describe('fine-tuning modes', () => {
  it('full: every parameter and BatchNorm statistic changes; num_batches_tracked counts steps', async () => {
    const before = convnet();
    const r = await finetune(before, convData(), { kind: 'full' });
    expect(changed(before, r.state).sort()).toEqual([...before.keys()].sort());
    expect(Number((r.state.get('blocks.1.bn.num_batches_tracked')!.data as BigInt64Array)[0])).toBe(4);
    r.dispose();
  });

  it('head-only: only the head changes (BatchNorm statistics frozen too)', async () => {
    const before = convnet();
    const r = await finetune(before, convData(), { kind: 'head-only' });
    expect(changed(before, r.state).sort()).toEqual(['head.bias', 'head.weight']);
    r.dispose();
  });

  it('partial:1 on a convnet leaves block 0 bit-identical and trains the rest', async () => {
    const before = convnet();
    const r = await finetune(before, convData(), { kind: 'partial', frozenBlocks: 1 });
    expect(r.plan.frozenLayers).toEqual(['block0']);
    const diff = changed(before, r.state);
    expect(diff.filter((k) => k.startsWith('blocks.0.'))).toEqual([]);
    for (const k of before.keys()) if (!k.startsWith('blocks.0.')) expect(diff, k).toContain(k);
    r.dispose();
  });

  it('partial:2 on an MLP freezes fc1 and fc2 only', async () => {
    const before = initWeights(mlpSpec([64, 16, 12, 8, 3]), 2);
    const r = await finetune(before, randomImages(48, [1, 8, 8], 3, 6), { kind: 'partial', frozenBlocks: 2 });
    expect(r.plan.frozenLayers).toEqual(['fc1', 'fc2']);
    expect(changed(before, r.state).sort()).toEqual(['fc3.bias', 'fc3.weight', 'fc4.bias', 'fc4.weight']);
    r.dispose();
  });

  it('partial:k beyond the block count is an error naming the blocks', () => {
    expect(() =>
      prepareFinetune(convnet(), { kind: 'classification', numClasses: 3, inputShape: [1, 8, 8], mode: { kind: 'partial', frozenBlocks: 4 }, seed: 0 }),
    ).toThrow(/3 blocks \(block0, block1, block2\)/);
  });

  it('LoRA: merged state dict is the base architecture; adapters are <layer>.lora_A/B; merge = W + alpha/r B A', async () => {
    const before = initWeights(mlpSpec([64, 16, 12, 3]), 4);
    const r = await finetune(before, randomImages(48, [1, 8, 8], 3, 7), { kind: 'lora', rank: 2, alpha: 4 });
    // the merged file is an ordinary MLP state dict with the base keys and shapes
    const file = parseSafetensors(serializeSafetensors(r.state));
    expect([...file.weights.keys()]).toEqual([...before.keys()]);
    expect(inferArchitecture(file.weights)).toEqual(inferArchitecture(before));
    // adapters on every Linear but the head, with the documented shapes
    const adapters = r.adapters!;
    expect([...adapters.keys()]).toEqual(['fc1.lora_A', 'fc1.lora_B', 'fc2.lora_A', 'fc2.lora_B']);
    expect(adapters.get('fc1.lora_A')!.shape).toEqual([2, 64]);
    expect(adapters.get('fc1.lora_B')!.shape).toEqual([16, 2]);
    // biases of adapted layers are frozen; the head trains
    expect(changed(before, r.state).sort()).toEqual(['fc1.weight', 'fc2.weight', 'fc3.bias', 'fc3.weight']);
    // merge formula, recomputed here in float64
    const w = toFloat32(before.get('fc1.weight')!);
    const a = toFloat32(adapters.get('fc1.lora_A')!);
    const b = toFloat32(adapters.get('fc1.lora_B')!);
    const expected = Array.from(w, (v, idx) => {
      const i = Math.floor(idx / 64);
      const j = idx % 64;
      return v + 2 * (b[i * 2] * a[j] + b[i * 2 + 1] * a[64 + j]);
    });
    expect(maxAbsDiff(toFloat32(r.state.get('fc1.weight')!), expected)).toBeLessThan(1e-6);
    // the merged model computes what the adapted one did
    const x = tf.randomNormal([5, 1, 8, 8], 0, 1, 'float32', 3);
    const adapted = interpretGraph(r.plan.evalGraph, { input: x }, [r.plan.output], r.params)[r.plan.output];
    const built = buildGraph(file.weights, { inputShape: [1, 8, 8] });
    const merged = interpretGraph(built.graph, { input: x }, [built.graph.taps.get('logits')!])[built.graph.taps.get('logits')!];
    expect(maxAbsDiff(adapted.dataSync() as Float32Array, merged.dataSync() as Float32Array)).toBeLessThan(1e-5);
    r.dispose();
  });

  it('LoRA on a convnet adapts the convolutions with A [r, C_in*3*3], B [C_out, r]', async () => {
    const before = convnet();
    const r = await finetune(before, convData(), { kind: 'lora', rank: 3, alpha: 3 });
    const adapters = r.adapters!;
    expect([...adapters.keys()]).toEqual([
      'blocks.0.conv.lora_A',
      'blocks.0.conv.lora_B',
      'blocks.1.conv.lora_A',
      'blocks.1.conv.lora_B',
      'blocks.2.conv.lora_A',
      'blocks.2.conv.lora_B',
    ]);
    expect(adapters.get('blocks.1.conv.lora_A')!.shape).toEqual([3, 4 * 9]);
    expect(adapters.get('blocks.1.conv.lora_B')!.shape).toEqual([6, 3]);
    expect(changed(before, r.state).sort()).toEqual(['blocks.0.conv.weight', 'blocks.1.conv.weight', 'blocks.2.conv.weight', 'head.bias', 'head.weight']);
    r.dispose();
  });
});

describe('heads', () => {
  it('a new class count replaces the head (seeded) and keeps the backbone', () => {
    const before = initWeights(mlpSpec([64, 16, 3]), 1);
    const plan = prepareFinetune(before, { kind: 'classification', numClasses: 5, inputShape: [1, 8, 8], mode: { kind: 'full' }, seed: 9 });
    expect(plan.headReplaced).toBe(true);
    expect(plan.initial.get('fc2.weight')!.shape).toEqual([5, 16]);
    expect(tensorsIdentical(plan.initial.get('fc1.weight')!, before.get('fc1.weight')!)).toBe(true);
    const again = prepareFinetune(before, { kind: 'classification', numClasses: 5, inputShape: [1, 8, 8], mode: { kind: 'full' }, seed: 9 });
    expect(tensorsIdentical(plan.initial.get('fc2.weight')!, again.initial.get('fc2.weight')!)).toBe(true);
  });

  it('segmentation head: 1x1 conv on the last block, nearest-upsampled to the canvas', () => {
    const plan = prepareFinetune(convnet(), { kind: 'segmentation', numClasses: 4, inputShape: [1, 16, 16], mode: { kind: 'full' }, seed: 1 });
    expect(plan.initial.get('seg_head.weight')!.shape).toEqual([4, 8, 1, 1]);
    const x = tf.randomNormal([2, 1, 16, 16], 0, 1, 'float32', 4);
    const out = interpretGraph(plan.evalGraph, { input: x }, [plan.output, 'seg_head/conv']);
    expect(out[plan.output].shape).toEqual([2, 4, 16, 16]);
    // last block of a 3-block convnet is at 1/4 resolution: output pixel (y, x) = low-res (y>>2, x>>2)
    const low = out['seg_head/conv'].arraySync() as number[][][][];
    const high = out[plan.output].arraySync() as number[][][][];
    for (const [y, xx] of [
      [0, 0],
      [3, 5],
      [15, 15],
      [8, 2],
    ])
      expect(high[1][2][y][xx]).toBe(low[1][2][y >> 2][xx >> 2]);
  });

  it('detection head: Linear on penultimate with slots x (4 + classes) outputs', () => {
    const plan = prepareFinetune(convnet(), { kind: 'detection', numClasses: 10, slots: 2, inputShape: [1, 16, 16], mode: { kind: 'full' }, seed: 1 });
    expect(plan.initial.get('det_head.weight')!.shape).toEqual([2 * 14, 8]);
    const out = interpretGraph(plan.evalGraph, { input: tf.zeros([3, 1, 16, 16]) }, [plan.output])[plan.output];
    expect(out.shape).toEqual([3, 28]);
  });

  it('dense heads need a convolutional backbone', () => {
    expect(() =>
      prepareFinetune(initWeights(mlpSpec([256, 8, 3]), 0), { kind: 'segmentation', numClasses: 4, inputShape: [1, 16, 16], mode: { kind: 'full' }, seed: 1 }),
    ).toThrow(/convolutional backbone/);
  });

  it('segmentation and detection children train (loss falls on a fixed batch)', async () => {
    const rng = new Rng(3);
    const n = 16;
    // constant over 4x4 blocks: learnable through a head that works at 1/4 resolution
    const blocks = Float32Array.from({ length: n * 16 }, () => rng.next());
    const inputs = Float32Array.from({ length: n * 256 }, (_, i) => blocks[Math.floor(i / 256) * 16 + (((i % 256) >> 6) << 2) + ((i % 16) >> 2)]);
    const masks = Int32Array.from(inputs, (v) => (v > 0.7 ? 2 : v > 0.4 ? 1 : 0));
    const seg: SegmentationDataset = { kind: 'segmentation', name: 'seg', inputs, shape: [1, 16, 16], masks, numClasses: 3 };
    const boxes = Float32Array.from({ length: n * 4 }, (_, i) => (i % 4 < 2 ? 0.2 : 0.7));
    const det: DetectionDataset = {
      kind: 'detection',
      name: 'det',
      inputs,
      shape: [1, 16, 16],
      maxObjects: 1,
      boxes,
      classes: Int32Array.from({ length: n }, (_, i) => i % 3),
      numClasses: 3,
    };
    for (const data of [seg, det]) {
      const plan = prepareFinetune(convnet(), {
        kind: data.kind,
        numClasses: 3,
        inputShape: [1, 16, 16],
        mode: { kind: 'full' },
        seed: 1,
        ...(data.kind === 'detection' ? { slots: 1 } : {}),
      });
      const config: TrainConfig = { optimizer: 'adam', lr: 0.01, batchSize: n, steps: 30, seed: 0 };
      const session = new TrainSession(plan, config, [1, 16, 16]);
      const summary = await runTraining(session, data, config);
      expect(summary.finalLoss, data.kind).toBeLessThan(summary.firstLoss * 0.9);
      session.dispose();
    }
  });
});
