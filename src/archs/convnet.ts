/**
 * `convnet`: the small CNN family of our zoos, parametric in width and depth. Its state dict:
 *
 *   blocks.N.conv.weight                [W_N, W_{N-1}, 3, 3]  (W_{-1} = input channels; no bias)
 *   blocks.N.bn.{weight,bias,running_mean,running_var}  [W_N]  (+ num_batches_tracked)
 *   head.weight [classes, W_last], head.bias [classes]
 *
 * Block N is Conv 3x3 (padding 1) -> BatchNorm (eps 1e-5, eval) -> ReLU, followed by a 2x2/2
 * max-pool on every block but the last; then global average pooling, flatten and the Linear head.
 * PyTorch twin: `ConvNet` in scripts/make_arch_fixtures.py. Zoo default: widths [16, 32, 64].
 */
import { GraphBuilder } from '../graph/builder.js';
import type { Weights } from '../tensor.js';
import { batchNormParams, checkAgainstTemplate, chooseInputShape, defaultImageShape, linearParams, moduleIndices, shapeOrThrow, sourceOf } from './common.js';
import { type BuildOptions, type BuiltModel, type ConvNetSpec, INPUT_NAME, type StateTensorSpec } from './types.js';

export function convnetTemplate(spec: ConvNetSpec): StateTensorSpec[] {
  const params: StateTensorSpec[] = [];
  spec.widths.forEach((w, i) => {
    const cin = i === 0 ? spec.inChannels : spec.widths[i - 1];
    params.push({ name: `blocks.${i}.conv.weight`, shape: [w, cin, 3, 3], dtype: 'float32' });
    params.push(...batchNormParams(`blocks.${i}.bn`, w));
  });
  params.push(...linearParams('head', spec.numClasses, spec.widths[spec.widths.length - 1]));
  return params;
}

/** A ConvNetSpec when the weights have `blocks.0.conv.weight`, else undefined. */
export function recogniseConvNet(weights: Weights, options: BuildOptions = {}): ConvNetSpec | undefined {
  if (!weights.has('blocks.0.conv.weight')) return undefined;
  const source = sourceOf(options);
  const blocks = moduleIndices(weights, 'blocks.', source);
  const convs = blocks.map((i) => shapeOrThrow(weights, `blocks.${i}.conv.weight`, 4, source));
  const head = shapeOrThrow(weights, 'head.weight', 2, source);
  return { name: 'convnet', inChannels: convs[0][1], widths: convs.map((s) => s[0]), numClasses: head[0] };
}

export function buildConvNet(weights: Weights, spec: ConvNetSpec, options: BuildOptions = {}): BuiltModel {
  const source = sourceOf(options);
  checkAgainstTemplate(weights, convnetTemplate(spec), 'a convnet', source);
  const inputShape = chooseInputShape(options, defaultImageShape(spec.inChannels, 32), (s) =>
    s.length === 3 && s[0] === spec.inChannels ? undefined : `the convnet takes ${spec.inChannels}-channel images (C,H,W)`,
  );
  const b = new GraphBuilder('convnet', weights, source);
  const layers: string[] = [];
  let h = b.input(INPUT_NAME, ['N', ...inputShape]);
  spec.widths.forEach((_, i) => {
    const prefix = `blocks.${i}`;
    h = b.relu(b.batchNorm(b.conv(h, `${prefix}.conv`, { pad: 1 }), `${prefix}.bn`), prefix);
    if (i < spec.widths.length - 1) h = b.maxPool(h, 2, 2, 0, prefix);
    b.tap(`block${i}`, h);
    layers.push(`block${i}`);
  });
  h = b.tap('penultimate', b.flatten(b.globalAveragePool(h, 'pool'), 'pool'));
  h = b.tap('logits', b.linear(h, 'head'));
  layers.push('penultimate', 'logits');
  return {
    graph: b.build([{ name: h, shape: ['N', spec.numClasses] }]),
    arch: spec,
    inputShape,
    headParams: ['head.weight', 'head.bias'],
    layers,
  };
}
