/**
 * A model as lineage code sees it: an id (the file path unless given), float32 weights in file
 * order, the file's metadata, and, for ONNX files, the file's own graph.
 *
 * An ONNX file is read and parsed once: its graph's initializers and its weights are the same
 * tensors under the same (state-dict) names, so whatever binds weights by name into the graph
 * replaces every tensor the graph reads.
 */
import { asFloat32, type Tensor, type Weights } from '../tensor.js';
import { detectFormat, readWeightFile } from '../formats/index.js';
import { parseOnnxModel } from '../formats/onnx/reader.js';
import { onnxAliasGroups, onnxFileMetadata, weightsOfGroups } from '../formats/onnx/weights.js';
import type { Graph } from '../graph/ir.js';
import { buildGraph } from '../archs/registry.js';
import { findHead, graphFromParsedOnnx } from '../graph/from-onnx.js';
import { splitDenseHeads } from '../archs/dense-heads.js';
import { readInputFile } from '../formats/input-file.js';

export interface LineageModel {
  id: string;
  file: string;
  weights: Weights;
  metadata: Record<string, string>;
  /**
   * Present for ONNX files: the model's own graph, whose initializers are `weights` under the same
   * names (the same Tensor objects for float32 weights; other floats are converted in `weights`).
   */
  graph?: Graph;
}

/** A path, a model in memory, or a loader called when the model is needed (keeps memory bounded). */
export type ModelRef = string | LineageModel | (() => Promise<LineageModel>);

export interface ArchOptions {
  /** Built-in architecture name; inferred from the weights when absent. */
  arch?: string;
  /** ViT attention heads when the file does not say. */
  heads?: number;
}

function floatWeights(weights: Weights): Weights {
  const out = new Map<string, Tensor>();
  for (const [k, t] of weights) {
    out.set(k, t.dtype === 'float16' || t.dtype === 'bfloat16' || t.dtype === 'float64' ? asFloat32(t) : t);
  }
  return out;
}

export async function resolveModel(ref: ModelRef): Promise<LineageModel> {
  if (typeof ref === 'function') return ref();
  if (typeof ref !== 'string') return ref;
  const detected = await detectFormat(ref);
  if (detected.format === 'onnx') return readOnnxLineageModel(ref, detected.path);
  const file = await readWeightFile(detected.path);
  return { id: ref, file: file.file, weights: floatWeights(file.weights), metadata: file.metadata };
}

/** An ONNX file read and parsed once: graph and weights share their tensors. */
async function readOnnxLineageModel(id: string, path: string): Promise<LineageModel> {
  const parsed = parseOnnxModel(await readInputFile(path), path);
  const groups = onnxAliasGroups(parsed);
  const graph = graphFromParsedOnnx(parsed, path, groups);
  return { id, file: path, weights: floatWeights(weightsOfGroups(groups)), metadata: onnxFileMetadata(parsed), graph };
}

export interface ModelGraph {
  graph: Graph;
  /** Classification-head tensors: excluded from compatibility checks and weight baselines. */
  headParams: string[];
}

export async function buildModelGraph(model: LineageModel, options: ArchOptions): Promise<ModelGraph> {
  // An ONNX model's head is its final linear layer (Gemm or MatMul feeding the output), as the
  // built-in architectures' is their last Linear: excluded from compatibility and weight baselines.
  if (model.graph) return { graph: model.graph, headParams: findHead(model.graph)?.params ?? [] };
  // Segmentation and detection children carry a task head beside the backbone: it is head, not lineage evidence.
  const { core, dense } = splitDenseHeads(model.weights);
  const built = buildGraph(core, { arch: options.arch, heads: options.heads, metadata: model.metadata, source: model.file });
  return { graph: built.graph, headParams: [...built.headParams, ...dense.keys()] };
}
