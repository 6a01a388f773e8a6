import { describe, it, expect } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { blockOf, groupBlocks, layerOrigins, stitchWeights } from '../../src/lineage/layers.js';
import { writeSafetensors } from '../../src/formats/safetensors.js';
import { makeTensor, type Weights } from '../../src/tensor.js';
import { syntheticStateDict } from '../../src/testing/synthetic-weights.js';
import { readFixture } from '../archs/fixtures.js';
import type { SyntheticTensorSpec } from '../../src/testing/synthetic-weights.js';

const keys = readFixture('resnet18').keys as SyntheticTensorSpec[];

/** Simulated fine-tuning: every float weight moves by a seeded perturbation of relative size `scale`. */
function finetune(w: Weights, seed: number, scale: number): Weights {
  const noise = syntheticStateDict(keys, seed);
  return new Map(
    [...w].map(([k, t]) => {
      if (t.dtype !== 'float32') return [k, t];
      const n = noise.get(k)!.data as Float32Array;
      return [
        k,
        makeTensor(
          'float32',
          t.shape,
          (t.data as Float32Array).map((v, i) => v + scale * n[i]),
        ),
      ];
    }),
  );
}

describe('layer-level lineage', () => {
  it('groups parameters into blocks', () => {
    expect(blockOf('layer1.0.conv1.weight')).toBe('layer1.0');
    expect(blockOf('layer2.0.downsample.1.running_var')).toBe('layer2.0');
    expect(blockOf('blocks.3.attn.qkv.weight')).toBe('blocks.3');
    expect(blockOf('fc1.weight')).toBe('fc1');
    expect(blockOf('cls_token')).toBe('cls_token');
    expect([...groupBlocks(keys.map((k) => k.name)).keys()]).toEqual([
      'conv1',
      'bn1',
      'layer1.0',
      'layer1.1',
      'layer2.0',
      'layer2.1',
      'layer3.0',
      'layer3.1',
      'layer4.0',
      'layer4.1',
      'fc',
    ]);
  });

  it('finds the origin of every block of a stitched, then fine-tuned ResNet-18', async () => {
    const donors = [1, 2, 3].map((seed) => syntheticStateDict(keys, seed));
    const assignment: Record<string, number> = { 'layer1.0': 1, 'layer2.1': 2, 'layer3.0': 1, 'layer4.1': 2, fc: 2 };
    const stitched = stitchWeights(
      donors[0],
      [1, 2].map((d) => ({ id: `m${d}`, weights: donors[d], blocks: Object.keys(assignment).filter((b) => assignment[b] === d) })),
    );
    const tuned = finetune(stitched.weights, 99, 0.05);
    const model = (id: string, weights: Weights) => ({ id, file: id, weights, metadata: {} });
    const trace = await layerOrigins(
      model('tuned', tuned),
      donors.map((w, i) => model(`m${i}`, w)),
    );
    expect(trace.excluded).toEqual([]);
    for (const o of trace.layers) {
      const truth = `m${assignment[o.layer] ?? 0}`;
      expect(o.origins[0].model, o.layer).toBe(truth);
      expect(o.origins[0].probability).toBeGreaterThan(0.5);
      expect(o.origins.reduce((a, b) => a + b.probability, 0)).toBeCloseTo(1, 10);
    }
  });

  it('stitch and layers work from the CLI', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'layers-'));
    const base = syntheticStateDict(keys, 11);
    const donor = syntheticStateDict(keys, 12);
    await writeSafetensors(join(dir, 'base.safetensors'), base);
    await writeSafetensors(join(dir, 'donor.safetensors'), donor);
    const run = promisify(execFile);
    const stitch = await run('node', [
      'bin/lineage.js',
      'stitch',
      '--base',
      join(dir, 'base.safetensors'),
      '--take',
      `${join(dir, 'donor.safetensors')}:layer2.0,layer3.1`,
      '--out',
      join(dir, 's.safetensors'),
      '--json',
    ]);
    expect(JSON.parse(stitch.stdout).taken).toEqual({ 'layer2.0': join(dir, 'donor.safetensors'), 'layer3.1': join(dir, 'donor.safetensors') });
    const { stdout } = await run(
      'node',
      ['bin/lineage.js', 'layers', join(dir, 's.safetensors'), '--candidates', join(dir, 'base.safetensors'), join(dir, 'donor.safetensors'), '--json'],
      { maxBuffer: 1 << 24 },
    );
    const layers = JSON.parse(stdout).layers as { layer: string; origins: { model: string; probability: number }[] }[];
    const top = Object.fromEntries(layers.map((l) => [l.layer, l.origins[0].model.endsWith('donor.safetensors') ? 'donor' : 'base']));
    expect(top['layer2.0']).toBe('donor');
    expect(top['layer3.1']).toBe('donor');
    expect(top['layer1.0']).toBe('base');
    expect(top.fc).toBe('base');
    const bad = await run('node', [
      'bin/lineage.js',
      'stitch',
      '--base',
      join(dir, 'base.safetensors'),
      '--take',
      `${join(dir, 'donor.safetensors')}:layer9`,
      '--out',
      join(dir, 'x.safetensors'),
    ]).catch((e) => e);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown block 'layer9'/);
  });
});
