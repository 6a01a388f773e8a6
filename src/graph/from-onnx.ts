/**
 * Loads a user's ONNX file as a graph, refusing operators outside the op table.
 *
 * The graph's initializers are the file's weights under their state-dict names (onnxAliasGroups):
 * an Identity alias (`bn.running_var = Identity(bn.weight)`, `conv.weight = Identity(onnx::Conv_12)`)
 * becomes an initializer of its own, sharing the stored Tensor, and nodes read it by that name. So
 * binding a candidate's weights by state-dict name replaces every tensor the graph reads, whatever
 * names the child's file happened to store them under.
 */
import type { Tensor } from '../tensor.js';
import { parseOnnxModel } from '../formats/onnx/reader.js';
import type { OnnxModel } from '../formats/onnx/model.js';
import { type OnnxAliasGroup, onnxAliasGroups } from '../formats/onnx/weights.js';
import { FormatError } from '../formats/errors.js';
import { type Graph, type GraphNode, producers } from './ir.js';
import { checkSupportedOps } from './ops.js';
import { graphFromOnnxModel } from './serialize.js';

/** The file each graph read from a user's ONNX file came from, for ONNX Runtime's errors. */
const sourceFiles = new WeakMap<Graph, string>();

/** The ONNX file `graph` was read from, when it was read by graphFromOnnxFile. */
export function onnxSourceFile(graph: Graph): string | undefined {
  return sourceFiles.get(graph);
}

export async function graphFromOnnxFile(file: string, bytes: Uint8Array): Promise<Graph> {
  return graphFromParsedOnnx(parseOnnxModel(bytes, file), file);
}

/** The graph of an already parsed ONNX file, initializers under state-dict names (see above). */
export function graphFromParsedOnnx(model: OnnxModel, file: string, groups: readonly OnnxAliasGroup[] = onnxAliasGroups(model)): Graph {
  const graph = withStateDictNames(graphFromOnnxModel(model), groups);
  try {
    checkSupportedOps(graph, file);
  } catch (err) {
    throw new FormatError(file, (err as Error).message.replace(`${file}: `, ''));
  }
  if (graph.inputs.length === 0) throw new FormatError(file, 'the graph has no data input');
  const head = findHead(graph);
  if (head && !graph.taps.has('penultimate')) graph.taps.set('penultimate', head.input);
  sourceFiles.set(graph, file);
  return graph;
}

/**
 * The graph with each alias group stored under its exposed names: the Identity and Constant nodes
 * that re-created those names are dropped and every reader of a group member reads the member's own
 * name when it is stored, else the group's first stored name. An alias that is also a graph output
 * keeps its Identity node (a value cannot be both an initializer and a node's output).
 */
function withStateDictNames(graph: Graph, groups: readonly OnnxAliasGroup[]): Graph {
  const outputs = new Set(graph.outputs.map((o) => o.name));
  const rename = new Map<string, string>();
  const initializers = new Map<string, Tensor>();
  for (const group of groups) {
    if (group.exposed.length === 0) continue;
    const stored = group.exposed.filter((name) => !outputs.has(name) || name === group.root);
    if (stored.length === 0) stored.push(group.root);
    for (const name of stored) initializers.set(name, group.tensor);
    // A Set, not stored.includes: a hostile file may give one tensor a million aliases.
    const storedNames = new Set(stored);
    for (const member of group.members) rename.set(member, storedNames.has(member) ? member : stored[0]);
  }
  const recreatesAlias = (node: GraphNode): boolean =>
    (node.domain ?? '') === '' &&
    (node.op === 'Identity' || node.op === 'Constant') &&
    node.outputs.length === 1 &&
    rename.has(node.outputs[0]) &&
    !outputs.has(node.outputs[0]);
  const nodes = graph.nodes.filter((n) => !recreatesAlias(n)).map((n) => ({ ...n, inputs: n.inputs.map((i) => rename.get(i) ?? i) }));
  return { ...graph, nodes, initializers };
}

/** The final linear layer: the node reading the penultimate features, and the weights it and any bias after it read. */
export interface GraphHead {
  /** The value the final Gemm or MatMul multiplies by its weight: the `penultimate` features. */
  input: string;
  /** Initializers of the head (weight, bias): a fine-tuned child usually replaces them. */
  params: string[];
}

/** Ops between the final linear node and the first output that keep its features' meaning. */
const AFTER_HEAD = new Set(['Identity', 'Softmax', 'Flatten', 'Reshape', 'Squeeze', 'Dropout', 'Cast']);

/**
 * The final linear node feeding the graph's first output: a Gemm or MatMul whose weight is an
 * initializer, possibly followed by a bias Add and the shape or probability ops of AFTER_HEAD.
 * Undefined when the output is not computed that way.
 */
export function findHead(graph: Graph): GraphHead | undefined {
  const byOutput = producers(graph);
  const stored = (name: string) => graph.initializers.has(name);
  const params: string[] = [];
  let value = graph.outputs[0]?.name;
  for (let steps = 0; value !== undefined && steps <= graph.nodes.length; steps++) {
    const node = byOutput.get(value);
    if (!node || (node.domain ?? '') !== '') return undefined;
    if ((node.op === 'Gemm' || node.op === 'MatMul') && stored(node.inputs[1]) && !stored(node.inputs[0])) {
      params.unshift(...node.inputs.slice(1).filter((i) => i !== '' && stored(i)));
      return { input: node.inputs[0], params };
    }
    if (node.op === 'Add' && node.inputs.length === 2 && stored(node.inputs[1]) !== stored(node.inputs[0])) {
      const bias = stored(node.inputs[1]) ? 1 : 0;
      params.unshift(node.inputs[bias]);
      value = node.inputs[1 - bias];
    } else if (AFTER_HEAD.has(node.op)) {
      value = node.inputs[0];
    } else {
      return undefined;
    }
  }
  return undefined;
}
