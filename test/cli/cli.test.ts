import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeSafetensors } from '../../src/formats/safetensors.js';
import { writeNpy } from '../../src/formats/npy.js';
import { makeTensor, type Weights } from '../../src/tensor.js';
import { syntheticStateDict } from '../../src/testing/synthetic-weights.js';
import { lineage } from './run-cli.js';

function mlpKeys(hidden: number) {
  const sizes = [784, hidden, 64, 10];
  return sizes.slice(1).flatMap((out, i) => [
    { name: `fc${i + 1}.weight`, shape: [out, sizes[i]] },
    { name: `fc${i + 1}.bias`, shape: [out] },
  ]);
}

function perturbed(base: Weights, noiseSeed: number, scale: number): Weights {
  const noise = syntheticStateDict(mlpKeys(128), noiseSeed);
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

const dir = mkdtempSync(join(tmpdir(), 'lineage-cli-'));
const f = (name: string) => join(dir, name);

beforeAll(async () => {
  const parentA = syntheticStateDict(mlpKeys(128), 1);
  await writeSafetensors(f('a.safetensors'), parentA);
  await writeSafetensors(f('b.safetensors'), syntheticStateDict(mlpKeys(128), 2));
  await writeSafetensors(f('child.safetensors'), perturbed(parentA, 3, 0.02), { parent: 'b.safetensors' });
  await writeSafetensors(f('wide.safetensors'), syntheticStateDict(mlpKeys(256), 4));
  const broken = new Map(parentA);
  const w = new Float32Array(parentA.get('fc2.weight')!.data as Float32Array);
  w[5] = Number.NaN;
  broken.set('fc2.weight', makeTensor('float32', [64, 128], w));
  await writeSafetensors(f('nan.safetensors'), broken);
  const probe = new Float32Array(32 * 784).map((_, i) => Math.sin(i * 12.9898) * 0.8);
  await writeNpy(f('probe.npy'), makeTensor('float32', [32, 1, 28, 28], probe));
  writeFileSync(f('garbage.pt'), 'this is not a model');
});

describe('lineage CLI', () => {
  it('prints help and version', async () => {
    const help = await lineage('--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/inspect/);
    expect(help.stdout).toMatch(/detect/);
    const version = await lineage('--version');
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('inspect --json lists tensors, elements and parameters', async () => {
    const r = await lineage('inspect', f('child.safetensors'), '--json');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(Object.keys(report)).toEqual(['version', 'file', 'format', 'metadata', 'tensors', 'elements', 'parameters']);
    expect(report.format).toBe('safetensors');
    expect(report.metadata).toEqual({ parent: 'b.safetensors' });
    expect(report.tensors[0]).toEqual({ name: 'fc1.weight', dtype: 'float32', shape: [128, 784], bytes: 128 * 784 * 4 });
    const expected = 784 * 128 + 128 + 128 * 64 + 64 + 64 * 10 + 10; // worked by hand from the layer sizes
    expect(report.elements).toBe(expected);
    expect(report.parameters).toBe(expected);
  });

  it('inspect --layers lists the named feature taps', async () => {
    const r = await lineage('inspect', f('a.safetensors'), '--layers', '--json');
    expect(r.code).toBe(0);
    const layers = JSON.parse(r.stdout).layers.map((l: { layer: string }) => l.layer);
    expect(layers).toEqual(expect.arrayContaining(['penultimate', 'fc1', 'fc2', 'logits']));
  });

  it('detect names the true parent (ignoring declared metadata) and reports incompatible and broken candidates', async () => {
    const r = await lineage(
      'detect',
      '--child',
      f('child.safetensors'),
      '--parents',
      f('b.safetensors'),
      f('a.safetensors'),
      f('wide.safetensors'),
      f('nan.safetensors'),
      '--probe',
      f('probe.npy'),
      '--method',
      'taylor-l1',
      '--json',
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(Object.keys(out)).toEqual(['version', 'method', 'alpha', 'layer', 'children']);
    expect(out).toMatchObject({ method: 'taylor-l1', alpha: 0.01, layer: 'penultimate' });
    const child = out.children[0];
    expect(Object.keys(child)).toEqual(['child', 'parent', 'scores', 'incompatible']);
    expect(child.parent).toBe(f('a.safetensors'));
    expect(child.scores.map((s: { parent: string }) => s.parent)).toEqual([f('a.safetensors'), f('b.safetensors')]);
    expect(child.scores[0].score).toBeGreaterThan(child.scores[1].score);
    const reasons = Object.fromEntries(child.incompatible.map((i: { parent: string; reason: string }) => [i.parent, i.reason]));
    expect(reasons[f('wide.safetensors')]).toMatch(/fc1\.weight has shape \[256,784\] in the candidate, \[128,784\] in the child/);
    expect(reasons[f('nan.safetensors')]).toMatch(/NaN or infinite values in tensor fc2\.weight/);
  });

  it('detect with several methods prints one object per method', async () => {
    const r = await lineage(
      'detect',
      '--child',
      f('child.safetensors'),
      '--parents',
      f('a.safetensors'),
      f('b.safetensors'),
      '--probe',
      f('probe.npy'),
      '--method',
      'direct-l1,linearized-cka,weights-l2,weights-cos',
      '--json',
    );
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.map((m: { method: string }) => m.method)).toEqual(['direct-l1', 'linearized-cka', 'weights-l2', 'weights-cos']);
    for (const m of out) expect(m.children[0].parent).toBe(f('a.safetensors'));
  });

  it('gives one clear line for an unreadable child, a bad method, or a missing probe', async () => {
    const bad = await lineage('detect', '--child', f('garbage.pt'), '--parents', f('a.safetensors'), '--probe', f('probe.npy'));
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(new RegExp(`^lineage: ${f('garbage.pt').replace(/[.]/g, '\\.')}: `));
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    const method = await lineage('detect', '--child', f('child.safetensors'), '--parents', f('a.safetensors'), '--method', 'taylor-l7');
    expect(method.code).toBe(2);
    expect(method.stderr).toMatch(/unknown method 'taylor-l7'/);
    const noProbe = await lineage('detect', '--child', f('child.safetensors'), '--parents', f('a.safetensors'), '--method', 'taylor-l1');
    expect(noProbe.code).toBe(2);
    expect(noProbe.stderr).toMatch(/needs --probe/);
  });

  it('features writes an N x D .npy', async () => {
    const r = await lineage('features', f('a.safetensors'), '--probe', f('probe.npy'), '--layer', 'fc1', '--out', f('feat.npy'), '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).shape).toEqual([32, 128]);
  });
});
