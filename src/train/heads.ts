/**
 * Task heads on the built-in backbones. A classification model uses its architecture's own head
 * (fc4 of an MLP, head.* of the convnet, fc.* of a ResNet). Dense tasks add a head to the same
 * backbone graph as extra initializers and nodes, named with its own prefix:
 *
 *   segmentation  seg_head.weight [K, C, 1, 1], seg_head.bias [K]: a 1x1 Conv on the last spatial
 *                 feature map (convnet: the last block; ResNet: layer4) giving K per-pixel logits,
 *                 then a nearest-neighbour Resize to the canvas (PyTorch F.interpolate(mode='nearest'):
 *                 ONNX asymmetric coordinates, floor rounding). Output [N, K, H, W].
 *   detection     det_head.weight [S*(4+K), D], det_head.bias [S*(4+K)]: a Linear on `penultimate`;
 *                 per slot s the outputs s*(4+K) .. s*(4+K)+3 are the box (x0, y0, x1, y1) and the
 *                 next K the class logits. Output [N, S*(4+K)].
 *
 * A dense model keeps the architecture's classification head tensors (unused, unchanged), so
 * removing the `seg_head.` / `det_head.` tensors leaves a state dict that buildGraph accepts.
 */
import { buildGraph } from '../archs/registry.js';
import type { BuiltModel } from '../archs/types.js';
import { INPUT_NAME } from '../archs/types.js';
import type { TaskKind } from '../data/types.js';
import { type Graph, type GraphNode, attr, cloneGraph } from '../graph/ir.js';
import { TfjsGraph, interpretGraph } from '../runtime/tfjs/interpreter.js';
import { type Tensor, type Weights, makeTensor } from '../tensor.js';
import * as tf from '@tensorflow/tfjs-core';

import { DET_HEAD, SEG_HEAD, isDenseHeadKey, splitDenseHeads } from '../archs/dense-heads.js';

export { DET_HEAD, SEG_HEAD, isDenseHeadKey, splitDenseHeads };

export interface HeadedModel {
  /** The backbone as the architecture registry builds it (classification head included). */
  built: BuiltModel;
  /** The backbone graph plus the task head; every state-dict tensor is an initializer. */
  graph: Graph;
  /** Value name of the model output for the task (logits, per-pixel logits or slot outputs). */
  output: string;
  kind: TaskKind;
  /** State-dict keys of the head the task uses. */
  headParams: string[];
}

export interface HeadOptions {
  kind: TaskKind;
  /** Input shape without the batch axis (C,H,W). */
  inputShape: readonly number[];
  arch?: string;
  source?: string;
  /** Segmentation: the backbone layer the head reads (default: the last spatial layer). */
  segLayer?: string;
}

/** Shape of value `value` for one example of `inputShape` (a forward pass on zeros). */
export function valueShape(graph: Graph, value: string, inputShape: readonly number[]): number[] {
  const shape = tf.tidy(() => {
    const out = interpretGraph(graph, { [INPUT_NAME]: tf.zeros([1, ...inputShape]) }, [value]);
    return [...out[value].shape];
  });
  TfjsGraph.for(graph).dispose();
  return shape;
}

/** The layer the segmentation head reads: the last tap before `penultimate` unless one is named. */
export function segmentationLayer(built: BuiltModel, requested?: string): string {
  if (requested) {
    if (!built.graph.taps.has(requested)) throw new Error(`segmentation layer '${requested}' is not one of ${built.layers.join(', ')}`);
    return requested;
  }
  const at = built.layers.indexOf('penultimate');
  const layer = built.layers[at - 1];
  if (at < 1 || !layer) throw new Error(`${built.arch.name}: no feature map before 'penultimate' for a segmentation head`);
  return layer;
}

function assertDenseBackbone(built: BuiltModel, kind: TaskKind): void {
  if (built.arch.name === 'mlp' || built.arch.name === 'vit') {
    throw new Error(`${kind} needs a convolutional backbone (convnet or resnet); ${built.arch.name} has no spatial feature map`);
  }
}

/** Names and shapes of the dense head a backbone needs for `kind` with `numClasses` classes. */
export function denseHeadShapes(
  built: BuiltModel,
  kind: 'segmentation' | 'detection',
  numClasses: number,
  inputShape: readonly number[],
  options: { slots?: number; segLayer?: string } = {},
): { name: string; shape: number[] }[] {
  assertDenseBackbone(built, kind);
  if (kind === 'segmentation') {
    const layer = segmentationLayer(built, options.segLayer);
    const shape = valueShape(built.graph, built.graph.taps.get(layer) as string, inputShape);
    if (shape.length !== 4) throw new Error(`segmentation layer '${layer}' has shape [${shape.join(',')}], not a feature map [N,C,H,W]`);
    return [
      { name: `${SEG_HEAD}.weight`, shape: [numClasses, shape[1], 1, 1] },
      { name: `${SEG_HEAD}.bias`, shape: [numClasses] },
    ];
  }
  const slots = options.slots ?? 1;
  const features = valueShape(built.graph, built.graph.taps.get('penultimate') as string, inputShape);
  const width = slots * (4 + numClasses);
  return [
    { name: `${DET_HEAD}.weight`, shape: [width, features[1]] },
    { name: `${DET_HEAD}.bias`, shape: [width] },
  ];
}

function int64(values: readonly number[]): Tensor {
  return makeTensor('int64', [values.length], BigInt64Array.from(values.map((v) => BigInt(v))));
}

function node(op: string, name: string, inputs: string[], outputs: string[], attributes: GraphNode['attributes'] = {}): GraphNode {
  return { name, op, inputs, outputs, attributes };
}

function addSegmentationHead(graph: Graph, feature: string, inputShape: readonly number[]): string {
  const [, height, width] = inputShape;
  graph.initializers.set('const:seg_head:starts', int64([0]));
  graph.initializers.set('const:seg_head:ends', int64([2]));
  graph.initializers.set('const:seg_head:canvas', int64([height, width]));
  graph.nodes.push(
    node('Conv', 'seg_head/Conv', [feature, `${SEG_HEAD}.weight`, `${SEG_HEAD}.bias`], ['seg_head/conv'], {
      kernel_shape: attr.ints([1, 1]),
      strides: attr.ints([1, 1]),
      pads: attr.ints([0, 0, 0, 0]),
    }),
    node('Shape', 'seg_head/Shape', ['seg_head/conv'], ['seg_head/shape']),
    node('Slice', 'seg_head/Slice', ['seg_head/shape', 'const:seg_head:starts', 'const:seg_head:ends'], ['seg_head/batch_channels']),
    node('Concat', 'seg_head/Concat', ['seg_head/batch_channels', 'const:seg_head:canvas'], ['seg_head/sizes'], { axis: attr.int(0) }),
    node('Resize', 'seg_head/Resize', ['seg_head/conv', '', '', 'seg_head/sizes'], ['seg_head/logits'], {
      mode: attr.string('nearest'),
      coordinate_transformation_mode: attr.string('asymmetric'),
      nearest_mode: attr.string('floor'),
    }),
  );
  return 'seg_head/logits';
}

function addDetectionHead(graph: Graph, features: string): string {
  graph.nodes.push(node('Gemm', 'det_head/Gemm', [features, `${DET_HEAD}.weight`, `${DET_HEAD}.bias`], ['det_head/outputs'], { transB: attr.int(1) }));
  return 'det_head/outputs';
}

/**
 * Builds the graph of a state dict for a task: the architecture's graph from the non-dense
 * tensors, plus the segmentation or detection head when the task is dense (its tensors must be in
 * `weights`). Initializers keep state-dict order.
 */
export function buildHeadedModel(weights: Weights, options: HeadOptions): HeadedModel {
  const { core, dense } = splitDenseHeads(weights);
  const built = buildGraph(core, { arch: options.arch, inputShape: [...options.inputShape], source: options.source });
  if (options.kind === 'classification') {
    return { built, graph: built.graph, output: built.graph.taps.get('logits') as string, kind: 'classification', headParams: built.headParams };
  }
  assertDenseBackbone(built, options.kind);
  const prefix = options.kind === 'segmentation' ? SEG_HEAD : DET_HEAD;
  const headParams = [`${prefix}.weight`, `${prefix}.bias`];
  for (const k of headParams) if (!dense.has(k)) throw new Error(`${options.source ?? 'weights'}: a ${options.kind} model needs tensor ${k}`);
  const graph = cloneGraph(built.graph);
  const initializers = new Map<string, Tensor>();
  for (const [k, t] of weights) initializers.set(k, graph.initializers.get(k) ?? t);
  for (const [k, t] of graph.initializers) if (!initializers.has(k)) initializers.set(k, t);
  graph.initializers = initializers;
  const output =
    options.kind === 'segmentation'
      ? addSegmentationHead(graph, graph.taps.get(segmentationLayer(built, options.segLayer)) as string, options.inputShape)
      : addDetectionHead(graph, graph.taps.get('penultimate') as string);
  graph.outputs = [{ name: output, dtype: 'float32', shape: [] }];
  return { built, graph, output, kind: options.kind, headParams };
}
