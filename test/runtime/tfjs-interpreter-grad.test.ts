/**
 * Gradients through the tfjs interpreter against central finite differences computed by ONNX
 * Runtime (an independent forward pass) with respect to every initializer and the input, and a tiny
 * training loop that must lower its loss.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { type Graph, attr } from '../../src/graph/ir.js';
import { GraphBuilder } from '../../src/graph/builder.js';
import { CompiledGraph } from '../../src/runtime/ort.js';
import { initTfjs } from '../../src/runtime/tfjs/backend.js';
import { toTf } from '../../src/runtime/tfjs/convert.js';
import { interpretGraph } from '../../src/runtime/tfjs/interpreter.js';
import { initializerVariables } from '../../src/runtime/tfjs/variables.js';
import { makeTensor, type Tensor } from '../../src/tensor.js';
import { randomTensor, rng } from './interpreter-harness.js';

beforeAll(async () => {
  await initTfjs('wasm');
});

/** Conv + BatchNorm + Gelu + Gemm + LayerNorm + Gelu + Gemm. */
function miniModel(next: () => number): Graph {
  const w = new Map<string, Tensor>([
    ['conv.weight', randomTensor([3, 2, 3, 3], next, 0.5)],
    ['conv.bias', randomTensor([3], next, 0.2)],
    ['bn.weight', randomTensor([3], next, 0.3, 1)],
    ['bn.bias', randomTensor([3], next, 0.2)],
    ['bn.running_mean', randomTensor([3], next, 0.2)],
    ['bn.running_var', randomTensor([3], next, 0.2, 1)],
    ['fc1.weight', randomTensor([8, 48], next, 0.3)],
    ['fc1.bias', randomTensor([8], next, 0.2)],
    ['ln.weight', randomTensor([8], next, 0.3, 1)],
    ['ln.bias', randomTensor([8], next, 0.2)],
    ['fc2.weight', randomTensor([3, 8], next, 0.5)],
    ['fc2.bias', randomTensor([3], next, 0.2)],
  ]);
  const g = new GraphBuilder('mini', w);
  const x = g.input('x', [4, 2, 4, 4]);
  let y = g.node('Gelu', [g.batchNorm(g.conv(x, 'conv', { pad: 1 }), 'bn')]);
  y = g.node('Gelu', [g.layerNorm(g.linear(g.flatten(y), 'fc1'), 'ln', 1e-5)], { approximate: attr.string('tanh') });
  const graph = g.build([{ name: g.linear(y, 'fc2') }]);
  graph.opset = 20;
  return graph;
}

/** A graph over the ops whose gradients the mini-model does not reach. */
function opsModel(next: () => number): Graph {
  const w = new Map<string, Tensor>([
    ['c.weight', randomTensor([4, 2, 3, 3], next, 0.5)],
    ['dw.weight', randomTensor([4, 1, 3, 3], next, 0.5)],
    ['up.weight', randomTensor([4, 2, 2, 2], next, 0.5)],
    ['dil.weight', randomTensor([2, 2, 3, 3], next, 0.5)],
    ['q.weight', randomTensor([6, 6], next, 0.5)],
    ['fc.weight', randomTensor([3, 12], next, 0.5)],
  ]);
  const g = new GraphBuilder('ops', w);
  const x = g.input('x', [2, 2, 6, 6]);
  let y = g.node('MaxPool', [g.conv(x, 'c', { pad: 1 })], { kernel_shape: attr.ints([2, 2]), strides: attr.ints([2, 2]) });
  y = g.node('Tanh', [g.add(y, g.conv(y, 'dw', { pad: 1, groups: 4 }))]);
  y = g.node('ConvTranspose', [y, g.param('up.weight')], { strides: attr.ints([2, 2]) });
  y = g.node('Pad', [y, g.int64('p', [0, 0, 1, 0, 0, 0, 0, 1])], { mode: attr.string('reflect') });
  y = g.conv(y, 'dil', { dilation: 2 });
  y = g.node('AveragePool', [y], { kernel_shape: attr.ints([3, 3]), strides: attr.ints([2, 2]), pads: attr.ints([1, 1, 1, 1]) });
  y = g.node('Resize', [y, '', g.float('s', [1, 1, 2, 3])], {
    mode: attr.string('nearest'),
    coordinate_transformation_mode: attr.string('asymmetric'),
    nearest_mode: attr.string('floor'),
  });
  const [a, b] = g.nodeMulti('Split', [y], { axis: attr.int(1) }, 2);
  y = g.node('Slice', [
    g.node('Concat', [b, g.node('Sigmoid', [a])], { axis: attr.int(1) }),
    g.int64('st', [-1, 0]),
    g.int64('en', [-100, 100]),
    g.int64('ax', [2, 3]),
    g.int64('sp', [-2, 2]),
  ]);
  const t = g.node('Reshape', [g.node('Transpose', [y], { perm: attr.ints([0, 2, 1, 3]) }), g.int64('sh', [2, -1, 6])]);
  const q = g.node('MatMul', [t, g.node('Transpose', [g.param('q.weight')])]);
  const attn = g.node('Softmax', [g.node('MatMul', [q, g.node('Transpose', [t], { perm: attr.ints([0, 2, 1]) })])], { axis: attr.int(-1) });
  y = g.node('Concat', [g.node('MatMul', [attn, t]), g.node('Sqrt', [g.node('Add', [g.node('Pow', [t, g.float('two', [2], [])]), g.float('one', [1], [])])])], {
    axis: attr.int(-1),
  });
  y = g.node('Gather', [g.node('ReduceMean', [y], { axes: attr.ints([1]), keepdims: attr.int(0) }), g.int64('idx', [1, 0])], { axis: attr.int(0) });
  return g.build([{ name: g.node('Gemm', [y, g.param('fc.weight')], { transB: attr.int(1) }) }]);
}

interface GradCase {
  graph: Graph;
  x: Tensor<'float32'>;
  /** Fixed random projection of the output: the loss is sum(y * projection). */
  projection: Float32Array;
}

/** Loss and gradients from the interpreter, with respect to every initializer and the input. */
function tfjsGradients({ graph, x, projection }: GradCase): Map<string, Float32Array> {
  // Every float initializer except the builder's structural constants (resize scales, exponents).
  const names = [...graph.initializers.keys()].filter((n) => graph.initializers.get(n)?.dtype === 'float32' && !n.startsWith('const:'));
  const variables = new Map(names.map((n) => [n, tf.variable(toTf(graph.initializers.get(n) as Tensor), true, `v:${graph.name}:${n}`)]));
  const input = tf.variable(toTf(x), true, `v:${graph.name}:x`);
  const output = graph.outputs[0].name;
  const { value, grads } = tf.variableGrads(() => {
    const y = interpretGraph(graph, { x: input }, [output], variables)[output];
    return tf.sum(tf.mul(y, tf.tensor(projection, y.shape)));
  }, [...variables.values(), input]);
  const out = new Map<string, Float32Array>();
  for (const [n, v] of variables) out.set(n, grads[v.name].dataSync() as Float32Array);
  out.set('x', grads[input.name].dataSync() as Float32Array);
  tf.dispose([value, ...Object.values(grads), ...variables.values(), input]);
  return out;
}

/**
 * Central differences of the loss, from ONNX Runtime, along random directions of each tensor,
 * against the interpreter's gradients of `differentiated` (the same graph unless a test says not).
 */
async function checkAgainstFiniteDifferences(c: GradCase, eps: number, tol: number, differentiated = c.graph): Promise<void> {
  const grads = tfjsGradients({ ...c, graph: differentiated });
  const output = c.graph.outputs[0].name;
  // Each moved weight is bound into a session of its own, as learning-free scoring binds a model's.
  const loss = async (name: string, delta: Float32Array, step: number): Promise<number> => {
    const base = name === 'x' ? c.x : (c.graph.initializers.get(name) as Tensor<'float32'>);
    const moved = makeTensor(
      'float32',
      base.shape,
      Float32Array.from(base.data as Float32Array, (v, i) => v + step * eps * delta[i]),
    );
    const x = name === 'x' ? moved : c.x;
    const compiled = await CompiledGraph.create(c.graph, [output], name === 'x' ? {} : { bind: new Map([[name, moved]]) });
    try {
      const y = (await compiled.run({ x }))[output].data as Float32Array;
      return y.reduce((s, v, i) => s + v * c.projection[i], 0);
    } finally {
      await compiled.release();
    }
  };
  const central = async (name: string, delta: Float32Array, h: number) => ((await loss(name, delta, h)) - (await loss(name, delta, -h))) / (2 * h * eps);
  const next = rng(99);
  let checked = 0;
  for (const [name, grad] of grads) {
    for (let trial = 0; trial < 2; trial++) {
      const delta = Float32Array.from(grad, () => next());
      const analytic = grad.reduce((s, g, i) => s + g * delta[i], 0);
      // Richardson extrapolation of two central differences cancels their O(eps^2) error.
      const numeric = (4 * (await central(name, delta, 0.5)) - (await central(name, delta, 1))) / 3;
      const scale = Math.max(1, Math.abs(numeric));
      expect(Math.abs(analytic - numeric), `${c.graph.name} d/d${name}: autodiff ${analytic} vs finite differences ${numeric}`).toBeLessThanOrEqual(
        tol * scale,
      );
      checked++;
    }
  }
  expect(checked).toBe(2 * grads.size);
}

function gradCase(graph: Graph, xShape: number[], outSize: number, seed: number): GradCase {
  const next = rng(seed);
  return { graph, x: randomTensor(xShape, next), projection: Float32Array.from({ length: outSize }, () => next()) };
}

describe('gradients match finite differences (ONNX Runtime forward, float32)', () => {
  it('Conv + BatchNorm + Gemm + LayerNorm + Gelu: every initializer (running stats included) and the input', async () => {
    const c = gradCase(miniModel(rng(1)), [4, 2, 4, 4], 12, 2);
    await checkAgainstFiniteDifferences(c, 1e-2, 5e-4);
  });

  it('pooling, depthwise/transposed/dilated conv, pad, resize, split, slice, attention, gather', async () => {
    const c = gradCase(opsModel(rng(3)), [2, 2, 6, 6], 6, 4);
    await checkAgainstFiniteDifferences(c, 1e-3, 2e-3);
  });

  it('fails when the differentiated graph is not the one finite differences see', async () => {
    const c = gradCase(miniModel(rng(1)), [4, 2, 4, 4], 12, 2);
    const altered = { ...c.graph, nodes: c.graph.nodes.map((n) => (n.op === 'BatchNormalization' ? { ...n, attributes: { epsilon: attr.float(0.05) } } : n)) };
    await expect(checkAgainstFiniteDifferences(c, 1e-2, 5e-4, altered)).rejects.toThrow(/autodiff .* vs finite differences/);
  });
});

describe('training', () => {
  it('a few SGD steps on a 2-layer MLP lower the loss', () => {
    const next = rng(5);
    const weights = new Map<string, Tensor>([
      ['fc1.weight', randomTensor([32, 16], next, 0.25)],
      ['fc1.bias', randomTensor([32], next, 0.1)],
      ['fc2.weight', randomTensor([4, 32], next, 0.25)],
      ['fc2.bias', randomTensor([4], next, 0.1)],
    ]);
    const g = new GraphBuilder('mlp', weights);
    const graph = g.build([{ name: g.linear(g.relu(g.linear(g.input('x', [64, 16]), 'fc1')), 'fc2') }]);
    const output = graph.outputs[0].name;
    const x = tf.tensor2d(
      Float32Array.from({ length: 64 * 16 }, () => next()),
      [64, 16],
    );
    const labels = tf.oneHot(
      tf.tensor1d(
        Array.from({ length: 64 }, (_, i) => (i * 7) % 4),
        'int32',
      ),
      4,
    );
    const params = initializerVariables(graph);
    expect([...params.keys()]).toEqual([...weights.keys()]);
    const optimizer = tf.train.sgd(0.5);
    const step = (): number => {
      const loss = optimizer.minimize(() => {
        const logits = interpretGraph(graph, { x }, [output], params)[output];
        return tf.mean(tf.neg(tf.sum(tf.mul(labels, tf.logSoftmax(logits)), 1))) as tf.Scalar;
      }, true) as tf.Scalar;
      const value = loss.dataSync()[0];
      loss.dispose();
      return value;
    };
    const losses = Array.from({ length: 40 }, step);
    expect(losses[0]).toBeGreaterThan(1.2);
    expect(losses[39]).toBeLessThan(0.6 * losses[0]);
    expect(losses.every((l) => Number.isFinite(l))).toBe(true);
    optimizer.dispose();
    tf.dispose([x, labels, ...params.values()]);
  });
});
