/**
 * BatchNorm in training mode, as PyTorch's nn.BatchNorm2d.train(): each BatchNormalization node
 * chosen is rewritten into primitive ops that normalise with the batch's own statistics,
 *   y = (x - mean_b) / sqrt(var_b + eps) * weight + bias,   mean_b, var_b over N, H, W (biased var),
 * and the batch statistics become extra values the trainer reads to update the running ones
 * (nn/batchnorm.ts):
 *   running_mean <- (1 - m) running_mean + m mean_b
 *   running_var  <- (1 - m) running_var  + m var_b * n / (n - 1)      (m = 0.1, n = N*H*W)
 *   num_batches_tracked += 1
 * Only 4-D inputs (BatchNorm2d), which is all the built-in architectures use.
 */
import { type Graph, type GraphNode, attr, cloneGraph, floatAttr } from '../graph/ir.js';
import { makeTensor } from '../tensor.js';

export interface BatchStatistics {
  /** Module prefix, e.g. blocks.0.bn. */
  prefix: string;
  /** The BN node's input value (its spatial size gives n). */
  input: string;
  /** Values [1, C, 1, 1] of the batch mean and biased variance. */
  mean: string;
  variance: string;
  runningMean: string;
  runningVar: string;
  /** num_batches_tracked key (it may be absent from old state dicts). */
  counter: string;
}

/** The state-dict prefix of a BatchNormalization node whose scale is `<prefix>.weight`. */
export function batchNormPrefix(node: GraphNode): string | undefined {
  const scale = node.inputs[1];
  return node.op === 'BatchNormalization' && scale?.endsWith('.weight') ? scale.slice(0, -'.weight'.length) : undefined;
}

/**
 * Rewrites the BatchNormalization nodes for which `train(prefix)` holds into training-mode ops.
 * Returns the new graph and, per rewritten node, where its batch statistics are.
 */
export function trainModeBatchNorm(graph: Graph, train: (prefix: string) => boolean): { graph: Graph; stats: BatchStatistics[] } {
  const out = cloneGraph(graph);
  const stats: BatchStatistics[] = [];
  const channelShape = 'const:bn_train:channel_shape';
  const nodes: GraphNode[] = [];
  for (const node of out.nodes) {
    const prefix = batchNormPrefix(node);
    if (prefix === undefined || !train(prefix)) {
      nodes.push(node);
      continue;
    }
    const [x, scale, bias, runningMean, runningVar] = node.inputs;
    const eps = `const:bn_train:${prefix}:eps`;
    out.initializers.set(eps, makeTensor('float32', [], Float32Array.of(floatAttr(node, 'epsilon', 1e-5))));
    if (!out.initializers.has(channelShape)) out.initializers.set(channelShape, makeTensor('int64', [3], BigInt64Array.of(-1n, 1n, 1n)));
    const v = (name: string) => `${prefix}/train_bn/${name}`;
    const reduce = { axes: attr.ints([0, 2, 3]), keepdims: attr.int(1) };
    const add = (op: string, name: string, inputs: string[], attributes: GraphNode['attributes'] = {}, output = v(name)) => {
      nodes.push({ name: `${prefix}/train_bn/${name}#`, op, inputs, outputs: [output], attributes });
      return output;
    };
    const mean = add('ReduceMean', 'mean', [x], reduce);
    const centred = add('Sub', 'centred', [x, mean]);
    const variance = add('ReduceMean', 'var', [add('Mul', 'squared', [centred, centred])], reduce);
    const std = add('Sqrt', 'std', [add('Add', 'var_eps', [variance, eps])]);
    const normalised = add('Div', 'normalised', [centred, std]);
    const scaled = add('Mul', 'scaled', [normalised, add('Reshape', 'weight4', [scale, channelShape])]);
    add('Add', 'shifted', [scaled, add('Reshape', 'bias4', [bias, channelShape])], {}, node.outputs[0]);
    stats.push({ prefix, input: x, mean, variance, runningMean, runningVar, counter: `${prefix}.num_batches_tracked` });
  }
  out.nodes = nodes;
  return { graph: out, stats };
}
