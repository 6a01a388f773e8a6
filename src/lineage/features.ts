/** Features of one model at one layer on a probe batch, flattened to N x D (C-order of NCHW). */
import { makeTensor, type Tensor } from '../tensor.js';
import { resolveLayer } from '../graph/ir.js';
import { runGraph } from '../runtime/ort.js';
import { buildModelGraph, type ArchOptions } from './model.js';
import { loadRef, type SourceRef } from './source-ref.js';
import { assertFiniteModel } from './finite.js';

export interface FeatureResult {
  layer: string;
  value: string;
  features: Tensor<'float32'>;
}

export async function computeFeatures(ref: SourceRef, probe: Tensor<'float32'>, layer: string | undefined, options: ArchOptions = {}): Promise<FeatureResult> {
  const model = await loadRef(ref);
  assertFiniteModel(model);
  const { graph } = await buildModelGraph(model, options);
  const name = layer ?? (model.graph ? graph.outputs[0].name : 'penultimate');
  const value = resolveLayer(graph, name);
  const out = (await runGraph(graph, { [graph.inputs[0].name]: probe }, [value]))[value];
  const n = out.shape[0] ?? 1;
  const data = out.data as Float32Array;
  return { layer: name, value, features: makeTensor('float32', [n, n === 0 ? 0 : data.length / n], data) };
}
