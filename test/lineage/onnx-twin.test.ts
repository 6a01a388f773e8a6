/**
 * A model given as ONNX scores as its safetensors twin: both files come from the same PyTorch model
 * (scripts/make_onnx_twin_fixtures.py), the .onnx one through torch.onnx.export. conv-child.onnx
 * stores two BatchNorm tensors as Identity aliases of others that conv-a.onnx stores apart.
 */
import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { parseNpy } from '../../src/formats/npy.js';
import { makeGraph, makeModel, makeNode } from '../../src/formats/onnx/model.js';
import { parseOnnxModel } from '../../src/formats/onnx/reader.js';
import { writeOnnxModel } from '../../src/formats/onnx/weights.js';
import { graphFromOnnxFile } from '../../src/graph/from-onnx.js';
import { allMethodNames } from '../../src/lineage/methods.js';
import { type MethodResult, scoreMatrix } from '../../src/lineage/learning-free.js';
import { buildModelGraph, resolveModel } from '../../src/lineage/model.js';
import { makeTensor, type Tensor } from '../../src/tensor.js';
import { lineage } from '../cli/run-cli.js';

const DIR = join(import.meta.dirname, '..', '..', 'fixtures', 'onnx-twins');
const file = (name: string) => join(DIR, name);
const probe = parseNpy(readFileSync(file('probe.npy'))) as Tensor<'float32'>;
const METHODS = allMethodNames();
/** Scores agree to this relative tolerance (both formats run the same float32 operators). */
const RELATIVE = 1e-5;

/** The model name of a fixture path: `conv-a` for .../conv-a.onnx and .../conv-a.safetensors. */
const stem = (path: string) => basename(path).replace(/\.(onnx|safetensors)$/, '');

async function scores(family: string, ext: string): Promise<MethodResult[]> {
  return scoreMatrix([file(`${family}-child.${ext}`)], [file(`${family}-a.${ext}`), file(`${family}-b.${ext}`)], { probe, methods: METHODS });
}

function expectSameScores(onnx: MethodResult[], twin: MethodResult[]): void {
  expect(onnx.map((r) => r.method)).toEqual(twin.map((r) => r.method));
  for (const [m, r] of onnx.entries()) {
    const want = twin[m].children[0];
    const got = r.children[0];
    expect(got.incompatible, r.method).toEqual([]);
    expect(
      got.scores.map((s) => stem(s.parent)),
      r.method,
    ).toEqual(want.scores.map((s) => stem(s.parent)));
    expect(stem(got.parent ?? ''), r.method).toBe(stem(want.parent ?? ''));
    got.scores.forEach((s, i) => {
      const w = want.scores[i].score;
      if (Number.isNaN(w)) expect(s.score, r.method).toBeNaN();
      else expect(Math.abs(s.score - w), `${r.method} ${stem(s.parent)}: ${s.score} vs ${w}`).toBeLessThanOrEqual(RELATIVE * Math.abs(w));
    });
  }
}

describe('ONNX models score as their safetensors twins', () => {
  for (const family of ['mlp', 'conv']) {
    it(`${family}: every method, default options`, async () => {
      const [onnx, twin] = [await scores(family, 'onnx'), await scores(family, 'safetensors')];
      expect(twin.map((r) => r.method)).toEqual(METHODS);
      expectSameScores(onnx, twin);
      // The twins are not all ties: the ranking compared above says something.
      const taylor = twin[METHODS.indexOf('taylor-l1')].children[0].scores;
      expect(taylor[0].score).toBeGreaterThan(taylor[1].score);
    });
  }

  it('reads aliased tensors under their state-dict names, sharing one tensor with the graph', async () => {
    const model = await resolveModel(file('conv-child.onnx'));
    const { graph, headParams } = await buildModelGraph(model, {});
    expect(headParams).toEqual(['head.weight', 'head.bias']);
    // The file stores running_var as Identity(weight): one tensor, two names, both bound by name.
    expect(model.weights.get('blocks.1.bn.running_var')).toBe(model.weights.get('blocks.1.bn.weight'));
    for (const name of ['blocks.1.bn.running_var', 'blocks.1.bn.running_mean']) {
      expect(graph.initializers.get(name)).toBe(model.weights.get(name));
    }
    expect(graph.nodes.filter((n) => n.op === 'Identity')).toEqual([]);
    const twin = await resolveModel(file('conv-child.safetensors'));
    expect([...model.weights.keys()].sort()).toEqual([...twin.weights.keys()].filter((k) => !k.endsWith('num_batches_tracked')).sort());
  });

  it("names the input of the final linear node 'penultimate'", async () => {
    for (const [name, op] of [
      ['mlp-a.onnx', 'Relu'],
      ['conv-a.onnx', 'ReduceMean'],
    ]) {
      const graph = await graphFromOnnxFile(file(name), readFileSync(file(name)));
      const value = graph.taps.get('penultimate');
      const gemm = graph.nodes.find((n) => n.outputs.includes(graph.outputs[0].name))!;
      expect(gemm.op).toBe('Gemm');
      expect(value).toBe(gemm.inputs[0]);
      expect(graph.nodes.find((n) => n.outputs.includes(value!))!.op).toBe(op);
    }
  });
});

describe('BatchNorm folded into convolutions', () => {
  it('is a different parametrisation: reported as such, for a folded candidate and for a folded child', async () => {
    const foldedModel = parseOnnxModel(readFileSync(file('conv-a.folded.onnx')), 'conv-a.folded.onnx');
    expect(foldedModel.graph.nodes.some((n) => n.opType === 'BatchNormalization')).toBe(false);
    const [candidate] = await scoreMatrix([file('conv-child.onnx')], [file('conv-a.folded.onnx'), file('conv-b.onnx')], { probe });
    expect(candidate.children[0].incompatible).toHaveLength(1);
    expect(candidate.children[0].incompatible[0].reason).toMatch(/^BatchNorm folded into convolutions in the candidate .*a different parametrisation/);
    expect(candidate.children[0].scores.map((s) => stem(s.parent))).toEqual(['conv-b']);
    const [child] = await scoreMatrix([file('conv-child.folded.onnx')], [file('conv-a.safetensors')], { probe });
    expect(child.children[0].incompatible[0].reason).toMatch(/^BatchNorm folded into convolutions in the child /);
  });

  it('compares two folded exports with each other', async () => {
    const [r] = await scoreMatrix([file('conv-child.folded.onnx')], [file('conv-a.folded.onnx')], { probe, methods: ['direct-l1'] });
    expect(r.children[0].incompatible).toEqual([]);
    expect(r.children[0].scores).toHaveLength(1);
  });
});

describe('lineage detect on ONNX files', () => {
  it('works with the default layer and agrees with the safetensors twins', async () => {
    const run = (ext: string) =>
      lineage(
        'detect',
        '--child',
        file(`conv-child.${ext}`),
        '--parents',
        file(`conv-a.${ext}`),
        file(`conv-b.${ext}`),
        '--probe',
        file('probe.npy'),
        '--json',
        '--no-progress',
      );
    const [onnx, twin] = [await run('onnx'), await run('safetensors')];
    expect(onnx.stderr).toBe('');
    expect(onnx.code).toBe(0);
    expect(twin.code).toBe(0);
    const got = JSON.parse(onnx.stdout) as MethodResult;
    const want = JSON.parse(twin.stdout) as MethodResult;
    expect(got.layer).toBe('penultimate');
    expectSameScores([got], [want]);
  }, 60_000);
});

describe('ONNX files built by hand', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'lineage-onnx-twin-'));
  const values = (seed: number, n: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 7.1 + i * 1.3));
  const x = makeTensor('float32', [5, 4], values(9, 20));

  /**
   * x [N,4] -> MatMul fc.weight [4,3] -> Relu -> Gemm head (transB) -> y. `aliased` stores fc.weight as
   * an `onnx::MatMul_7` initializer that the MatMul reads, with the state-dict name on an Identity
   * output, as older torch exports do; `head` false ends the graph at the Relu.
   */
  async function write(name: string, seed: number, options: { aliased?: boolean; head?: boolean } = {}): Promise<string> {
    const stored = options.aliased ? 'onnx::MatMul_7' : 'fc.weight';
    const head = options.head ?? true;
    const nodes = [
      ...(options.aliased ? [makeNode('Identity', [stored], ['fc.weight'])] : []),
      makeNode('MatMul', ['x', stored], ['h']),
      makeNode('Relu', ['h'], [head ? 'r' : 'y']),
      ...(head ? [makeNode('Gemm', ['r', 'head.weight', 'head.bias'], ['y'], { transB: { type: 'int', value: 1 } })] : []),
    ];
    const initializers: [string, Tensor][] = [
      [stored, makeTensor('float32', [4, 3], values(seed, 12))],
      ['head.weight', makeTensor('float32', [2, 3], values(seed + 1, 6))],
      ['head.bias', makeTensor('float32', [2], values(seed + 2, 2))],
    ];
    const graph = makeGraph({
      nodes,
      initializers,
      inputs: [{ name: 'x', elemType: 'float32', shape: ['N', 4] }],
      outputs: [{ name: 'y', elemType: 'float32', shape: ['N', head ? 2 : 3] }],
    });
    const path = join(tmp, name);
    await writeOnnxModel(path, makeModel(graph, { opset: 13 }));
    return path;
  }

  it("binds a candidate's weights to a child that stores them under 'onnx::' names", async () => {
    const candidates = [await write('parent.onnx', 1), await write('other.onnx', 2)];
    const methods = ['direct-l1', 'taylor-l2', 'weights-l2'];
    const aliased = await scoreMatrix([await write('aliased.onnx', 3, { aliased: true })], candidates, { probe: x, methods });
    const plain = await scoreMatrix([await write('plain.onnx', 3)], candidates, { probe: x, methods });
    for (const [m, r] of aliased.entries()) {
      expect(r.children[0].scores, methods[m]).toEqual(plain[m].children[0].scores);
      // Had the child kept its own fc.weight, the direct score of every candidate would be 0.
      expect(
        r.children[0].scores.every((s) => s.score < 0),
        methods[m],
      ).toBe(true);
    }
  });

  it('refuses the default layer on a graph without a final linear node, naming the file', async () => {
    const headless = await write('headless.onnx', 4, { head: false });
    await expect(scoreMatrix([headless], [headless], { probe: x, methods: ['direct-l1'] })).rejects.toThrow(
      /headless\.onnx: unknown layer 'penultimate'.*no final Gemm or MatMul/,
    );
  });

  it('stores a tensor with 100k Identity aliases under every name in linear time', async () => {
    const n = 100_000;
    const nodes = Array.from({ length: n }, (_, i) => makeNode('Identity', [i === 0 ? 'w' : `m.a${i - 1}`], [`m.a${i}`]));
    nodes.push(makeNode('MatMul', ['x', `m.a${n - 1}`], ['h']), makeNode('Gemm', ['h', 'head.weight'], ['y'], { transB: { type: 'int', value: 1 } }));
    const initializers: [string, Tensor][] = [
      ['w', makeTensor('float32', [4, 3], values(5, 12))],
      ['head.weight', makeTensor('float32', [2, 3], values(6, 6))],
    ];
    const path = join(tmp, 'aliases.onnx');
    const graph = makeGraph({
      nodes,
      initializers,
      inputs: [{ name: 'x', elemType: 'float32', shape: ['N', 4] }],
      outputs: [{ name: 'y', elemType: 'float32', shape: ['N', 2] }],
    });
    await writeOnnxModel(path, makeModel(graph, { opset: 13 }));
    const started = performance.now();
    const model = await resolveModel(path);
    expect(performance.now() - started).toBeLessThan(30_000);
    expect(model.weights.size).toBe(n + 1);
    expect(model.graph!.nodes.map((node) => node.op)).toEqual(['MatMul', 'Gemm']);
    expect(model.graph!.initializers.get(`m.a${n - 1}`)).toBe(model.weights.get('m.a0'));
    expect(model.graph!.taps.get('penultimate')).toBe('h');
  }, 60_000);
});
