/**
 * Helpers for the interpreter tests: seeded tensors, one-node graphs, and running a graph through
 * both ONNX Runtime (the independent reference) and the tfjs interpreter.
 */
import { expect } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { type Attribute, type Graph, type GraphNode, DEFAULT_OPSET } from '../../src/graph/ir.js';
import { runGraph } from '../../src/runtime/ort.js';
import { fromTf, toTf } from '../../src/runtime/tfjs/convert.js';
import { TfjsGraph } from '../../src/runtime/tfjs/interpreter.js';
import { type DType, type Tensor, makeTensor } from '../../src/tensor.js';

/** A seeded generator of uniform values in [-1, 1) (mulberry32). */
export function rng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 31 - 1;
  };
}

export function randomTensor(shape: readonly number[], next: () => number, scale = 1, offset = 0): Tensor<'float32'> {
  const n = shape.reduce((a, b) => a * b, 1);
  return makeTensor(
    'float32',
    shape,
    Float32Array.from({ length: n }, () => next() * scale + offset),
  );
}

export function int64(values: readonly number[], shape: readonly number[] = [values.length]): Tensor<'int64'> {
  return makeTensor('int64', shape, BigInt64Array.from(values.map((v) => BigInt(v))));
}

export function float32(values: readonly number[], shape: readonly number[] = [values.length]): Tensor<'float32'> {
  return makeTensor('float32', shape, Float32Array.from(values));
}

export interface OneNodeSpec {
  op: string;
  /** Fed inputs (graph inputs), in node order unless `order` says otherwise. */
  feeds?: Record<string, Tensor>;
  /** Initializers. */
  constants?: Record<string, Tensor>;
  /** The node's input names ('' for an omitted optional input); default: feeds then constants. */
  inputs?: string[];
  attributes?: Record<string, Attribute>;
  outputs?: number;
  /** Element types of the outputs (default float32), which ONNX Runtime checks. */
  outputTypes?: DType[];
  opset?: number;
}

/** A graph of one node over the given feeds and initializers. */
export function oneNodeGraph(spec: OneNodeSpec): Graph {
  const feeds = spec.feeds ?? {};
  const constants = spec.constants ?? {};
  const inputs = spec.inputs ?? [...Object.keys(feeds), ...Object.keys(constants)];
  const outputs = Array.from({ length: spec.outputs ?? 1 }, (_, i) => `y${i}`);
  const node: GraphNode = { name: `${spec.op}_node`, op: spec.op, inputs, outputs, attributes: spec.attributes ?? {} };
  return {
    name: `one-${spec.op}`,
    inputs: Object.entries(feeds).map(([name, t]) => ({ name, dtype: t.dtype, shape: [...t.shape] })),
    outputs: outputs.map((name, i) => ({ name, dtype: spec.outputTypes?.[i] ?? 'float32', shape: [] })),
    nodes: [node],
    initializers: new Map(Object.entries(constants)),
    taps: new Map(),
    opset: spec.opset ?? DEFAULT_OPSET,
  };
}

/** Plain numbers of a project tensor (int64 included). */
export function numbers(t: Tensor): number[] {
  return Array.from(t.data as ArrayLike<number | bigint>, (v) => Number(v));
}

/** Runs `graph` through the tfjs interpreter; returns project tensors and checks nothing leaks. */
export function runTfjs(graph: Graph, feeds: Record<string, Tensor>, outputs: readonly string[], channelsLast = true): Record<string, Tensor> {
  const instance = TfjsGraph.for(graph);
  const before = tf.memory().numTensors;
  const fed = Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, toTf(v)]));
  const result = instance.run(fed, outputs, { channelsLast });
  const out: Record<string, Tensor> = {};
  for (const name of outputs) out[name] = fromTf(result[name]);
  tf.dispose(Object.values(result));
  tf.dispose(Object.values(fed));
  // Only constants cached by the graph may remain; dropping them must restore the count.
  instance.dispose();
  expect(tf.memory().numTensors, 'tensors leaked by the interpreter').toBe(before);
  return out;
}

/** max |a - b| <= tol * max(1, max |b|), with equal shapes. */
export function expectClose(actual: Tensor, expected: Tensor, tol: number, what = ''): void {
  expect([...actual.shape], `${what} shape`).toEqual([...expected.shape]);
  const a = numbers(actual);
  const b = numbers(expected);
  let scale = 1;
  let worst = 0;
  for (let i = 0; i < b.length; i++) {
    scale = Math.max(scale, Math.abs(b[i]));
    const diff = Math.abs(a[i] - b[i]);
    worst = Number.isNaN(diff) ? Infinity : Math.max(worst, diff);
  }
  expect(worst, `${what}: max abs diff ${worst} (scale ${scale})`).toBeLessThanOrEqual(tol * scale);
}

/**
 * Runs the graph through ONNX Runtime and the interpreter and compares every output. With
 * `bothLayouts` the interpreter also runs with channels-last hand-over off (only multi-op graphs
 * can tell the two apart).
 */
export async function expectMatchesOrt(graph: Graph, feeds: Record<string, Tensor>, tol = 1e-5, bothLayouts = false): Promise<void> {
  const outputs = graph.outputs.map((o) => o.name);
  const reference = await runGraph(graph, feeds, outputs);
  for (const channelsLast of bothLayouts ? [true, false] : [true]) {
    const ours = runTfjs(graph, feeds, outputs, channelsLast);
    for (const name of outputs) expectClose(ours[name], reference[name], tol, `${graph.name} ${name} (channelsLast=${channelsLast})`);
  }
}
