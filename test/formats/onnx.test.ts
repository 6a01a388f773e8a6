import { promises as fs, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { FormatError } from '../../src/formats/errors.js';
import {
  type OnnxModel,
  attrFloat,
  attrFloats,
  attrGraph,
  attrInt,
  attrInts,
  attrString,
  attrStrings,
  attrTensor,
  makeGraph,
  makeModel,
  makeNode,
  makeValueInfo,
  onnxWeights,
  parseOnnxModel,
  readOnnxFile,
  serializeOnnxModel,
  writeOnnxModel,
} from '../../src/formats/onnx/index.js';
import { ONNX_SCHEMA } from '../../src/formats/onnx/onnx-schema.js';
import { type DType, type Tensor, float32Tensor, fromFloat32, makeTensor, tensorBytes, tensorsIdentical, toFloat32 } from '../../src/tensor.js';

const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'onnx');

interface StateDictEntry {
  name: string;
  dtype: string;
  shape: number[];
  sum: number;
  weighted_sum: number;
  first: number[];
}
interface TorchReference {
  opset: number;
  state_dict: StateDictEntry[];
  input: { shape: number[]; data: number[] };
  output: { shape: number[]; data: number[] };
}

function fixture(name: string): { path: string; bytes: Uint8Array } {
  const path = join(FIXTURES, name);
  return { path, bytes: readFileSync(path) };
}

function reference<T>(name: string): T {
  return JSON.parse(readFileSync(join(FIXTURES, name), 'utf8')) as T;
}

/** Runs a model in ONNX Runtime and returns every output as [dims, values]. */
async function runOrt(bytes: Uint8Array, feeds: Record<string, ort.Tensor> = {}): Promise<Record<string, [readonly number[], number[]]>> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    const result = await session.run(feeds);
    const out: Record<string, [readonly number[], number[]]> = {};
    for (const [name, t] of Object.entries(result)) out[name] = [t.dims, Array.from(t.data as Float32Array)];
    return out;
  } finally {
    await session.release();
  }
}

function expectFormatError(fn: () => unknown, file: string, problem: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(FormatError);
  const err = caught as FormatError;
  expect(err.file).toBe(file);
  expect(err.message.startsWith(`${file}: `)).toBe(true);
  expect(err.problem).toMatch(problem);
}

// --- schema -------------------------------------------------------------------------------------

/**
 * The official schema, recorded from the `onnx` package's compiled descriptors by
 * scripts/make_onnx_schema_fixture.py, so this comparison needs no onnx install.
 */
interface OfficialSchema {
  messages: Record<string, { fields: Record<string, { number: number; type: string; label: string; packed: boolean; oneof: string | null }> }>;
  enums: Record<string, Record<string, number>>;
}

describe('ONNX schema', () => {
  it('matches the official ONNX schema field by field', () => {
    const official = reference<OfficialSchema>('official-schema.json');
    const ours = protobuf.Root.fromJSON(ONNX_SCHEMA);
    ours.resolveAll();
    // Official names carry no leading dot; protobufjs full names do.
    const officialName = (reflected: protobuf.ReflectionObject) => reflected.fullName.replace(/^\./, '');
    let fields = 0;
    let enums = 0;
    const visit = (ns: protobuf.NamespaceBase): void => {
      for (const nested of ns.nestedArray) {
        if (nested instanceof protobuf.Type) {
          const theirs = official.messages[officialName(nested)];
          expect(theirs, nested.fullName).toBeDefined();
          for (const field of nested.fieldsArray) {
            const other = theirs.fields[field.name];
            expect(other, `${nested.fullName}.${field.name}`).toBeDefined();
            const type = field.resolvedType ? officialName(field.resolvedType) : field.type;
            expect([field.id, type, field.repeated, field.packed, field.partOf?.name ?? null], `${nested.fullName}.${field.name}`).toEqual([
              other.number,
              other.type,
              other.label === 'repeated',
              other.packed,
              other.oneof,
            ]);
            fields++;
          }
        } else if (nested instanceof protobuf.Enum) {
          expect(nested.values, nested.fullName).toEqual(official.enums[officialName(nested)]);
          enums++;
        }
        if (nested instanceof protobuf.Namespace || nested instanceof protobuf.Type) visit(nested);
      }
    };
    visit(ours);
    expect(fields).toBeGreaterThan(80);
    expect(enums).toBe(3);
  });
});

// --- hand-built models --------------------------------------------------------------------------

/** One tensor of every dtype, with edge values, built through the shared tensor helpers. */
function everyDtype(): Map<string, Tensor> {
  // 1.5, -0, NaN with a payload, Infinity, 3.4e38, smallest subnormal; built from bits because
  // V8 may canonicalize a NaN payload that passes through a JS number
  const f32Bits = Uint32Array.from([0x3fc00000, 0x80000000, 0x7fc01234, 0x7f800000, 0x7f7fc99e, 0x00000001]);
  return new Map<string, Tensor>([
    ['f32', makeTensor('float32', [2, 3], new Float32Array(f32Bits.buffer))],
    ['f64', makeTensor('float64', [2], Float64Array.from([Math.PI, -1e-310]))],
    ['i64', makeTensor('int64', [3], BigInt64Array.from([-(2n ** 63n), 2n ** 63n - 1n, 42n]))],
    ['i32', makeTensor('int32', [2, 1], Int32Array.from([-(2 ** 31), 2 ** 31 - 1]))],
    ['u8', makeTensor('uint8', [3], Uint8Array.from([0, 128, 255]))],
    ['b', makeTensor('bool', [2], Uint8Array.from([1, 0]))],
    ['f16', fromFloat32('float16', [3], Float32Array.from([0.5, -65504, 6e-8]))],
    ['bf16', fromFloat32('bfloat16', [2], Float32Array.from([1.5, -3e38]))],
    ['empty', makeTensor('float32', [0, 3], new Float32Array(0))],
    ['scalar', makeTensor('int64', [], BigInt64Array.from([7n]))],
  ]);
}

function kitchenSinkModel(): OnnxModel {
  const body = makeGraph({
    name: 'then_branch',
    nodes: [makeNode('Identity', ['f32'], ['then_out'])],
    inputs: [],
    outputs: [makeValueInfo('then_out', 'float32', [2, 3])],
  });
  const graph = makeGraph({
    name: 'sink',
    nodes: [
      makeNode(
        'Custom',
        ['x', '', 'f32'],
        ['y', 'z'],
        {
          ...attrFloat('alpha', 0.25),
          ...attrInt('axis', -(2 ** 53) + 1),
          ...attrString('mode', 'héllo ✓'),
          ...attrTensor('value', makeTensor('int64', [2], BigInt64Array.from([-1n, 5n]))),
          ...attrGraph('body', body),
          ...attrFloats('scales', [1, -0.5, 2 ** 100]),
          ...attrInts('pads', [0, 1, 2 ** 40]),
          ...attrStrings('names', ['a', '', 'ß']),
        },
        { name: 'custom_0', domain: 'test.domain' },
      ),
    ],
    initializers: everyDtype(),
    inputs: [makeValueInfo('x', 'float32', ['batch', 3, null]), { name: 'untyped' }, { name: 'rank_unknown', elemType: 'int64' }],
    outputs: [makeValueInfo('y', 'float16', []), makeValueInfo('z', 'bool', [0, 'n'])],
    valueInfo: [{ name: 'shape_only', shape: [4] }],
  });
  const model = makeModel(graph, { opset: 13, irVersion: 7, producerName: 'test', metadata: { author: 'me', empty: '', __proto__x: 'p' } });
  model.opsetImports.push({ domain: 'test.domain', version: 2 });
  return model;
}

describe('serializeOnnxModel / parseOnnxModel round trip', () => {
  it('keeps every dtype, attribute kind, value info and metadata', () => {
    const model = kitchenSinkModel();
    const back = parseOnnxModel(serializeOnnxModel(model));
    expect(back).toEqual(model);
    // toEqual ignores NaN payloads: check tensor bytes exactly as well
    for (const [name, t] of model.graph.initializers) expect(tensorsIdentical(back.graph.initializers.get(name) as Tensor, t), name).toBe(true);
    expect([...back.graph.initializers.keys()]).toEqual([...model.graph.initializers.keys()]);
    expect(Object.keys(back.graph.nodes[0].attributes)).toEqual(Object.keys(model.graph.nodes[0].attributes));
    // serializing again gives the same bytes
    expect(Buffer.from(serializeOnnxModel(back)).equals(Buffer.from(serializeOnnxModel(model)))).toBe(true);
  });

  it('rounds float attributes to float32, as the format stores them', () => {
    const model = makeModel(makeGraph({ nodes: [makeNode('LeakyRelu', ['x'], ['y'], attrFloat('alpha', 0.1))], inputs: [], outputs: [] }));
    const alpha = parseOnnxModel(serializeOnnxModel(model)).graph.nodes[0].attributes.alpha;
    expect(alpha).toEqual({ type: 'float', value: Math.fround(0.1) });
  });

  it('a metadata key named __proto__ stays a key', () => {
    const model = makeModel(makeGraph({ nodes: [], inputs: [], outputs: [] }));
    Object.defineProperty(model.metadata, '__proto__', { value: 'x', enumerable: true, configurable: true, writable: true });
    const back = parseOnnxModel(serializeOnnxModel(model));
    expect(Object.getOwnPropertyDescriptor(back.metadata, '__proto__')?.value).toBe('x');
    expect(Object.getPrototypeOf(back.metadata)).toBe(Object.prototype);
  });

  it('reads raw_data at any buffer offset: views when aligned, copies otherwise', () => {
    const bytes = serializeOnnxModel(kitchenSinkModel());
    let views = 0;
    for (let offset = 0; offset < 8; offset++) {
      const holder = new Uint8Array(bytes.length + offset);
      holder.set(bytes, offset);
      const input = holder.subarray(offset);
      const back = parseOnnxModel(input);
      for (const [name, t] of kitchenSinkModel().graph.initializers) {
        const got = back.graph.initializers.get(name) as Tensor;
        expect(tensorsIdentical(got, t), `${name} at offset ${offset}: ${Buffer.from(tensorBytes(got)).toString('hex')}`).toBe(true);
      }
      const f64 = back.graph.initializers.get('f64') as Tensor;
      if (f64.data.buffer === holder.buffer) views++;
    }
    expect(views).toBe(1); // exactly one of 8 offsets aligns the float64 data
  });

  it('refuses to write an int attribute outside the safe range', () => {
    expect(() => attrInt('axis', 2 ** 60)).toThrow(RangeError);
    const model = makeModel(makeGraph({ nodes: [makeNode('X', [], ['y'], { axis: { type: 'int', value: 0.5 } })], inputs: [], outputs: [] }));
    expect(() => serializeOnnxModel(model)).toThrow(/not a safe integer/);
  });
});

describe('ONNX Runtime runs what the writer produces', () => {
  it('evaluates a Gemm/Relu/Add/Reshape graph to hand-computed values', async () => {
    // x = [[1, 2], [3, -4]], W = [[1, 0], [0, 1], [1, 1]], b = [0.5, -10, 1], c = [1, 2, 3]
    // x W^T + b = [[1.5, -8, 4], [3.5, -14, 0]]; relu -> [[1.5, 0, 4], [3.5, 0, 0]]; + c -> below
    const graph = makeGraph({
      name: 'gemm_relu_add',
      nodes: [
        makeNode('Gemm', ['x', 'W', 'b'], ['h'], { ...attrInt('transB', 1), ...attrFloat('alpha', 1), ...attrFloat('beta', 1) }, { name: 'gemm' }),
        makeNode('Relu', ['h'], ['r']),
        makeNode('Constant', [], ['c'], attrTensor('value', float32Tensor([3], [1, 2, 3]))),
        makeNode('Add', ['r', 'c'], ['y']),
        makeNode('Reshape', ['y', 'flat'], ['flat_y']),
      ],
      initializers: [
        ['W', float32Tensor([3, 2], [1, 0, 0, 1, 1, 1])],
        ['b', float32Tensor([3], [0.5, -10, 1])],
        ['flat', makeTensor('int64', [1], BigInt64Array.from([-1n]))],
      ],
      inputs: [makeValueInfo('x', 'float32', ['batch', 2])],
      outputs: [makeValueInfo('y', 'float32', ['batch', 3]), makeValueInfo('flat_y', 'float32', [null])],
    });
    const bytes = serializeOnnxModel(makeModel(graph, { opset: 13 }));
    const out = await runOrt(bytes, { x: new ort.Tensor('float32', Float32Array.from([1, 2, 3, -4]), [2, 2]) });
    expect(out.y).toEqual([
      [2, 3],
      [2.5, 2, 7, 4.5, 2, 3],
    ]);
    expect(out.flat_y).toEqual([[6], [2.5, 2, 7, 4.5, 2, 3]]);
  });

  it('reads initializers of every dtype as written (Cast to float in ORT)', async () => {
    const values: Record<DType, [number[], number[]]> = {
      // [input values, what Cast(to=FLOAT) must give]
      float32: [
        [1.5, -2],
        [1.5, -2],
      ],
      float64: [
        [0.5, -1000, 0.125],
        [0.5, -1000, 0.125],
      ],
      float16: [
        [0.5, -1.25, 65504],
        [0.5, -1.25, 65504],
      ],
      bfloat16: [
        [1.5, -2, 0.15625],
        [1.5, -2, 0.15625],
      ],
      int64: [
        [-(2 ** 40), 3, 0],
        [-(2 ** 40), 3, 0],
      ],
      int32: [
        [-7, 100000, 0],
        [-7, 100000, 0],
      ],
      uint8: [
        [0, 255, 17],
        [0, 255, 17],
      ],
      bool: [
        [1, 0, 1],
        [1, 0, 1],
      ],
    };
    const nodes = [];
    const initializers: [string, Tensor][] = [];
    const outputs = [];
    for (const [dtype, [input]] of Object.entries(values) as [DType, [number[], number[]]][]) {
      initializers.push([`w_${dtype}`, fromFloat32(dtype, [input.length], Float32Array.from(input))]);
      nodes.push(makeNode('Cast', [`w_${dtype}`], [`out_${dtype}`], attrInt('to', 1)));
      outputs.push(makeValueInfo(`out_${dtype}`, 'float32', [input.length]));
    }
    const bytes = serializeOnnxModel(makeModel(makeGraph({ nodes, initializers, inputs: [], outputs }), { opset: 13 }));
    const out = await runOrt(bytes);
    for (const [dtype, [input, expected]] of Object.entries(values)) expect(out[`out_${dtype}`], dtype).toEqual([[input.length], expected]);
  });
});

// --- files written by the onnx package (typed data fields, every attribute kind) ----------------

interface TypedFieldsReference {
  ir_version: number;
  initializers: Record<string, { dtype: DType; shape: number[]; values: (number | string)[]; field: string }>;
  attributes: { f: number; i: number; s: string; fs: number[]; is: number[]; ss: string[]; t: string[] };
  input_shape: (number | string | null)[];
  output_shape: (number | string | null)[];
  metadata: Record<string, string>;
}

describe('files from the onnx package (typed fields)', () => {
  const { path, bytes } = fixture('typed_fields.onnx');
  const ref = reference<TypedFieldsReference>('typed_fields.json');
  const model = parseOnnxModel(bytes, path);

  it('decodes float_data, int32_data (incl. float16/bfloat16/bool/uint8), int64_data and double_data', () => {
    expect([...model.graph.initializers.keys()]).toEqual(Object.keys(ref.initializers));
    for (const [name, expected] of Object.entries(ref.initializers)) {
      const t = model.graph.initializers.get(name) as Tensor;
      expect([t.dtype, t.shape], name).toEqual([expected.dtype, expected.shape]);
      const got: (number | bigint)[] =
        t.dtype === 'float16' || t.dtype === 'bfloat16' ? Array.from(toFloat32(t)) : Array.from(t.data as ArrayLike<number | bigint>);
      const want = expected.values.map((v) => (t.dtype === 'int64' ? BigInt(v) : t.dtype === 'float32' ? Math.fround(v as number) : v));
      expect(got.length, name).toBe(want.length);
      got.forEach((g, i) => expect(Object.is(g, want[i]) || g === want[i], `${name}[${i}]: ${g} vs ${want[i]}`).toBe(true));
    }
  });

  it('decodes every attribute kind', () => {
    const node = model.graph.nodes.find((n) => n.opType === 'AllAttributes');
    expect(node).toBeDefined();
    const a = node?.attributes ?? {};
    expect([node?.name, node?.domain, node?.inputs, node?.outputs]).toEqual(['all_attrs', 'test.domain', ['input', 't_float32'], ['output']]);
    expect(a.f).toEqual({ type: 'float', value: ref.attributes.f });
    expect(a.i).toEqual({ type: 'int', value: ref.attributes.i });
    expect(a.s).toEqual({ type: 'string', value: ref.attributes.s });
    expect(a.fs).toEqual({ type: 'floats', value: ref.attributes.fs });
    expect(a.is).toEqual({ type: 'ints', value: ref.attributes.is });
    expect(a.ss).toEqual({ type: 'strings', value: ref.attributes.ss });
    expect(a.t.type).toBe('tensor');
    if (a.t.type === 'tensor') expect(Array.from(a.t.value.data as BigInt64Array)).toEqual(ref.attributes.t.map(BigInt));
    expect(a.g.type).toBe('graph');
    if (a.g.type === 'graph') expect(a.g.value.nodes.map((n) => [n.opType, n.inputs, n.outputs])).toEqual([['Identity', ['x'], ['y']]]);
  });

  it('decodes value infos, opsets and metadata', () => {
    expect(model.irVersion).toBe(ref.ir_version);
    expect(model.opsetImports).toEqual([
      { domain: '', version: 13 },
      { domain: 'test.domain', version: 1 },
    ]);
    expect(model.producerName).toBe('make_onnx_fixtures.py');
    expect(model.metadata).toEqual(ref.metadata);
    expect(model.graph.inputs).toEqual([{ name: 'input', elemType: 'float32', shape: ref.input_shape }]);
    expect(model.graph.outputs).toEqual([{ name: 'output', elemType: 'float16', shape: ref.output_shape }]);
    expect(model.graph.valueInfo).toEqual([{ name: 'c_out', elemType: 'int64' }]);
  });

  it('survives a round trip through our writer (typed fields become raw_data)', () => {
    expect(parseOnnxModel(serializeOnnxModel(model))).toEqual(model);
  });
});

// --- torch.onnx.export fixtures -----------------------------------------------------------------

describe.each(['tiny_mlp', 'tiny_conv_bn'])('torch export %s', (name) => {
  const { path, bytes } = fixture(`${name}.onnx`);
  const ref = reference<TorchReference>(`${name}.json`);
  // torch.onnx.export leaves out buffers the graph never reads: BatchNorm's num_batches_tracked
  const exported = ref.state_dict.filter((e) => !e.name.endsWith('.num_batches_tracked'));

  it('onnxWeights gives exactly the state dict (Identity aliases resolved)', () => {
    const model = parseOnnxModel(bytes, path);
    const weights = onnxWeights(model);
    expect([...weights.keys()].sort()).toEqual(exported.map((e) => e.name).sort());
    for (const e of exported) {
      const t = weights.get(e.name) as Tensor;
      expect([t.dtype, t.shape], e.name).toEqual([e.dtype, e.shape]);
      const values = Array.from(t.data as Float32Array);
      const sum = values.reduce((s, v) => s + v, 0);
      const weighted = values.reduce((s, v, i) => s + v * ((i % 7) + 1), 0);
      expect(sum, `${e.name} sum`).toBeCloseTo(e.sum, 9);
      expect(weighted, `${e.name} weighted sum`).toBeCloseTo(e.weighted_sum, 9);
      expect(values.slice(0, 4), `${e.name} first values`).toEqual(e.first);
    }
    if (name === 'tiny_conv_bn') {
      // the fixture really exercises aliasing: these names exist only as Identity outputs
      const aliasOnly = exported.map((e) => e.name).filter((n) => !model.graph.initializers.has(n));
      expect(aliasOnly).toEqual(expect.arrayContaining(['bn2.running_mean', 'bn2.running_var', 'bn3.weight', 'bn3.running_var']));
    }
  });

  it('readOnnxFile reports format, producer and opset', async () => {
    const file = await readOnnxFile(path);
    expect(file.format).toBe('onnx');
    expect(file.file).toBe(path);
    expect(file.metadata).toEqual({ producer_name: 'pytorch', opset: String(ref.opset) });
    expect(file.weights.size).toBe(exported.length);
  });

  it('re-serialized by our writer, runs in ONNX Runtime and reproduces the torch output', async () => {
    const model = parseOnnxModel(bytes, path);
    const rewritten = serializeOnnxModel(model);
    expect(parseOnnxModel(rewritten)).toEqual(model);
    const out = await runOrt(rewritten, { input: new ort.Tensor('float32', Float32Array.from(ref.input.data), ref.input.shape) });
    expect(out.output[0]).toEqual(ref.output.shape);
    out.output[1].forEach((v, i) => expect(v).toBeCloseTo(ref.output.data[i], 5));
  });
});

// --- onnxWeights alias rules on hand-built graphs ---------------------------------------------

describe('onnxWeights alias rules', () => {
  const t = (v: number): Tensor => float32Tensor([1], [v]);
  const weightsOf = (nodes: ReturnType<typeof makeNode>[], initializers: [string, Tensor][]): Map<string, Tensor> =>
    onnxWeights(makeModel(makeGraph({ nodes, initializers, inputs: [], outputs: [] })));

  it('follows Identity chains from an initializer, exposing every PyTorch-style name', () => {
    const w = weightsOf(
      [makeNode('Identity', ['b.weight'], ['c.weight']), makeNode('Identity', ['a.weight'], ['b.weight']), makeNode('Identity', ['act'], ['d.weight'])],
      [
        ['a.weight', t(1)],
        ['a.bias', t(2)],
      ],
    );
    expect([...w.keys()]).toEqual(['a.weight', 'c.weight', 'b.weight', 'a.bias']); // aliases in node order
    expect(w.get('c.weight')).toBe(w.get('a.weight'));
  });

  it('resolves branching chains and leaves out names caught in an Identity cycle', () => {
    const w = weightsOf(
      [
        makeNode('Identity', ['x.weight'], ['y.weight']),
        makeNode('Identity', ['y.weight'], ['x.weight']), // a cycle: no initializer at its root
        makeNode('Identity', ['x.weight'], ['z.weight']), // leads into the cycle
        makeNode('Identity', ['p.weight'], ['q.weight']),
        makeNode('Identity', ['root.weight'], ['p.weight']),
        makeNode('Identity', ['p.weight'], ['r.weight']), // a branch off the chain, after p is resolved
      ],
      [['root.weight', t(1)]],
    );
    expect([...w.keys()]).toEqual(['root.weight', 'q.weight', 'p.weight', 'r.weight']);
    for (const name of ['q.weight', 'p.weight', 'r.weight']) expect(w.get(name)).toBe(w.get('root.weight'));
  });

  it("prefers the PyTorch name over an 'onnx::' initializer name", () => {
    const w = weightsOf(
      [makeNode('Identity', ['onnx::Conv_12'], ['layer1.0.conv1.weight']), makeNode('Identity', ['fc.weight'], ['onnx::Gemm_3'])],
      [
        ['onnx::Conv_12', t(1)],
        ['fc.weight', t(2)],
        ['onnx::Mul_7', t(3)],
      ],
    );
    expect([...w.keys()]).toEqual(['layer1.0.conv1.weight', 'fc.weight', 'onnx::Mul_7']);
    expect(w.get('layer1.0.conv1.weight')?.data[0]).toBe(1);
  });

  it('keeps top-level names without a dot', () => {
    const w = weightsOf([makeNode('Identity', ['weight'], ['onnx::Gemm_3']), makeNode('Identity', ['weight'], ['tied'])], [['weight', t(1)]]);
    expect([...w.keys()]).toEqual(['weight', 'tied']);
  });

  it('exposes Constant values only when an Identity gives them a PyTorch name', () => {
    const w = weightsOf(
      [
        makeNode('Constant', [], ['onnx::Constant_1'], attrTensor('value', t(5))),
        makeNode('Identity', ['onnx::Constant_1'], ['bn.running_mean']),
        makeNode('Constant', [], ['shape_const'], attrTensor('value', t(6))),
      ],
      [],
    );
    expect([...w.keys()]).toEqual(['bn.running_mean']);
    expect(w.get('bn.running_mean')?.data[0]).toBe(5);
  });

  it('ignores Identity cycles and nodes of other domains', () => {
    const w = weightsOf(
      [makeNode('Identity', ['x.a'], ['x.b']), makeNode('Identity', ['x.b'], ['x.a']), makeNode('Identity', ['w'], ['m.w'], {}, { domain: 'custom' })],
      [['w', t(1)]],
    );
    expect([...w.keys()]).toEqual(['w']);
  });
});

// --- hostile input ------------------------------------------------------------------------------

const rawRoot = protobuf.Root.fromJSON(ONNX_SCHEMA);
const RawModel = rawRoot.lookupType('onnx.ModelProto');

/** Encodes a ModelProto from plain protobuf fields, bypassing our writer's checks. */
function rawModel(graph: Record<string, unknown>, extra: Record<string, unknown> = {}): Uint8Array {
  return RawModel.encode({ ir_version: 8, opset_import: [{ domain: '', version: 13 }], graph: { name: 'g', ...graph }, ...extra }).finish();
}
const floatBytes = (n: number): Uint8Array => new Uint8Array(new Float32Array(n).buffer);
const init = (fields: Record<string, unknown>): Record<string, unknown> => ({ initializer: [{ name: 'w', data_type: 1, dims: [2, 3], ...fields }] });

describe('hostile input gives a FormatError naming the file', () => {
  const file = 'bad.onnx';

  it('random bytes', () => {
    let seed = 12345;
    const next = (): number => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return seed >>> 0;
    };
    for (let trial = 0; trial < 50; trial++) {
      const bytes = Uint8Array.from({ length: 1 + (next() % 3000) }, () => next() & 0xff);
      expectFormatError(() => parseOnnxModel(bytes, file), file, /ONNX/);
    }
  });

  it('empty and truncated files', () => {
    expectFormatError(() => parseOnnxModel(new Uint8Array(0), file), file, /no graph/);
    const { bytes } = fixture('tiny_conv_bn.onnx');
    for (const fraction of [0.01, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99]) {
      expectFormatError(() => parseOnnxModel(bytes.subarray(0, Math.floor(bytes.length * fraction)), file), file, /not a valid ONNX protobuf|no graph/);
    }
  });

  it('a protobuf that is not a model', () => {
    expectFormatError(() => parseOnnxModel(rawModel({}, { ir_version: undefined }), file), file, /no ir_version/);
    expectFormatError(() => parseOnnxModel(new TextEncoder().encode('{"not": "onnx"}'), file), file, /ONNX/);
  });

  it('raw_data length that does not match the shape', () => {
    expectFormatError(() => parseOnnxModel(rawModel(init({ raw_data: floatBytes(5) })), file), file, /initializer 'w'.*needs 24 bytes of raw_data, found 20/);
    expectFormatError(
      () => parseOnnxModel(rawModel(init({ float_data: [1, 2, 3] })), file),
      file,
      /initializer 'w' has shape \[2,3\] \(6 elements\) but float_data holds 3/,
    );
    expectFormatError(() => parseOnnxModel(rawModel(init({})), file), file, /float_data holds 0/);
  });

  it('unknown or unsupported data types', () => {
    expectFormatError(
      () => parseOnnxModel(rawModel(init({ data_type: 99, raw_data: floatBytes(6) })), file),
      file,
      /initializer 'w' has data type 99 \(99\), which is not supported/,
    );
    expectFormatError(() => parseOnnxModel(rawModel(init({ data_type: 8, string_data: [] })), file), file, /data type STRING \(8\)/);
    expectFormatError(() => parseOnnxModel(rawModel(init({ data_type: 3, raw_data: new Uint8Array(6) })), file), file, /data type INT8 \(3\)/);
    expectFormatError(() => parseOnnxModel(rawModel(init({ data_type: undefined })), file), file, /data type UNDEFINED \(0\)/);
  });

  it('negative and oversized dimensions', () => {
    expectFormatError(
      () => parseOnnxModel(rawModel(init({ dims: [2, -3], raw_data: new Uint8Array(0) })), file),
      file,
      /initializer 'w' has negative dimension -3/,
    );
    expectFormatError(() => parseOnnxModel(rawModel(init({ dims: [2 ** 40, 2 ** 40] })), file), file, /too many elements/);
    expectFormatError(
      () => parseOnnxModel(rawModel(init({ dims: ['9223372036854775807'] })), file),
      file,
      /dimension 9223372036854775807, which is out of range/,
    );
    const badInput = { input: [{ name: 'x', type: { tensor_type: { elem_type: 1, shape: { dim: [{ dim_value: -1 }] } } } }] };
    expectFormatError(() => parseOnnxModel(rawModel(badInput), file), file, /input of the main graph 'x' has negative dimension -1/);
  });

  it('external data, mixed data fields and bad element values', () => {
    const external = { data_location: 1, external_data: [{ key: 'location', value: 'weights.bin' }] };
    expectFormatError(() => parseOnnxModel(rawModel(init(external)), file), file, /initializer 'w'.*external data not supported/);
    expectFormatError(
      () => parseOnnxModel(rawModel(init({ raw_data: floatBytes(6), float_data: [1, 2, 3, 4, 5, 6] })), file),
      file,
      /both raw_data and float_data/,
    );
    expectFormatError(
      () => parseOnnxModel(rawModel(init({ int64_data: [1, 2, 3, 4, 5, 6] })), file),
      file,
      /int64_data, which does not fit its data type float32/,
    );
    expectFormatError(
      () => parseOnnxModel(rawModel(init({ data_type: 9, raw_data: Uint8Array.from([0, 1, 2, 0, 0, 0]) })), file),
      file,
      /bool element 2 has byte value 2/,
    );
    expectFormatError(
      () => parseOnnxModel(rawModel(init({ data_type: 10, int32_data: [1, 2, 3, 4, 5, 70000] })), file),
      file,
      /int32_data value 70000 is out of range for float16/,
    );
  });

  it('duplicate names, bad attributes and non-tensor types', () => {
    const twice = {
      initializer: [...(init({ raw_data: floatBytes(6) }).initializer as object[]), ...(init({ raw_data: floatBytes(6) }).initializer as object[])],
    };
    expectFormatError(() => parseOnnxModel(rawModel(twice), file), file, /duplicate initializer 'w'/);
    const node = (attribute: object[]): Record<string, unknown> => ({ node: [{ op_type: 'Slice', name: 'slice', input: ['x'], output: ['y'], attribute }] });
    expectFormatError(
      () => parseOnnxModel(rawModel(node([{ name: 'ends', type: 7, ints: ['9223372036854775807'] }])), file),
      file,
      /attribute 'ends' of node 'slice'.*9223372036854775807, outside the range/,
    );
    expectFormatError(
      () => parseOnnxModel(rawModel(node([{ name: 'mode', type: 3, s: Uint8Array.from([0xff, 0xfe]) }])), file),
      file,
      /attribute 'mode'.*not valid UTF-8/,
    );
    expectFormatError(
      () => parseOnnxModel(rawModel(node([{ name: 'ts', type: 9, tensors: [] }])), file),
      file,
      /attribute 'ts'.*type TENSORS, which is not supported/,
    );
    expectFormatError(
      () =>
        parseOnnxModel(
          rawModel(
            node([
              { name: 'a', type: 1, f: 1 },
              { name: 'a', type: 1, f: 2 },
            ]),
          ),
          file,
        ),
      file,
      /duplicate attribute.*'a'/,
    );
    expectFormatError(() => parseOnnxModel(rawModel({ node: [{ name: 'n' }] }), file), file, /node 'n'.*has no op_type/);
    const seq = { output: [{ name: 'y', type: { sequence_type: { elem_type: { tensor_type: { elem_type: 1 } } } } }] };
    expectFormatError(() => parseOnnxModel(rawModel(seq), file), file, /output of the main graph 'y' has a sequence type; only tensors are supported/);
    const int8Input = { input: [{ name: 'x', type: { tensor_type: { elem_type: 3 } } }] };
    expectFormatError(() => parseOnnxModel(rawModel(int8Input), file), file, /'x' has element type INT8 \(3\), which is not supported/);
  });

  it('readOnnxFile on a missing or foreign file', async () => {
    const missing = join(tmpdir(), 'no-such-model.onnx');
    await expect(readOnnxFile(missing)).rejects.toThrow(FormatError);
    await expect(readOnnxFile(missing)).rejects.toThrow(/no-such-model\.onnx: cannot read file \(ENOENT\)/);
    const json = join(FIXTURES, 'tiny_mlp.json');
    await expect(readOnnxFile(json)).rejects.toThrow(FormatError);
  });
});

describe('writeOnnxModel', () => {
  it('writes a file that reads back identically', async () => {
    const dir = await fs.mkdtemp(join(tmpdir(), 'onnx-test-'));
    try {
      const path = join(dir, 'm.onnx');
      const model = kitchenSinkModel();
      await writeOnnxModel(path, model);
      expect(parseOnnxModel(await fs.readFile(path), path)).toEqual(model);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
