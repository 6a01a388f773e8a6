/**
 * resolveModel reads a path through the model source: every numeric tensor into memory (bool masks
 * left out), and for an ONNX file a graph whose initializers are the weights' own tensors, external
 * data included. Expected values are the ones written into the files, and the graph's output is
 * worked by hand.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AttributeType, DataType, ModelProtoType, type NodeProtoMsg, type TensorProtoMsg, type ValueInfoProtoMsg } from '../../src/formats/onnx/onnx-proto.js';
import { writeSafetensors } from '../../src/formats/safetensors.js';
import { resolveModel } from '../../src/lineage/model.js';
import { runGraph } from '../../src/runtime/ort.js';
import { float32Tensor, fromFloat32, makeTensor, type Tensor } from '../../src/tensor.js';

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(join(tmpdir(), 'resolve-model-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const values = (t: Tensor | undefined) => Array.from((t?.data ?? []) as ArrayLike<number | bigint>);

describe('resolveModel on a safetensors file', () => {
  it('reads every numeric tensor as float32 in file order and leaves bool masks out', async () => {
    const path = join(dir, 'mixed.safetensors');
    const weights = new Map<string, Tensor>([
      ['a.mask', makeTensor('bool', [2], Uint8Array.from([1, 0]))],
      ['a.weight', fromFloat32('float16', [2], Float32Array.from([1.5, -2]))],
      ['b', float32Tensor([2, 2], [1, 2, 3, 4])],
      ['bn.num_batches_tracked', makeTensor('int64', [], BigInt64Array.from([7n]))],
    ]);
    await writeSafetensors(path, weights, { source: 'test' });
    const model = await resolveModel(path);
    expect(model).toMatchObject({ id: path, file: path, metadata: { source: 'test' } });
    expect(model.graph).toBeUndefined();
    expect([...model.weights].map(([name, t]) => ({ name, dtype: t.dtype, shape: t.shape, values: values(t) }))).toEqual([
      { name: 'a.weight', dtype: 'float32', shape: [2], values: [1.5, -2] },
      { name: 'b', dtype: 'float32', shape: [2, 2], values: [1, 2, 3, 4] },
      { name: 'bn.num_batches_tracked', dtype: 'float32', shape: [], values: [7] },
    ]);
  });
});

// --- an ONNX model with external data ------------------------------------------------------------

function external(name: string, dims: number[], dataType: number, location: string, offset = 0): TensorProtoMsg {
  const bytes = dims.reduce((n, d) => n * d, 1) * (dataType === DataType.FLOAT16 ? 2 : 4);
  const entries = { location, offset: String(offset), length: String(bytes) };
  return { name, dims, data_type: dataType, data_location: 1, external_data: Object.entries(entries).map(([key, value]) => ({ key, value })) };
}

function floatInfo(name: string, dims: number[]): ValueInfoProtoMsg {
  return { name, type: { tensor_type: { elem_type: DataType.FLOAT, shape: { dim: dims.map((d) => ({ dim_value: d })) } } } };
}

const floatBytes = (v: number[]) => Buffer.from(Float32Array.from(v).buffer);

/**
 * z = Reshape(Gemm(x, fc.weight, fc.bias, transB) + c, [3, 1]), with fc.weight, fc.bias and the
 * Constant c in external files, fc.weight also named head.weight (Identity), and two initializers
 * the graph does not read: fc.scale (float16, external) and fc.mask (bool).
 */
async function externalModel(folder: string): Promise<string> {
  await fs.mkdir(join(folder, 'sub'), { recursive: true });
  // 16 bytes of something else first, so the offset matters.
  const weight = [1.5, -2, 3.25, 4, -5, 6.5, 7, 8, 9, 10, -11, 12.75];
  await fs.writeFile(join(folder, 'weights.bin'), Buffer.concat([Buffer.alloc(16, 0xee), floatBytes(weight), floatBytes([0.5, -1, 2])]));
  await fs.writeFile(join(folder, 'sub', 'const.bin'), floatBytes([10, 20, 30]));
  // binary16 1, -2, 0.5 (bits 0x3c00, 0xc000, 0x3800).
  await fs.writeFile(join(folder, 'sub', 'scale.bin'), Buffer.from(Uint16Array.from([0x3c00, 0xc000, 0x3800]).buffer));
  const nodes: NodeProtoMsg[] = [
    { op_type: 'Identity', input: ['fc.weight'], output: ['head.weight'] },
    { op_type: 'Gemm', input: ['x', 'fc.weight', 'fc.bias'], output: ['y'], attribute: [{ name: 'transB', type: AttributeType.INT, i: 1 }] },
    {
      op_type: 'Constant',
      input: [],
      output: ['c'],
      attribute: [{ name: 'value', type: AttributeType.TENSOR, t: external('', [3], DataType.FLOAT, 'sub/const.bin') }],
    },
    { op_type: 'Add', input: ['y', 'c'], output: ['s'] },
    { op_type: 'Reshape', input: ['s', 'onnx::Reshape_5'], output: ['z'] },
  ];
  const initializer: TensorProtoMsg[] = [
    external('fc.weight', [3, 4], DataType.FLOAT, 'weights.bin', 16),
    external('fc.bias', [3], DataType.FLOAT, 'weights.bin', 64),
    external('fc.scale', [3], DataType.FLOAT16, 'sub/scale.bin'),
    { name: 'fc.mask', dims: [2], data_type: DataType.BOOL, int32_data: [1, 0] },
    { name: 'onnx::Reshape_5', dims: [2], data_type: DataType.INT64, int64_data: [3, 1] },
  ];
  const graph = { name: 'g', node: nodes, initializer, input: [floatInfo('x', [1, 4])], output: [floatInfo('z', [3, 1])] };
  const path = join(folder, 'model.onnx');
  await fs.writeFile(path, ModelProtoType.encode({ ir_version: 8, opset_import: [{ version: 17 }], producer_name: 'test', graph }).finish());
  return path;
}

describe('resolveModel on an ONNX file with external data', () => {
  it('reads the external tensors into the weights and binds the same tensors in the graph', async () => {
    const path = await externalModel(join(dir, 'external'));
    const model = await resolveModel(path);
    expect(model.file).toBe(path);
    expect(model.metadata).toEqual({ producer_name: 'test', opset: '17' });
    expect([...model.weights.keys()]).toEqual(['fc.weight', 'head.weight', 'fc.bias', 'fc.scale', 'onnx::Reshape_5']);
    expect(values(model.weights.get('fc.bias'))).toEqual([0.5, -1, 2]);
    const graph = model.graph;
    if (graph === undefined) throw new Error('an ONNX model has a graph');
    for (const name of ['fc.weight', 'head.weight', 'fc.bias', 'onnx::Reshape_5']) expect(graph.initializers.get(name), name).toBe(model.weights.get(name));
    expect(model.weights.get('head.weight')).toBe(model.weights.get('fc.weight'));
    // float16 widened in the weights, kept as stored in the graph; int64 shapes kept; bool masks only in the graph.
    expect(model.weights.get('fc.scale')).toEqual({ dtype: 'float32', shape: [3], data: Float32Array.from([1, -2, 0.5]) });
    expect(graph.initializers.get('fc.scale')?.dtype).toBe('float16');
    expect(model.weights.get('onnx::Reshape_5')?.dtype).toBe('int64');
    expect(model.weights.has('fc.mask')).toBe(false);
    expect(graph.initializers.get('fc.mask')?.dtype).toBe('bool');
    // By hand: W x for x = [1, 2, 3, 4] is [23.25, 61, 47]; + bias [0.5, -1, 2]; + c [10, 20, 30].
    const out = await runGraph(graph, { x: float32Tensor([1, 4], [1, 2, 3, 4]) }, ['z']);
    expect(out.z.shape).toEqual([3, 1]);
    expect(values(out.z)).toEqual([33.75, 80, 79]);
  });

  it('refuses external data that is missing, naming the model', async () => {
    const folder = join(dir, 'missing');
    const path = await externalModel(folder);
    await fs.rm(join(folder, 'sub', 'const.bin'));
    await expect(resolveModel(path)).rejects.toThrow(
      `${path}: tensor of attribute 'value' of node '#2' (Constant) of the main graph keeps its data in "sub/const.bin", which cannot be read (ENOENT)`,
    );
  });
});
