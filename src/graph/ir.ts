/**
 * The graph IR: an ONNX-shaped dataflow graph whose initializers are named by PyTorch state-dict
 * keys. Every model, built-in or imported, becomes one of these; executors run it and transforms
 * rewrite it. Values are named strings; each node reads values and defines new ones.
 */
import type { DType, Tensor } from '../tensor.js';

export type Attribute =
  | { type: 'int'; value: number }
  | { type: 'float'; value: number }
  | { type: 'string'; value: string }
  | { type: 'ints'; value: number[] }
  | { type: 'floats'; value: number[] }
  | { type: 'strings'; value: string[] }
  | { type: 'tensor'; value: Tensor };

export interface GraphNode {
  /** Unique within the graph; used in error messages. */
  name: string;
  op: string;
  /** '' marks an omitted optional input, as in ONNX. */
  inputs: string[];
  outputs: string[];
  attributes: Record<string, Attribute>;
  /** ONNX domain; '' is the default operator set, 'com.microsoft' for ORT contrib ops. */
  domain?: string;
}

/** A graph input or output: a name, an element type and a shape whose entries may be symbolic. */
export interface ValueInfo {
  name: string;
  dtype: DType;
  shape: (number | string)[];
}

export interface Graph {
  name: string;
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  nodes: GraphNode[];
  /** Weights and constants, in state-dict order. */
  initializers: Map<string, Tensor>;
  /** Friendly layer names (`penultimate`, `layer3`, `blocks.1`) mapped to value names. */
  taps: Map<string, string>;
  /** ONNX opset of the default domain that the nodes follow. */
  opset: number;
}

export const DEFAULT_OPSET = 17;

export const attr = {
  int: (value: number): Attribute => ({ type: 'int', value }),
  float: (value: number): Attribute => ({ type: 'float', value }),
  string: (value: string): Attribute => ({ type: 'string', value }),
  ints: (value: readonly number[]): Attribute => ({ type: 'ints', value: [...value] }),
  floats: (value: readonly number[]): Attribute => ({ type: 'floats', value: [...value] }),
  tensor: (value: Tensor): Attribute => ({ type: 'tensor', value }),
};

export function intAttr(node: GraphNode, name: string, fallback: number): number {
  const a = node.attributes[name];
  if (!a) return fallback;
  if (a.type !== 'int') throw new Error(`node ${node.name} (${node.op}): attribute ${name} should be an int`);
  return a.value;
}

export function floatAttr(node: GraphNode, name: string, fallback: number): number {
  const a = node.attributes[name];
  if (!a) return fallback;
  if (a.type !== 'float' && a.type !== 'int') throw new Error(`node ${node.name} (${node.op}): attribute ${name} should be a float`);
  return a.value;
}

export function intsAttr(node: GraphNode, name: string, fallback: readonly number[] | undefined): number[] | undefined {
  const a = node.attributes[name];
  if (!a) return fallback ? [...fallback] : undefined;
  if (a.type !== 'ints') throw new Error(`node ${node.name} (${node.op}): attribute ${name} should be a list of ints`);
  return a.value;
}

export function stringAttr(node: GraphNode, name: string, fallback: string): string {
  const a = node.attributes[name];
  if (!a) return fallback;
  if (a.type !== 'string') throw new Error(`node ${node.name} (${node.op}): attribute ${name} should be a string`);
  return a.value;
}

/** Maps each value name to the node that defines it (graph inputs and initializers are absent). */
export function producers(graph: Graph): Map<string, GraphNode> {
  const out = new Map<string, GraphNode>();
  for (const node of graph.nodes) for (const o of node.outputs) if (o) out.set(o, node);
  return out;
}

/** A shallow copy that can be edited without touching the original's arrays and maps. */
export function cloneGraph(graph: Graph): Graph {
  return {
    name: graph.name,
    inputs: graph.inputs.map((v) => ({ ...v, shape: [...v.shape] })),
    outputs: graph.outputs.map((v) => ({ ...v, shape: [...v.shape] })),
    nodes: graph.nodes.map((n) => ({ ...n, inputs: [...n.inputs], outputs: [...n.outputs], attributes: { ...n.attributes } })),
    initializers: new Map(graph.initializers),
    taps: new Map(graph.taps),
    opset: graph.opset,
  };
}

/** Resolves a layer name (a tap such as `penultimate`, or a raw value name) to a value name. */
export function resolveLayer(graph: Graph, layer: string): string {
  const tapped = graph.taps.get(layer);
  if (tapped) return tapped;
  const defined = new Set<string>([...graph.inputs.map((i) => i.name), ...graph.initializers.keys()]);
  for (const n of graph.nodes) for (const o of n.outputs) defined.add(o);
  if (defined.has(layer)) return layer;
  const taps = [...graph.taps.keys()];
  // Imported graphs name `penultimate` only when a Gemm or MatMul with stored weights computes their output (graph/from-onnx.ts).
  const why = layer === 'penultimate' ? ' (no final Gemm or MatMul with stored weights computes the first output: name a value of the graph)' : '';
  throw new Error(`unknown layer '${layer}': not a named layer (${taps.length ? taps.join(', ') : 'none'}) nor a value of the graph${why}`);
}

/**
 * The sub-graph needed to compute `outputs`: nodes in their original (topological) order and the
 * initializers they read. Used to drop the head before computing features or tangents.
 */
export function truncateGraph(graph: Graph, outputs: readonly string[]): Graph {
  const byOutput = producers(graph);
  const needed = new Set<GraphNode>();
  const stack = [...outputs];
  const seen = new Set<string>();
  while (stack.length > 0) {
    const value = stack.pop() as string;
    if (!value || seen.has(value)) continue;
    seen.add(value);
    const node = byOutput.get(value);
    if (node && !needed.has(node)) {
      needed.add(node);
      for (const input of node.inputs) stack.push(input);
    }
  }
  const nodes = graph.nodes.filter((n) => needed.has(n));
  const initializers = new Map([...graph.initializers].filter(([name]) => seen.has(name)));
  const inputs = graph.inputs.filter((i) => seen.has(i.name));
  const outputInfos = outputs.map((name) => graph.outputs.find((o) => o.name === name) ?? { name, dtype: 'float32' as DType, shape: [] });
  const taps = new Map([...graph.taps].filter(([, value]) => seen.has(value)));
  return { name: graph.name, inputs, outputs: outputInfos, nodes, initializers, taps, opset: graph.opset };
}
