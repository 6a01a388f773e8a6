/**
 * Plain-object ONNX model: what parseOnnxModel returns and serializeOnnxModel writes. Meant to be
 * built by hand too (the graph builder produces these), hence the small constructors at the end.
 *
 * Deliberately smaller than ModelProto: doc strings, producer_version, model_version, functions and
 * training info are not kept, so a parse/serialize round trip drops them.
 */
import type { DType, Tensor } from '../../tensor.js';

/** A dimension: a size, a symbolic name such as 'batch', or null when unknown. */
export type OnnxDim = number | string | null;

export interface OnnxValueInfo {
  name: string;
  /** Element type; undefined when the file gives none. */
  elemType?: DType;
  /** Dimensions; undefined when the rank is unknown (an empty array is a scalar). */
  shape?: OnnxDim[];
}

/**
 * Attribute values. Floats are float32 in the file, so a value set by hand comes back rounded to
 * float32. Ints are int64 in the file and must be safe integers here (reading refuses others).
 */
export type OnnxAttribute =
  | { type: 'float'; value: number }
  | { type: 'int'; value: number }
  | { type: 'string'; value: string }
  | { type: 'tensor'; value: Tensor }
  | { type: 'graph'; value: OnnxGraph }
  | { type: 'floats'; value: number[] }
  | { type: 'ints'; value: number[] }
  | { type: 'strings'; value: string[] };

export type OnnxAttributes = Record<string, OnnxAttribute>;

export interface OnnxNode {
  name: string;
  opType: string;
  /** '' is the default ONNX domain (same as 'ai.onnx'). */
  domain: string;
  /** Value names; '' marks an omitted optional input. */
  inputs: string[];
  outputs: string[];
  attributes: OnnxAttributes;
}

export interface OnnxGraph {
  name: string;
  nodes: OnnxNode[];
  /** Constant tensors by value name, in file order. */
  initializers: Map<string, Tensor>;
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  /** Optional type/shape annotations of intermediate values. */
  valueInfo: OnnxValueInfo[];
}

export interface OnnxOpsetImport {
  domain: string;
  version: number;
}

export interface OnnxModel {
  irVersion: number;
  opsetImports: OnnxOpsetImport[];
  producerName: string;
  graph: OnnxGraph;
  /** metadata_props, in file order. */
  metadata: Record<string, string>;
}

// --- constructors ------------------------------------------------------------------------------
// Each attr* helper returns a one-entry record so attributes combine by spreading:
//   makeNode('Gemm', ['x', 'w', 'b'], ['y'], { ...attrInt('transB', 1), ...attrFloat('alpha', 1) })

export function attrFloat(name: string, value: number): OnnxAttributes {
  return { [name]: { type: 'float', value } };
}

export function attrInt(name: string, value: number): OnnxAttributes {
  if (!Number.isSafeInteger(value)) throw new RangeError(`attribute ${name}: ${value} is not a safe integer`);
  return { [name]: { type: 'int', value } };
}

export function attrString(name: string, value: string): OnnxAttributes {
  return { [name]: { type: 'string', value } };
}

export function attrTensor(name: string, value: Tensor): OnnxAttributes {
  return { [name]: { type: 'tensor', value } };
}

export function attrGraph(name: string, value: OnnxGraph): OnnxAttributes {
  return { [name]: { type: 'graph', value } };
}

export function attrFloats(name: string, value: readonly number[]): OnnxAttributes {
  return { [name]: { type: 'floats', value: [...value] } };
}

export function attrInts(name: string, value: readonly number[]): OnnxAttributes {
  for (const v of value) if (!Number.isSafeInteger(v)) throw new RangeError(`attribute ${name}: ${v} is not a safe integer`);
  return { [name]: { type: 'ints', value: [...value] } };
}

export function attrStrings(name: string, value: readonly string[]): OnnxAttributes {
  return { [name]: { type: 'strings', value: [...value] } };
}

export function makeNode(
  opType: string,
  inputs: readonly string[],
  outputs: readonly string[],
  attributes: OnnxAttributes = {},
  options: { name?: string; domain?: string } = {},
): OnnxNode {
  return {
    name: options.name ?? '',
    opType,
    domain: options.domain ?? '',
    inputs: [...inputs],
    outputs: [...outputs],
    attributes: { ...attributes },
  };
}

export function makeValueInfo(name: string, elemType: DType, shape: readonly OnnxDim[]): OnnxValueInfo {
  return { name, elemType, shape: [...shape] };
}

export function makeGraph(parts: {
  name?: string;
  nodes: OnnxNode[];
  initializers?: Map<string, Tensor> | Iterable<[string, Tensor]>;
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  valueInfo?: OnnxValueInfo[];
}): OnnxGraph {
  return {
    name: parts.name ?? 'graph',
    nodes: parts.nodes,
    initializers: new Map(parts.initializers ?? []),
    inputs: parts.inputs,
    outputs: parts.outputs,
    valueInfo: parts.valueInfo ?? [],
  };
}

/** Opset 17 and IR version 8 by default: the newest pair torch 1.13 exports and ORT 1.30 runs. */
export function makeModel(
  graph: OnnxGraph,
  options: { opset?: number; irVersion?: number; producerName?: string; metadata?: Record<string, string> } = {},
): OnnxModel {
  return {
    irVersion: options.irVersion ?? 8,
    opsetImports: [{ domain: '', version: options.opset ?? 17 }],
    producerName: options.producerName ?? 'neural-lineage',
    graph,
    metadata: { ...(options.metadata ?? {}) },
  };
}

/** The version of the default ('' / 'ai.onnx') opset, or undefined when the model imports none. */
export function defaultOpset(model: OnnxModel): number | undefined {
  return model.opsetImports.find((o) => o.domain === '' || o.domain === 'ai.onnx')?.version;
}
