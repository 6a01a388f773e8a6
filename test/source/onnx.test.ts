import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promises as fs, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { openModelSource } from '../../src/source/index.js';
import { FormatError } from '../../src/formats/errors.js';
import { readWholeFile } from '../formats/whole-file.js';
import { makeGraph, makeModel, makeNode, makeValueInfo } from '../../src/formats/onnx/model.js';
import { ModelProtoType, type TensorProtoMsg } from '../../src/formats/onnx/onnx-proto.js';
import { writeOnnxModel } from '../../src/formats/onnx/weights.js';
import { fromFloat32 } from '../../src/tensor.js';
import { expectSameAsWholeRead } from './expect-source.js';

const FIXTURES = resolve(import.meta.dirname, '../../fixtures');

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(join(tmpdir(), 'source-onnx-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

async function expectLikeWholeRead(path: string): Promise<void> {
  const source = await openModelSource(path);
  try {
    expect(source.format).toBe('onnx');
    await expectSameAsWholeRead(source, path);
  } finally {
    await source.close();
  }
}

describe('ONNX model source, inline initializers', () => {
  it('reads a torchvision resnet18 exported by torch.onnx as reading it whole does', async () => {
    const path = join(dir, 'resnet18.onnx');
    await fs.writeFile(path, gunzipSync(readFileSync(join(FIXTURES, 'formats/resnet18.onnx.gz'))));
    await expectLikeWholeRead(path);
  });

  for (const name of ['tiny_conv_bn.onnx', 'tiny_mlp.onnx', 'typed_fields.onnx']) {
    it(`${name}: same names, shapes and values as reading it whole`, async () => {
      await expectLikeWholeRead(join(FIXTURES, 'onnx', name));
    });
  }

  it('exposes initializers under their Identity aliases, as reading the file whole does', async () => {
    const weight = fromFloat32('float16', [3, 2], Float32Array.from([1, -2, 3, -4, 5.5, 6]));
    const bias = fromFloat32('float32', [3], Float32Array.from([0.5, 0, -0.5]));
    const graph = makeGraph({
      nodes: [
        makeNode('Identity', ['onnx::Gemm_7'], ['fc.weight']),
        makeNode('Identity', ['fc.weight'], ['head.weight']),
        makeNode('Gemm', ['x', 'fc.weight', 'onnx::Gemm_8'], ['y'], {}),
      ],
      initializers: [
        ['onnx::Gemm_7', weight],
        ['onnx::Gemm_8', bias],
      ],
      inputs: [makeValueInfo('x', 'float16', [1, 2])],
      outputs: [makeValueInfo('y', 'float16', [1, 3])],
    });
    const path = join(dir, 'aliases.onnx');
    await writeOnnxModel(path, makeModel(graph, { metadata: { source: 'test' } }));
    const source = await openModelSource(path);
    try {
      expect(source.tensors.map((t) => t.name)).toEqual(['fc.weight', 'head.weight', 'onnx::Gemm_8']);
    } finally {
      await source.close();
    }
    await expectLikeWholeRead(path);
  });
});

// --- external data ------------------------------------------------------------------------------

const FLOAT = 1;
const FLOAT16 = 10;

function externalTensor(name: string, dims: number[], dataType: number, entries: Record<string, string>): TensorProtoMsg {
  return { name, dims, data_type: dataType, data_location: 1, external_data: Object.entries(entries).map(([key, value]) => ({ key, value })) };
}

/** A model whose initializers are `tensors`, encoded with the ONNX protobuf schema. */
function onnxBytes(tensors: TensorProtoMsg[], nodes: { op_type: string; input: string[]; output: string[] }[] = []): Uint8Array {
  const msg = { ir_version: 8, opset_import: [{ version: 17 }], producer_name: 'test', graph: { name: 'g', node: nodes, initializer: tensors } };
  return ModelProtoType.encode(msg).finish();
}

function halfBytes(bits: readonly number[]): Uint8Array {
  return new Uint8Array(Uint16Array.from(bits).buffer);
}

describe('ONNX model source, external data', () => {
  const weight = [1.5, -2, 3.25, 4, -5, 6.5, 7, 8, 9, 10, -11, 12.75];

  async function externalFolder(name: string): Promise<string> {
    const folder = join(dir, name);
    await fs.mkdir(join(folder, 'sub'), { recursive: true });
    // 16 bytes of something else first, so the offset matters.
    await fs.writeFile(join(folder, 'weights.bin'), Buffer.concat([Buffer.alloc(16, 0xee), Buffer.from(Float32Array.from(weight).buffer)]));
    // binary16 1, -2, 0.5 (bits 0x3c00, 0xc000, 0x3800).
    await fs.writeFile(join(folder, 'sub', 'more.bin'), halfBytes([0x3c00, 0xc000, 0x3800]));
    return folder;
  }

  it('reads tensors from files inside the model folder, at their offsets, by rows', async () => {
    const folder = await externalFolder('inside');
    const model = onnxBytes(
      [
        externalTensor('fc.weight', [3, 4], FLOAT, { location: 'weights.bin', offset: '16', length: '48' }),
        externalTensor('fc.bias', [3], FLOAT16, { location: 'sub/more.bin' }),
        { name: 'fc.scale', dims: [2], data_type: FLOAT, raw_data: new Uint8Array(Float32Array.from([0.25, 4]).buffer) },
      ],
      [{ op_type: 'Identity', input: ['fc.weight'], output: ['head.weight'] }],
    );
    await fs.writeFile(join(folder, 'model.onnx'), model);
    for (const path of [folder, join(folder, 'model.onnx')]) {
      const source = await openModelSource(path);
      try {
        expect(source.tensors).toEqual([
          { name: 'fc.weight', dtype: 'float32', shape: [3, 4], bytes: 48 },
          { name: 'head.weight', dtype: 'float32', shape: [3, 4], bytes: 48 },
          { name: 'fc.bias', dtype: 'float16', shape: [3], bytes: 6 },
          { name: 'fc.scale', dtype: 'float32', shape: [2], bytes: 8 },
        ]);
        expect([...(await source.readFloat32('fc.weight'))]).toEqual(weight);
        expect([...(await source.readFloat32('head.weight'))]).toEqual(weight);
        expect([...(await source.readRows('fc.weight', 1, 2))]).toEqual(weight.slice(4, 12));
        expect([...(await source.readFloat32('fc.bias'))]).toEqual([1, -2, 0.5]);
        expect([...(await source.readRows('fc.bias', 2, 1))]).toEqual([0.5]);
        expect([...(await source.readFloat32('fc.scale'))]).toEqual([0.25, 4]);
      } finally {
        await source.close();
      }
    }
  });

  async function refusal(name: string, location: string, prepare?: (folder: string) => Promise<void>): Promise<{ model: string; error: unknown }> {
    const folder = await externalFolder(name);
    await prepare?.(folder);
    const model = join(folder, 'model.onnx');
    await fs.writeFile(model, onnxBytes([externalTensor('w', [12], FLOAT, { location })]));
    const error = await openModelSource(model).then(
      (source) => source.close(),
      (err: unknown) => err,
    );
    return { model, error };
  }

  it('refuses a location that climbs out of the folder (../x.bin), naming the model', async () => {
    await fs.writeFile(join(dir, 'x.bin'), Buffer.alloc(48));
    const { model, error } = await refusal('climbing', '../x.bin');
    expect(error).toEqual(new FormatError(model, `initializer 'w' keeps its data in "../x.bin", which is not a file inside the model's folder`));
    expect(error).toBeInstanceOf(FormatError);
  });

  it('refuses an absolute location, naming the model', async () => {
    const outside = join(dir, 'absolute.bin');
    await fs.writeFile(outside, Buffer.alloc(48));
    const { model, error } = await refusal('absolute', outside);
    expect(error).toEqual(
      new FormatError(model, `initializer 'w' keeps its data in ${JSON.stringify(outside)}, which is not a file inside the model's folder`),
    );
  });

  it('refuses a symlink inside the folder that points outside it, naming the model', async () => {
    const outside = join(dir, 'secret.bin');
    await fs.writeFile(outside, Buffer.alloc(48));
    const { model, error } = await refusal('symlinked', 'link.bin', (folder) => fs.symlink(outside, join(folder, 'link.bin')));
    expect(error).toBeInstanceOf(FormatError);
    expect((error as Error).message).toMatch(
      new RegExp(
        `^${model.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: initializer 'w' keeps its data in "link.bin", which resolves to .*secret\\.bin, outside the model's folder`,
      ),
    );
  });

  it('reads through a symlink that stays inside the folder', async () => {
    const { error } = await refusal('symlink-inside', 'alias.bin', async (folder) => {
      await fs.writeFile(join(folder, 'real.bin'), Buffer.alloc(48));
      await fs.symlink('real.bin', join(folder, 'alias.bin'));
    });
    expect(error).toBeUndefined();
  });

  it('refuses data past the end of its file, and a length that is not the shape', async () => {
    const past = await refusal('past-end', 'weights.bin');
    // weights.bin holds 64 bytes; 12 floats from offset 0 with no length would need exactly 48 to the end.
    expect(past.error).toEqual(
      new FormatError(past.model, `initializer 'w': external data from byte 0 to the end of "weights.bin" is 64 bytes, not the 48 its shape needs`),
    );
    const folder = await externalFolder('lengths');
    const model = join(folder, 'model.onnx');
    await fs.writeFile(model, onnxBytes([externalTensor('w', [12], FLOAT, { location: 'weights.bin', offset: '32', length: '48' })]));
    await expect(openModelSource(model)).rejects.toThrow(
      new FormatError(model, `initializer 'w': external data bytes 32 to 80 run past the end of "weights.bin" (64 bytes)`),
    );
    await fs.writeFile(model, onnxBytes([externalTensor('w', [12], FLOAT, { location: 'weights.bin', length: '40' })]));
    await expect(openModelSource(model)).rejects.toThrow(
      new FormatError(model, `initializer 'w': float32 tensor of shape [12] needs 48 bytes, but external_data length is 40`),
    );
  });

  it('the whole-file parser (no external-data loader) still refuses external data', async () => {
    const folder = await externalFolder('whole');
    const model = join(folder, 'model.onnx');
    await fs.writeFile(model, onnxBytes([externalTensor('w', [12], FLOAT, { location: 'weights.bin', offset: '16' })]));
    await expect(readWholeFile(model)).rejects.toThrow(/initializer 'w' keeps its data in an external file; external data not supported/);
  });
});
