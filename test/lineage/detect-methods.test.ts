/**
 * `lineage detect` with learning-free methods and the learned detector together reads each model
 * once, and gives what each path gives on its own.
 */
import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseNpy } from '../../src/formats/npy.js';
import { DEFAULT_ARCHITECTURE, type DetectorConfig } from '../../src/lineage/detector/config.js';
import { type LoadedDetector, saveDetector } from '../../src/lineage/detector/io.js';
import { initDetectorWeights } from '../../src/lineage/detector/model.js';
import { detectorScores } from '../../src/lineage/detector/predict.js';
import { detectWithMethods } from '../../src/lineage/detect-methods.js';
import { scoreMatrix } from '../../src/lineage/learning-free.js';
import { parseMethodList } from '../../src/lineage/methods.js';
import { type ModelRef, resolveModel } from '../../src/lineage/model.js';
import type { Tensor } from '../../src/tensor.js';
import type { MethodResult } from '../../src/lineage/learning-free.js';
import { lineage } from '../cli/run-cli.js';

const DIR = join(import.meta.dirname, '..', '..', 'fixtures', 'onnx-twins');
const file = (name: string) => join(DIR, name);
const probe = parseNpy(readFileSync(file('probe.npy'))) as Tensor<'float32'>;

/** An untrained detector on both inputs: its probabilities are arbitrary but deterministic. */
const config: DetectorConfig = {
  ...DEFAULT_ARCHITECTURE,
  format: 'lineage-detector',
  version: 1,
  maxSize: 8,
  probeRows: 16,
  normalization: { weights: [{ mean: 0, std: 1 }], features: [{ mean: 0, std: 1 }] },
  candidates: { min: 2, max: 2, variable: true },
};
const detector: LoadedDetector = { file: 'untrained', config, weights: initDetectorWeights(config, 5, true) };

describe('detectWithMethods', () => {
  it('reads every child and candidate once for learning-free methods and the detector together', async () => {
    const reads = new Map<string, number>();
    const counted =
      (name: string): ModelRef =>
      async () => {
        reads.set(name, (reads.get(name) ?? 0) + 1);
        return { ...(await resolveModel(file(name))), id: name };
      };
    const names = ['conv-child.onnx', 'conv-a.onnx', 'conv-b.safetensors'];
    const methods = parseMethodList('taylor-l1,weights-l2');
    const both = await detectWithMethods([counted(names[0])], [counted(names[1]), counted(names[2])], { probe, methods, detector });
    expect(Object.fromEntries(reads)).toEqual(Object.fromEntries(names.map((n) => [n, 1])));

    const asIds =
      (ref: string): ModelRef =>
      async () => ({ ...(await resolveModel(file(ref))), id: ref });
    const alone = await scoreMatrix([asIds(names[0])], [asIds(names[1]), asIds(names[2])], { probe, methods });
    const learned = await detectorScores([asIds(names[0])], [asIds(names[1]), asIds(names[2])], { probe, detector });
    expect(both.learningFree).toEqual(alone);
    expect(both.detector).toEqual(learned);
    expect(learned.children[0].scores).toHaveLength(2);
    expect(alone[0].children[0].scores).toHaveLength(2);
  }, 60_000);

  it('lineage detect --method detector,taylor-l1 prints both, in the order asked', async () => {
    const detectorFile = join(mkdtempSync(join(tmpdir(), 'lineage-detect-methods-')), 'detector.safetensors');
    await saveDetector(detectorFile, config, detector.weights);
    const args = [
      '--child',
      file('conv-child.onnx'),
      '--parents',
      file('conv-a.onnx'),
      file('conv-b.onnx'),
      '--probe',
      file('probe.npy'),
      '--json',
      '--no-progress',
    ];
    const r = await lineage('detect', ...args, '--method', 'detector,taylor-l1', '--detector', detectorFile);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const [learned, taylor] = JSON.parse(r.stdout) as MethodResult[];
    expect([learned.method, taylor.method]).toEqual(['detector', 'taylor-l1']);
    const alone = await lineage('detect', ...args, '--method', 'taylor-l1');
    expect(taylor).toEqual(JSON.parse(alone.stdout));
    expect(learned.children[0].scores.map((s) => s.parent).sort()).toEqual([file('conv-a.onnx'), file('conv-b.onnx')]);
  }, 60_000);
});
