/**
 * `lineage inspect` lists what the model source opens, headers only: a sharded PyTorch checkpoint
 * (pytorch_model.bin.index.json) and an ONNX model keeping its initializers in external files, which
 * reading a file whole could not list. Expected listings are the tensors written into the files.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataType, ModelProtoType, type TensorProtoMsg } from '../../src/formats/onnx/onnx-proto.js';
import { PROTOCOL_2, intTuple, latin1, rebuildTensor, storagePid, unicode, zipArchive } from '../../src/testing/hostile/torch-bytes.js';
import { lineage } from './run-cli.js';

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(join(tmpdir(), 'inspect-sources-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

/** A checkpoint holding one float32 tensor `name` of `shape` (values 0, 1, 2, ...). */
function oneTensorCheckpoint(name: string, shape: number[]): Uint8Array {
  const numel = shape.reduce((n, d) => n * d, 1);
  const stride = shape.map((_, i) => shape.slice(i + 1).reduce((n, d) => n * d, 1));
  const pickle = `${PROTOCOL_2}}(${unicode(name)}${rebuildTensor(storagePid('FloatStorage', '0', numel), 0, intTuple(shape), intTuple(stride))}u.`;
  return zipArchive([
    { name: 'archive/data.pkl', data: latin1(pickle) },
    { name: 'archive/data/0', data: new Uint8Array(Float32Array.from({ length: numel }, (_, i) => i).buffer) },
  ]);
}

describe('lineage inspect on model sources that reading a file whole did not list', () => {
  it('lists a sharded PyTorch checkpoint in weight_map order', async () => {
    const folder = join(dir, 'sharded');
    await fs.mkdir(folder);
    await fs.writeFile(join(folder, 'pytorch_model-00001-of-00002.bin'), oneTensorCheckpoint('fc.weight', [2, 3]));
    await fs.writeFile(join(folder, 'pytorch_model-00002-of-00002.bin'), oneTensorCheckpoint('fc.bias', [2]));
    const index = join(folder, 'pytorch_model.bin.index.json');
    const weightMap = { 'fc.bias': 'pytorch_model-00002-of-00002.bin', 'fc.weight': 'pytorch_model-00001-of-00002.bin' };
    await fs.writeFile(index, JSON.stringify({ metadata: { total_size: 32 }, weight_map: weightMap }));
    const r = await lineage('inspect', folder, '--json');
    expect(r.stderr).toBe('');
    const report = JSON.parse(r.stdout);
    expect([report.file, report.format]).toEqual([index, 'pytorch-sharded']);
    expect(report.metadata).toMatchObject({ total_size: '32' });
    expect(report.tensors).toEqual([
      { name: 'fc.bias', dtype: 'float32', shape: [2], bytes: 8 },
      { name: 'fc.weight', dtype: 'float32', shape: [2, 3], bytes: 24 },
    ]);
    expect([report.elements, report.parameters]).toEqual([8, 8]);
  });

  it('lists an ONNX model whose initializers live in external files', async () => {
    const folder = join(dir, 'onnx-external');
    await fs.mkdir(folder);
    await fs.writeFile(join(folder, 'weights.bin'), Buffer.alloc(48 + 6));
    const external = (name: string, dims: number[], dataType: number, offset: number, length: number): TensorProtoMsg => ({
      name,
      dims,
      data_type: dataType,
      data_location: 1,
      external_data: Object.entries({ location: 'weights.bin', offset: String(offset), length: String(length) }).map(([key, value]) => ({ key, value })),
    });
    const initializer = [external('fc.weight', [3, 4], DataType.FLOAT, 0, 48), external('fc.bias', [3], DataType.FLOAT16, 48, 6)];
    const model = join(folder, 'model.onnx');
    await fs.writeFile(
      model,
      ModelProtoType.encode({ ir_version: 8, opset_import: [{ version: 17 }], producer_name: 'test', graph: { name: 'g', initializer } }).finish(),
    );
    const r = await lineage('inspect', model, '--json');
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({
      version: 1,
      file: model,
      format: 'onnx',
      metadata: { producer_name: 'test', opset: '17' },
      tensors: [
        { name: 'fc.weight', dtype: 'float32', shape: [3, 4], bytes: 48 },
        { name: 'fc.bias', dtype: 'float16', shape: [3], bytes: 6 },
      ],
      elements: 15,
      parameters: 15,
    });
  });
});
