/**
 * A model as lineage code sees it: an id (the file path unless given), its weights in file order,
 * the file's metadata, and, for ONNX files, the file's own graph. A path is read through the one
 * model loader, openModelSource, every value at once: this is the in-memory path.
 *
 * An ONNX file is parsed once, by its source: its graph's initializers and its weights are the same
 * tensors under the same (state-dict) names, so whatever binds weights by name into the graph
 * replaces every tensor the graph reads.
 */
import { asFloat32, makeTensor, type Tensor, type Weights } from '../tensor.js';
import { weightsOfGroups, type OnnxAliasGroup } from '../formats/onnx/weights.js';
import type { Graph } from '../graph/ir.js';
import { buildGraph } from '../archs/registry.js';
import { findHead, graphFromParsedOnnx } from '../graph/from-onnx.js';
import { splitDenseHeads } from '../archs/dense-heads.js';
import { openModelSource } from '../source/open.js';
import { isOnnxModelSource, type OnnxModelSource } from '../source/onnx.js';
import type { ModelSource } from '../source/types.js';

export interface LineageModel {
  id: string;
  file: string;
  /**
   * Numeric tensors in file order, as float32 (bool masks are left out). An ONNX file's integer
   * tensors keep their stored dtype: its graph reads them (Reshape shapes, Gather indices), so a
   * candidate's bound in their place must keep it too.
   */
  weights: Weights;
  metadata: Record<string, string>;
  /**
   * Present for ONNX files: the model's own graph, whose initializers are `weights` under the same
   * names (the same Tensor objects, except float16/bfloat16/float64 initializers, which `weights`
   * holds converted to float32, and bool ones, which it leaves out).
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

export async function resolveModel(ref: ModelRef): Promise<LineageModel> {
  if (typeof ref === 'function') return ref();
  if (typeof ref !== 'string') return ref;
  const source = await openModelSource(ref);
  try {
    if (isOnnxModelSource(source)) return await onnxLineageModel(ref, source);
    return { id: ref, file: source.file, weights: await float32Weights(source), metadata: { ...source.metadata } };
  } finally {
    await source.close();
  }
}

/** Every tensor of the source read as float32, in file order, except bool tensors: masks, not numbers. */
async function float32Weights(source: ModelSource): Promise<Weights> {
  const weights: Weights = new Map();
  for (const info of source.tensors) {
    if (info.dtype === 'bool') continue;
    weights.set(info.name, makeTensor('float32', info.shape, await source.readFloat32(info.name)));
  }
  return weights;
}

/** An ONNX file's graph and weights, both made from the alias groups of the model its source parsed. */
async function onnxLineageModel(id: string, source: OnnxModelSource): Promise<LineageModel> {
  const { model, groups } = await source.readOnnxModel();
  const graph = graphFromParsedOnnx(model, source.file, groups);
  return { id, file: source.file, weights: onnxGroupWeights(groups), metadata: { ...source.metadata }, graph };
}

/** The groups' weights (see LineageModel.weights): other floats converted to float32 once per stored tensor, bool left out. */
function onnxGroupWeights(groups: readonly OnnxAliasGroup[]): Weights {
  const converted = new Map<Tensor, Tensor>();
  const weights: Weights = new Map();
  for (const [name, t] of weightsOfGroups(groups)) {
    if (t.dtype === 'bool') continue;
    if (t.dtype !== 'float16' && t.dtype !== 'bfloat16' && t.dtype !== 'float64') {
      weights.set(name, t);
      continue;
    }
    let float = converted.get(t);
    if (float === undefined) {
      float = asFloat32(t);
      converted.set(t, float);
    }
    weights.set(name, float);
  }
  return weights;
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
