/** Graph IR <-> ONNX model objects and bytes. */
import { makeModel, type OnnxModel, type OnnxNode, defaultOpset } from '../formats/onnx/model.js';
import { serializeOnnxModel } from '../formats/onnx/writer.js';
import type { Attribute, Graph, GraphNode } from './ir.js';
import { DEFAULT_OPSET } from './ir.js';

export function graphToOnnxModel(graph: Graph): OnnxModel {
  const nodes: OnnxNode[] = graph.nodes.map((n) => ({
    name: n.name,
    opType: n.op,
    domain: n.domain ?? '',
    inputs: [...n.inputs],
    outputs: [...n.outputs],
    attributes: { ...n.attributes },
  }));
  const model = makeModel(
    {
      name: graph.name,
      nodes,
      initializers: new Map(graph.initializers),
      inputs: graph.inputs.map((v) => ({ name: v.name, elemType: v.dtype, shape: v.shape.map((d) => d) })),
      // Output shapes are left to ONNX Runtime's inference: only the element type is declared.
      outputs: graph.outputs.map((v) => ({ name: v.name, elemType: v.dtype })),
      valueInfo: [],
    },
    { opset: graph.opset },
  );
  if (graph.nodes.some((n) => n.domain === 'com.microsoft')) model.opsetImports.push({ domain: 'com.microsoft', version: 1 });
  return model;
}

export function graphToOnnxBytes(graph: Graph): Uint8Array {
  return serializeOnnxModel(graphToOnnxModel(graph));
}

/** Turns a parsed ONNX model into the graph IR; taps are the graph's outputs by name. */
export function graphFromOnnxModel(model: OnnxModel, name = model.graph.name): Graph {
  const g = model.graph;
  const initializerNames = new Set(g.initializers.keys());
  const nodes: GraphNode[] = g.nodes.map((n, i) => ({
    name: n.name || `${n.opType}_${i}`,
    op: n.opType,
    domain: n.domain === 'ai.onnx' ? '' : n.domain,
    inputs: [...n.inputs],
    outputs: [...n.outputs],
    attributes: Object.fromEntries(
      Object.entries(n.attributes).map(([k, a]) => {
        if (a.type === 'graph') throw new Error(`node ${n.name || n.opType}: sub-graph attributes are not supported`);
        return [k, a as Attribute];
      }),
    ),
  }));
  const taps = new Map<string, string>();
  g.outputs.forEach((o, i) => {
    taps.set(o.name, o.name);
    if (i === 0) taps.set('output', o.name);
  });
  return {
    name,
    // Old exporters list initializers among the inputs too; those are weights, not data inputs.
    inputs: g.inputs
      .filter((v) => !initializerNames.has(v.name))
      .map((v) => ({ name: v.name, dtype: v.elemType ?? 'float32', shape: (v.shape ?? []).map((d) => (d === null ? '?' : d)) })),
    outputs: g.outputs.map((v) => ({ name: v.name, dtype: v.elemType ?? 'float32', shape: (v.shape ?? []).map((d) => (d === null ? '?' : d)) })),
    nodes,
    initializers: new Map(g.initializers),
    taps,
    opset: defaultOpset(model) ?? DEFAULT_OPSET,
  };
}
