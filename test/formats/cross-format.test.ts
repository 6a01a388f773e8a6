import { describe, it, expect, beforeAll } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { readWholeFile } from './whole-file.js';
import { tensorsIdentical } from '../../src/tensor.js';

// One torchvision ResNet-18 state dict (num_classes=10) written by PyTorch three ways
// (scripts/make_format_fixtures.py): torch.save zip, safetensors, torch.onnx.export without constant folding.
const dir = mkdtempSync(join(tmpdir(), 'cross-format-'));
const expected = JSON.parse(readFileSync('fixtures/formats/resnet18.expected.json', 'utf8')) as {
  tensors: { name: string; shape: number[] }[];
  parameter_count: number;
};

beforeAll(() => {
  for (const ext of ['pt', 'safetensors', 'onnx']) {
    writeFileSync(join(dir, `resnet18.${ext}`), gunzipSync(readFileSync(`fixtures/formats/resnet18.${ext}.gz`)));
  }
});

describe('the same ResNet-18 through the three readers', () => {
  it('gives identical tensors from .pt, .safetensors and .onnx (ONNX lacks only num_batches_tracked)', async () => {
    const pt = await readWholeFile(join(dir, 'resnet18.pt'));
    const st = await readWholeFile(join(dir, 'resnet18.safetensors'));
    const onnx = await readWholeFile(join(dir, 'resnet18.onnx'));
    expect([pt.format, st.format, onnx.format]).toEqual(['pytorch', 'safetensors', 'onnx']);
    expect([...pt.weights.keys()]).toEqual(expected.tensors.map((t) => t.name));
    expect([...st.weights.keys()]).toEqual([...pt.weights.keys()]);
    const notIdentical: string[] = [];
    for (const [name, t] of pt.weights) {
      if (!tensorsIdentical(t, st.weights.get(name)!)) notIdentical.push(`safetensors ${name}`);
      if (name.endsWith('num_batches_tracked')) {
        expect(onnx.weights.has(name)).toBe(false); // torch.onnx.export drops this buffer
        continue;
      }
      const o = onnx.weights.get(name);
      if (!o || !tensorsIdentical(t, o)) notIdentical.push(`onnx ${name}`);
    }
    expect(notIdentical).toEqual([]);
  });

  it('lineage inspect lists 122 entries and the parameter count PyTorch reports', async () => {
    const { stdout } = await promisify(execFile)('node', ['bin/lineage.js', 'inspect', join(dir, 'resnet18.pt'), '--json']);
    const report = JSON.parse(stdout);
    expect(report.tensors).toHaveLength(122);
    // sum(p.numel() for p in model.parameters()) from PyTorch for resnet18(num_classes=10)
    expect(report.parameters).toBe(expected.parameter_count);
    expect(report.parameters).toBe(11_181_642);
  });
});
