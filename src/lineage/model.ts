/**
 * A model as lineage code sees it: an id (the file path unless given), float32 weights in file
 * order, the file's metadata, and, for ONNX files, the file's own graph.
 */
import { promises as fs } from 'node:fs';
import { asFloat32, type Tensor, type Weights } from '../tensor.js';
import { readWeightFile } from '../formats/index.js';
import type { Graph } from '../graph/ir.js';
import { buildGraph } from '../archs/registry.js';
import { graphFromOnnxFile } from '../graph/from-onnx.js';
import { splitDenseHeads } from '../archs/dense-heads.js';

export interface LineageModel {
  id: string;
  file: string;
  weights: Weights;
  metadata: Record<string, string>;
  /** Present for ONNX files: the model's own graph. */
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
  const file = await readWeightFile(ref);
  const model: LineageModel = { id: ref, file: file.file, weights: floatWeights(file.weights), metadata: file.metadata };
  if (file.format === 'onnx') model.graph = await graphFromOnnxFile(file.file, await fs.readFile(file.file));
  return model;
}

export interface ModelGraph {
  graph: Graph;
  /** Classification-head tensors: excluded from compatibility checks and weight baselines. */
  headParams: string[];
}

export async function buildModelGraph(model: LineageModel, options: ArchOptions): Promise<ModelGraph> {
  if (model.graph) return { graph: model.graph, headParams: [] };
  // Segmentation and detection children carry a task head beside the backbone: it is head, not lineage evidence.
  const { core, dense } = splitDenseHeads(model.weights);
  const built = buildGraph(core, { arch: options.arch, heads: options.heads, metadata: model.metadata, source: model.file });
  return { graph: built.graph, headParams: [...built.headParams, ...dense.keys()] };
}
