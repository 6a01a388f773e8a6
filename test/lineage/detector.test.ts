import { describe, it, expect, beforeAll, vi } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { Command } from 'commander';
import * as tf from '@tensorflow/tfjs-core';
import { initTfjs } from '../../src/runtime/tfjs/backend.js';
import { crossEntropy } from '../../src/nn/losses.js';
import { makeTensor, type Tensor, type Weights } from '../../src/tensor.js';
import { InputError } from '../../src/base/errors.js';
import { readNpy, writeNpy } from '../../src/formats/npy.js';
import { readSafetensorsFile, writeSafetensors } from '../../src/formats/safetensors.js';
import { syntheticStateDict } from '../../src/testing/synthetic-weights.js';
import type { DetectorArchitecture } from '../../src/lineage/detector/config.js';
import { parseLayerSpec, poolMatrix, resolveWeightKey, weightMatrix } from '../../src/lineage/detector/inputs.js';
import { type BatchNormStatistics, type DetectorBatch, DetectorModel, parameterSpecs } from '../../src/lineage/detector/model.js';
import { loadDetector, saveDetector } from '../../src/lineage/detector/io.js';
import { detectorScores } from '../../src/lineage/detector/predict.js';
import { evaluateDetector } from '../../src/lineage/detector/evaluate.js';
import { type TrainDetectorResult, splitKeys, trainDetector } from '../../src/lineage/detector/train.js';
import { registerDetector } from '../../src/cli/commands/detector.js';
import { buildZoo } from '../../src/train/zoo-build.js';
import { checkZooSpec } from '../../src/train/zoo-spec-check.js';

const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'detector');

interface Stored {
  shape: number[];
  data: number[];
}
interface Reference {
  pool: { rows: number; cols: number; input: number[]; outRows: number; outCols: number; output: number[] }[];
  detector: {
    arch: DetectorArchitecture;
    batch: number;
    candidates: number;
    weights: Record<string, Stored>;
    images: Record<string, Stored>;
    labels: number[];
    eval_logits: number[];
    train_logits: number[];
    loss: number;
    grads: Record<string, number[]>;
    running: Record<string, number[]>;
  };
}

const reference = JSON.parse(readFileSync(join(FIXTURES, 'reference.json'), 'utf8')) as Reference;

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('detector inputs', () => {
  it('pools matrices like torch adaptive_avg_pool2d', () => {
    for (const c of reference.pool) {
      const out = poolMatrix({ rows: c.rows, cols: c.cols, data: Float32Array.from(c.input) }, c.outRows, c.outCols);
      expect([out.rows, out.cols]).toEqual([c.outRows, c.outCols]);
      expect(maxAbsDiff(out.data, c.output)).toBeLessThan(1e-5);
    }
  });
});

describe('detector model against PyTorch', () => {
  const ref = reference.detector;
  const weights: Weights = new Map(Object.entries(ref.weights).map(([k, t]) => [k, makeTensor('float32', t.shape, Float32Array.from(t.data))]));
  const batch: DetectorBatch = {
    batch: ref.batch,
    candidates: ref.candidates,
    images: new Map(Object.entries(ref.images).map(([k, t]) => [k, { shape: t.shape as [number, number, number, number], data: Float32Array.from(t.data) }])),
  };

  it('has exactly the fixture tensors', () => {
    expect(
      parameterSpecs(ref.arch)
        .map((s) => s.name)
        .sort(),
    ).toEqual(Object.keys(ref.weights).sort());
  });

  it('matches eval logits, train logits, loss, gradients and running statistics', async () => {
    await initTfjs('wasm');
    const model = new DetectorModel(ref.arch, weights);
    try {
      const evalLogits = tf.tidy(() => model.forward(batch, false).dataSync());
      expect(maxAbsDiff(evalLogits, ref.eval_logits)).toBeLessThan(1e-4);
      const stats: BatchNormStatistics[] = [];
      const params = [...model.parameters.variables.values()];
      const names = new Map([...model.parameters.variables].map(([n, v]) => [v.name, n]));
      let trainLogits: Float32Array = new Float32Array();
      const { value, grads } = tf.variableGrads(() => {
        const logits = model.forward(batch, true, stats);
        trainLogits = logits.dataSync() as Float32Array;
        return crossEntropy(tf, logits, Int32Array.from(ref.labels));
      }, params);
      expect(maxAbsDiff(trainLogits, ref.train_logits)).toBeLessThan(1e-4);
      expect(Math.abs(value.dataSync()[0] - ref.loss)).toBeLessThan(1e-5);
      expect(Object.keys(grads).length).toBe(Object.keys(ref.grads).length);
      for (const [varName, g] of Object.entries(grads)) {
        const name = names.get(varName)!;
        const expected = ref.grads[name];
        const scale = Math.max(1e-3, ...expected.map(Math.abs));
        expect(maxAbsDiff(g.dataSync(), expected) / scale, name).toBeLessThan(1e-3);
      }
      model.updateRunningStats(stats);
      for (const [name, expected] of Object.entries(ref.running)) {
        expect(maxAbsDiff(model.parameters.buffer(name).dataSync(), expected), name).toBeLessThan(1e-5);
      }
      value.dispose();
      for (const g of Object.values(grads)) g.dispose();
    } finally {
      model.dispose();
    }
  });
});

describe('detector input helpers', () => {
  it('reshapes conv kernels to [out, in*kh*kw] in C order', () => {
    const data = Float32Array.from({ length: 4 * 3 * 2 * 2 }, (_, i) => i);
    const m = weightMatrix(makeTensor('float32', [4, 3, 2, 2], data), 'conv.weight');
    expect([m.rows, m.cols]).toEqual([4, 12]);
    // element [o=2, i=1, kh=1, kw=0] sits at row 2, column 1*4 + 1*2 + 0 = 6
    expect(m.data[2 * 12 + 6]).toBe(2 * 12 + 1 * 4 + 1 * 2 + 0);
    expect(() => weightMatrix(makeTensor('float32', [4], new Float32Array(4)), 'bn.weight')).toThrow(/bn\.weight has shape \[4\]/);
  });

  it('resolves layer specs to weight keys', () => {
    const t = (shape: number[]) => makeTensor('float32', shape, new Float32Array(shape.reduce((a, b) => a * b, 1)));
    const mlp: Weights = new Map([
      ['fc1.weight', t([8, 4])],
      ['fc1.bias', t([8])],
      ['fc2.weight', t([6, 8])],
      ['fc2.bias', t([6])],
      ['fc3.weight', t([3, 6])],
      ['fc3.bias', t([3])],
    ]);
    const head = ['fc3.weight', 'fc3.bias'];
    expect(resolveWeightKey(mlp, head, parseLayerSpec('penultimate'))).toBe('fc2.weight');
    expect(resolveWeightKey(mlp, head, parseLayerSpec('fc1'))).toBe('fc1.weight');
    expect(resolveWeightKey(mlp, head, parseLayerSpec('penultimate:fc1'))).toBe('fc1.weight');
    const resnet: Weights = new Map([
      ['conv1.weight', t([4, 3, 3, 3])],
      ['layer3.0.conv1.weight', t([4, 4, 3, 3])],
      ['layer3.0.bn1.weight', t([4])],
      ['layer3.1.conv2.weight', t([4, 4, 3, 3])],
      ['layer3.1.bn2.running_mean', t([4])],
      ['fc.weight', t([2, 4])],
    ]);
    expect(resolveWeightKey(resnet, ['fc.weight'], parseLayerSpec('layer3'))).toBe('layer3.1.conv2.weight');
    expect(resolveWeightKey(resnet, ['fc.weight'], parseLayerSpec('layer3:layer3.0.conv1'))).toBe('layer3.0.conv1.weight');
    expect(resolveWeightKey(resnet, ['fc.weight'], parseLayerSpec('penultimate'))).toBe('layer3.1.conv2.weight');
    expect(() => resolveWeightKey(resnet, ['fc.weight'], parseLayerSpec('stem'))).toThrow(/no weight matrix named stem.*FEATURE:WEIGHT/);
    expect(() => parseLayerSpec(':fc1')).toThrow(/FEATURE:WEIGHT/);
  });

  it('splits keys 70/10/20, disjoint and seeded', () => {
    const keys = Array.from({ length: 50 }, (_, i) => `zoo/child-${i}`);
    const s = splitKeys(keys, 0);
    expect([s.train.length, s.val.length, s.test.length]).toEqual([35, 5, 10]);
    expect(new Set([...s.train, ...s.val, ...s.test]).size).toBe(50);
    expect(splitKeys([...keys].reverse(), 0)).toEqual(s);
    expect(splitKeys(keys, 1).test).not.toEqual(s.test);
    const three = splitKeys(['a', 'b', 'c'], 0);
    expect([three.train.length, three.val.length, three.test.length]).toEqual([1, 1, 1]);
  });
});

// --- synthetic families: parents share a base, children = parent + seeded noise of varying size ---

const SIZES = [784, 24, 12, 10];
const KEYS = SIZES.slice(1).flatMap((out, i) => [
  { name: `fc${i + 1}.weight`, shape: [out, SIZES[i]] },
  { name: `fc${i + 1}.bias`, shape: [out] },
]);
const PARENTS = 4;
const CHILDREN = 10;

function shifted(base: Weights, noiseSeed: number, scale: number): Weights {
  const noise = syntheticStateDict(KEYS, noiseSeed);
  return new Map(
    [...base].map(([k, t]) => [
      k,
      makeTensor(
        'float32',
        t.shape,
        (t.data as Float32Array).map((v, i) => v + scale * (noise.get(k)!.data as Float32Array)[i]),
      ),
    ]),
  );
}

async function writeSyntheticZoo(dir: string): Promise<void> {
  mkdirSync(join(dir, 'models'), { recursive: true });
  mkdirSync(join(dir, 'probes'), { recursive: true });
  const base = syntheticStateDict(KEYS, 1000);
  const models: object[] = [];
  for (let p = 0; p < PARENTS; p++) {
    const parent = shifted(base, 2000 + p, 0.5);
    await writeSafetensors(join(dir, 'models', `p${p}.safetensors`), parent);
    models.push({ id: `p${p}`, file: `models/p${p}.safetensors`, arch: 'mlp', parent: null, generation: 0, task: 'digits' });
    for (let c = 0; c < CHILDREN; c++) {
      const scale = 0.03 + (0.2 * ((c * 7 + p * 3) % CHILDREN)) / CHILDREN;
      await writeSafetensors(join(dir, 'models', `p${p}.${c}.safetensors`), shifted(parent, 3000 + 100 * p + c, scale));
      models.push({ id: `p${p}.${c}`, file: `models/p${p}.${c}.safetensors`, arch: 'mlp', parent: `p${p}`, generation: 1, task: 'digits' });
    }
  }
  await writeNpy(
    join(dir, 'probes', 'digits.npy'),
    makeTensor(
      'float32',
      [64, 1, 28, 28],
      new Float32Array(64 * 784).map((_, i) => Math.sin(i * 12.9898) * 0.8),
    ),
  );
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ zoo: { name: 'synthetic' }, models, probes: { digits: 'probes/digits.npy' } }));
}

const tmp = mkdtempSync(join(tmpdir(), 'lineage-detector-'));
const zoo = join(tmp, 'zoo');
const modelFile = (id: string) => join(zoo, 'models', `${id}.safetensors`);
const run = promisify(execFile);
const DIST_PREDICT = join(import.meta.dirname, '..', '..', 'dist', 'lineage', 'detector', 'predict.js');
const DIST_NPY = join(import.meta.dirname, '..', '..', 'dist', 'formats', 'npy.js');

function tensorNames(weights: Weights): string[] {
  return [...weights.keys()];
}

describe('detector trained on synthetic families', () => {
  let both: TrainDetectorResult;
  const bothFile = join(tmp, 'both.safetensors');
  const probeFile = () => join(zoo, 'probes', 'digits.npy');

  beforeAll(async () => {
    await writeSyntheticZoo(zoo);
    // random 1x1 convs: the accuracy below must come from training, not from the difference init
    both = await trainDetector({ zoos: [zoo], epochs: 8, seed: 3, differenceInit: false });
    await saveDetector(bothFile, both.config, both.weights);
  });

  it('ranks the true parent first for unseen children, far above chance (4 candidates)', () => {
    expect(both.counts).toEqual({ train: 28, val: 4, test: 8 });
    const last = both.history.at(-1)!;
    expect(last.test).toBeGreaterThanOrEqual(0.8);
    expect(last.loss).toBeLessThan(both.history[0].loss * 0.5);
    expect(both.config.candidates).toEqual({ min: 4, max: 4, variable: true });
    expect(both.config.training?.splits.test).toHaveLength(8);
  });

  it('still learns when every batch runs as one-example chunks with summed gradients', async () => {
    // 4 candidates x (weights + features) x 32 channels per example: a budget of 1 forces chunks of one.
    const chunked = await trainDetector({ zoos: [zoo], epochs: 8, seed: 3, differenceInit: false, activationBudget: 1 });
    const last = chunked.history.at(-1)!;
    expect(last.test).toBeGreaterThanOrEqual(0.8);
    expect(last.loss).toBeLessThan(chunked.history[0].loss * 0.5);
    // Not the same run: the encoder's BatchNorm normalises each chunk on its own.
    expect(last.loss).not.toBe(both.history.at(-1)!.loss);
    await expect(trainDetector({ zoos: [zoo], epochs: 1, activationBudget: 0 })).rejects.toThrow(/activationBudget must be positive/);
  });

  it('saves weights and configuration that load back unchanged, and evaluates the same', async () => {
    const loaded = await loadDetector(bothFile);
    expect(loaded.config).toEqual(JSON.parse(JSON.stringify(both.config)));
    expect(tensorNames(loaded.weights)).toEqual(tensorNames(both.weights));
    for (const [k, t] of both.weights)
      expect(Buffer.from((loaded.weights.get(k)!.data as Float32Array).buffer).equals(Buffer.from((t.data as Float32Array).buffer)), k).toBe(true);
    const evaluation = await evaluateDetector(bothFile, [zoo]);
    expect(evaluation.all.examples).toBe(PARENTS * CHILDREN);
    expect([evaluation.train.examples, evaluation.val.examples, evaluation.test.examples, evaluation.unseen.examples]).toEqual([28, 4, 8, 0]);
    expect(evaluation.test.accuracy).toBe(both.history.at(-1)!.test);
  });

  it('scores candidates with probabilities and reports incompatible ones', async () => {
    const wide = join(tmp, 'wide.safetensors');
    await writeSafetensors(
      wide,
      syntheticStateDict(
        [{ name: 'fc1.weight', shape: [32, 784] }, { name: 'fc1.bias', shape: [32] }, { name: 'fc2.weight', shape: [12, 32] }, ...KEYS.slice(3)],
        9,
      ),
    );
    const childId = both.config.training!.splits.test[0].split('/')[1];
    const parentId = childId.split('.')[0];
    const candidates = [...Array.from({ length: PARENTS }, (_, p) => modelFile(`p${p}`)), wide];
    const probe = (await readNpy(probeFile())) as Tensor<'float32'>;
    const result = await detectorScores([modelFile(childId)], candidates, { detector: bothFile, probe });
    expect(Object.keys(result)).toEqual(['method', 'alpha', 'layer', 'children']);
    expect(result.method).toBe('detector');
    const child = result.children[0];
    expect(child.child).toBe(modelFile(childId));
    expect(child.parent).toBe(modelFile(parentId));
    expect(child.scores).toHaveLength(PARENTS);
    expect(child.scores.reduce((a, s) => a + s.score, 0)).toBeCloseTo(1, 5);
    expect(child.scores[0].parent).toBe(modelFile(parentId));
    expect(child.incompatible).toEqual([{ parent: wide, reason: 'tensor fc1.weight has shape [32,784] in the candidate, [24,784] in the child' }]);
    await expect(detectorScores([modelFile(childId)], candidates, { detector: bothFile })).rejects.toThrow(/uses feature inputs: give a probe/);
  });

  it('predicts bit-identically in another process (dist/)', async () => {
    if (!existsSync(DIST_PREDICT)) throw new Error(`${DIST_PREDICT} is missing: run \`npm run build\` before this test (the child process imports dist/)`);
    const script = join(tmp, 'predict.mjs');
    writeFileSync(
      script,
      `import { detectorScores } from ${JSON.stringify(pathToFileURL(DIST_PREDICT).href)};
import { readNpy } from ${JSON.stringify(pathToFileURL(DIST_NPY).href)};
const [detector, probe, ...rest] = process.argv.slice(2);
const children = rest.slice(0, 2);
const candidates = rest.slice(2);
const result = await detectorScores(children, candidates, { detector, probe: await readNpy(probe) });
process.stdout.write(JSON.stringify(result));
`,
    );
    const children = [modelFile('p0.3'), modelFile('p2.7')];
    const candidates = Array.from({ length: PARENTS }, (_, p) => modelFile(`p${p}`));
    const here = await detectorScores(children, candidates, { detector: bothFile, probe: (await readNpy(probeFile())) as Tensor<'float32'> });
    const { stdout } = await run(process.execPath, [script, bothFile, probeFile(), ...children, ...candidates], { maxBuffer: 16 << 20 });
    expect(stdout).toBe(JSON.stringify(here));
  });

  it('trains one modality at a time (ablation), deterministically', async () => {
    const weightsOnly = await trainDetector({ zoos: [zoo], epochs: 3, seed: 5, architecture: { inputs: ['weights'] } });
    const again = await trainDetector({ zoos: [zoo], epochs: 3, seed: 5, architecture: { inputs: ['weights'] } });
    const featuresOnly = await trainDetector({ zoos: [zoo], epochs: 3, seed: 5, architecture: { inputs: ['features'] } });
    const encoders = (r: TrainDetectorResult) => [
      ...new Set(
        tensorNames(r.weights)
          .filter((n) => n.startsWith('encoders.'))
          .map((n) => n.split('.').slice(1, 3).join('.')),
      ),
    ];
    expect(encoders(weightsOnly)).toEqual(['weights.0']);
    expect(encoders(featuresOnly)).toEqual(['features.0']);
    expect(encoders(both)).toEqual(['weights.0', 'features.0']);
    expect(tensorNames(weightsOnly.weights)).toContain('tokens.type.weights');
    expect(tensorNames(weightsOnly.weights)).not.toContain('tokens.type.features');
    expect(weightsOnly.config.inputs).toEqual(['weights']);
    expect(Object.keys(weightsOnly.config.normalization)).toEqual(['weights']);
    expect(featuresOnly.config.inputs).toEqual(['features']);
    expect(Object.keys(featuresOnly.config.normalization)).toEqual(['features']);
    for (const [k, t] of weightsOnly.weights)
      expect(Buffer.from((again.weights.get(k)!.data as Float32Array).buffer).equals(Buffer.from((t.data as Float32Array).buffer)), k).toBe(true);
    expect(again.history.map((h) => h.loss)).toEqual(weightsOnly.history.map((h) => h.loss));
    expect(weightsOnly.history.at(-1)!.test).toBeGreaterThanOrEqual(0.5);
    expect(featuresOnly.history.at(-1)!.test).toBeGreaterThanOrEqual(0.5);
    // features need a probe; weights alone do not
    const child = [modelFile('p1.2')];
    const candidates = Array.from({ length: PARENTS }, (_, p) => modelFile(`p${p}`));
    const file = join(tmp, 'weights-only.safetensors');
    await saveDetector(file, weightsOnly.config, weightsOnly.weights);
    const r = await detectorScores(child, candidates, { detector: file });
    expect(r.children[0].scores).toHaveLength(PARENTS);
  });

  it('supports several layers, deeper blocks with an FFN, and a no-parent candidate', async () => {
    const r = await trainDetector({
      zoos: [zoo],
      epochs: 4,
      seed: 1,
      architecture: { layers: ['fc1', 'penultimate'], embed: 16, depth: 2, heads: 2, ffn: 16, noParent: true },
    });
    const names = tensorNames(r.weights);
    for (const n of [
      'encoders.weights.1.conv2.weight',
      'encoders.features.1.bn.running_var',
      'tokens.layer.0',
      'tokens.layer.1',
      'blocks.1.ffn.fc2.weight',
      'none',
    ])
      expect(names).toContain(n);
    expect(r.weights.get('encoders.weights.0.conv2.weight')!.shape).toEqual([3, 3, 3, 16]);
    // each child is asked twice: with its parent (answer: the parent) and without (answer: none)
    expect(r.counts).toEqual({ train: 56, val: 8, test: 16 });
    expect(r.config.candidates).toEqual({ min: 3, max: 4, variable: true });
    expect(r.history.at(-1)!.test).toBeGreaterThanOrEqual(0.6);
    const file = join(tmp, 'none.safetensors');
    await saveDetector(file, r.config, r.weights);
    const probe = (await readNpy(probeFile())) as Tensor<'float32'>;
    const result = await detectorScores([modelFile('p3.4')], [modelFile('p0'), modelFile('p1'), modelFile('p2')], { detector: file, probe });
    const sum = result.children[0].scores.reduce((a, s) => a + s.score, 0);
    expect(sum).toBeLessThan(1); // the rest is the "no parent" probability
  });

  it('refuses bad detector files with the file name and the problem', async () => {
    const garbage = join(tmp, 'garbage.safetensors');
    writeFileSync(garbage, 'not a detector at all');
    await expect(loadDetector(garbage)).rejects.toThrow(InputError);
    await expect(loadDetector(garbage)).rejects.toThrow(new RegExp(`^${garbage.replace(/[.]/g, '\\.')}: `));
    await expect(loadDetector(modelFile('p0'))).rejects.toThrow(/p0\.safetensors: not a lineage detector \(metadata format is missing/);

    const good = await readSafetensorsFile(bothFile);
    const variant = async (name: string, weights: Weights, metadata: Record<string, string>) => {
      const file = join(tmp, name);
      await writeSafetensors(file, weights, metadata);
      return file;
    };
    const config = JSON.parse(good.metadata.config);
    const broken = await variant('bad-json.safetensors', good.weights, { ...good.metadata, config: '{"version": 1,' });
    await expect(loadDetector(broken)).rejects.toThrow(/bad-json\.safetensors: detector configuration is not valid JSON/);
    const future = await variant('future.safetensors', good.weights, { ...good.metadata, config: JSON.stringify({ ...config, version: 2 }) });
    await expect(loadDetector(future)).rejects.toThrow(/future\.safetensors: detector configuration: version 2 is not supported/);
    const deeper = await variant('deeper.safetensors', good.weights, { ...good.metadata, config: JSON.stringify({ ...config, depth: 2 }) });
    await expect(loadDetector(deeper)).rejects.toThrow(/deeper\.safetensors: detector tensor blocks\.1\.norm1\.weight is missing/);
    const missing = new Map(good.weights);
    missing.delete('head.bias');
    await expect(loadDetector(await variant('missing.safetensors', missing, good.metadata))).rejects.toThrow(
      /missing\.safetensors: detector tensor head\.bias is missing/,
    );
    const reshaped = new Map(good.weights);
    reshaped.set('head.weight', makeTensor('float32', [1, 32], new Float32Array(32)));
    await expect(loadDetector(await variant('reshaped.safetensors', reshaped, good.metadata))).rejects.toThrow(
      /head\.weight has shape \[1,32\], expected \[32,1\]/,
    );
    const nan = new Map(good.weights);
    nan.set('tokens.cls', makeTensor('float32', [32], new Float32Array(32).fill(Number.NaN)));
    await expect(loadDetector(await variant('nan.safetensors', nan, good.metadata))).rejects.toThrow(/tokens\.cls holds NaN/);
    await expect(detectorScores([modelFile('p0.1')], [modelFile('p0')], { detector: garbage })).rejects.toThrow(InputError);
  });
});

async function lineageCli(...args: string[]): Promise<string> {
  const program = new Command().name('lineage').exitOverride();
  registerDetector(program);
  const chunks: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    chunks.push(String(chunk));
    return true;
  });
  try {
    await program.parseAsync(['node', 'lineage', ...args]);
  } finally {
    spy.mockRestore();
  }
  return chunks.join('');
}

describe('detector on a real tiny zoo (zoo builder, MNIST)', () => {
  it('trains and evaluates through the CLI: unseen children get their parent (4 candidates)', async () => {
    const dir = join(tmp, 'real');
    const spec = checkZooSpec(
      {
        name: 'detector-test',
        seed: 0,
        probes: 64,
        evalLimit: 200,
        roots: [
          {
            name: 'mlp',
            count: 4,
            arch: 'mlp',
            hyper: { hidden: [32, 16] },
            task: 'mnist',
            train: { optimizer: 'sgd', lr: 0.05, momentum: 0.9, steps: 60, batch: 32 },
          },
        ],
        generations: [
          { children: 5, tasks: ['mnist:rot=90', 'mnist:subset=0-4', 'mnist'], train: { optimizer: 'sgd', lr: 0.02, momentum: 0.9, steps: 20, batch: 32 } },
        ],
      },
      'spec',
    );
    await buildZoo(spec, { out: dir, workers: 0 });
    const file = join(tmp, 'real.safetensors');
    const trained = JSON.parse(await lineageCli('detector', 'train', '--zoo', dir, '--out', file, '--epochs', '6', '--json', '--no-progress'));
    expect(trained.examples).toEqual({ train: 14, val: 2, test: 4 });
    expect(trained.history).toHaveLength(6);
    expect(trained.test).toBeGreaterThanOrEqual(0.75);
    const evaluation = JSON.parse(await lineageCli('detector', 'eval', '--detector', file, '--zoo', dir, '--json', '--no-progress'));
    expect(evaluation.test).toEqual({ examples: 4, accuracy: trained.test });
    expect(evaluation.all.examples).toBe(20);
    expect(evaluation.predictions).toHaveLength(20);
  });
});
