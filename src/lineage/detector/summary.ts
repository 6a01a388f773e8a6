/**
 * What the detector needs from one model, computed while its weights are loaded and kept after
 * they are dropped: tensor shapes (compatibility), the pooled weight matrix of each layer, and the
 * pooled features of each layer on each probe it is asked about (one ONNX Runtime pass per probe).
 */
import { resolveLayer } from '../../graph/ir.js';
import { runGraph } from '../../runtime/ort.js';
import { type Tensor, makeTensor } from '../../tensor.js';
import type { Compatibility } from '../compat.js';
import { hasNonFinite } from '../compat.js';
import { type ArchOptions, buildModelGraph } from '../model.js';
import { loadRef, type SourceRef } from '../source-ref.js';
import type { DetectorConfig, Modality } from './config.js';
import { type Matrix, featureMatrix, parseLayerSpec, poolMatrix, resolveWeightKey, weightMatrix } from './inputs.js';
import { InputError } from '../../base/errors.js';

export interface InputOptions extends ArchOptions {
  inputs: readonly Modality[];
  layers: readonly string[];
  maxSize: number;
  probeRows: number;
}

/** The inputs a saved detector was trained on, read from models of the given architecture. */
export function detectorInputOptions(config: DetectorConfig, models: ArchOptions): InputOptions {
  return { inputs: config.inputs, layers: config.layers, maxSize: config.maxSize, probeRows: config.probeRows, arch: models.arch, heads: models.heads };
}

export interface ModelSummary {
  id: string;
  file: string;
  shapes: Map<string, readonly number[]>;
  /** Tensors a candidate must have with the same shapes: all but the head. */
  checked: string[];
  /** A compared tensor holding NaN or infinity, if any. */
  nonFinite?: string;
  /** Pooled weight matrix per layer (empty without the weights input). */
  weights: Matrix[];
  /** Probe name -> pooled features per layer. */
  features: Map<string, Matrix[]>;
}

/** First `rows` rows of a probe batch. */
export function probeRows(probe: Tensor<'float32'>, rows: number): Tensor<'float32'> {
  const n = Math.min(rows, probe.shape[0]);
  const perRow = probe.shape[0] === 0 ? 0 : probe.data.length / probe.shape[0];
  return n === probe.shape[0] ? probe : makeTensor('float32', [n, ...probe.shape.slice(1)], probe.data.subarray(0, n * perRow));
}

/**
 * Loads a model and summarises it. `probes` maps a probe name to its (already truncated) batch;
 * features are computed on each when the features input is used.
 */
export async function summarizeModel(ref: SourceRef, options: InputOptions, probes: ReadonlyMap<string, Tensor<'float32'>>): Promise<ModelSummary> {
  const model = await loadRef(ref);
  const built = await buildModelGraph(model, options);
  const head = new Set(built.headParams);
  const checked = [...model.weights.keys()].filter((k) => !head.has(k));
  const specs = options.layers.map(parseLayerSpec);
  const inFile = (err: unknown): never => {
    if (err instanceof InputError) throw err;
    throw new InputError(model.file, (err as Error).message);
  };
  const summary: ModelSummary = {
    id: model.id,
    file: model.file,
    shapes: new Map([...model.weights].map(([k, t]) => [k, t.shape])),
    checked,
    nonFinite: hasNonFinite(model.weights, checked),
    weights: [],
    features: new Map(),
  };
  if (options.inputs.includes('weights')) {
    for (const spec of specs) {
      try {
        const key = resolveWeightKey(model.weights, built.headParams, spec);
        summary.weights.push(poolMatrix(weightMatrix(model.weights.get(key)!, key), options.maxSize, options.maxSize));
      } catch (err) {
        inFile(err);
      }
    }
  }
  if (options.inputs.includes('features') && probes.size > 0) {
    let values: string[] = [];
    try {
      values = specs.map((s) => resolveLayer(built.graph, s.feature));
    } catch (err) {
      inFile(err);
    }
    const unique = [...new Set(values)];
    for (const [name, probe] of probes) {
      const out = await runGraph(built.graph, { [built.graph.inputs[0].name]: probe }, unique);
      summary.features.set(
        name,
        values.map((v) => poolMatrix(featureMatrix(out[v] as Tensor<'float32'>, probe.shape[0]), options.maxSize, options.maxSize)),
      );
    }
  }
  return summary;
}

/** Whether `candidate` can be `child`'s parent: same shapes for every non-head tensor of the child, finite values. */
export function candidateCompatibility(child: ModelSummary, candidate: ModelSummary): Compatibility {
  for (const name of child.checked) {
    const c = child.shapes.get(name)!;
    const p = candidate.shapes.get(name);
    if (!p) return { ok: false, reason: `candidate lacks tensor ${name}` };
    if (c.length !== p.length || c.some((d, i) => d !== p[i])) {
      return { ok: false, reason: `tensor ${name} has shape [${p.join(',')}] in the candidate, [${c.join(',')}] in the child` };
    }
  }
  if (candidate.nonFinite) return { ok: false, reason: `candidate has NaN or infinite values in tensor ${candidate.nonFinite}` };
  return { ok: true };
}
