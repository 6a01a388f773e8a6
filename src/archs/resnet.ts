/**
 * torchvision ResNet-18/34/50 (state-dict names conv1, bn1, layerK.J.convI/bnI, layerK.0.downsample.0/1,
 * fc), in eval mode. ResNet-50 is torchvision's v1.5 Bottleneck (stride on the 3x3 conv2). The stem
 * follows conv1's kernel: 7x7/2 + 3x3/2 max-pool (ImageNet) or 3x3/1 without max-pool (CIFAR variant).
 */
import { FormatError } from '../formats/errors.js';
import { GraphBuilder } from '../graph/builder.js';
import type { Weights } from '../tensor.js';
import { batchNormParams, checkAgainstTemplate, chooseInputShape, defaultImageShape, linearParams, moduleIndices, shapeOrThrow, sourceOf } from './common.js';
import { type BuildOptions, type BuiltModel, INPUT_NAME, type StateTensorSpec, type ResNetSpec } from './types.js';

const VARIANTS: readonly { name: ResNetSpec['name']; block: ResNetSpec['block']; blocks: readonly number[] }[] = [
  { name: 'resnet18', block: 'basic', blocks: [2, 2, 2, 2] },
  { name: 'resnet34', block: 'basic', blocks: [3, 4, 6, 3] },
  { name: 'resnet50', block: 'bottleneck', blocks: [3, 4, 6, 3] },
];

const EXPANSION = { basic: 1, bottleneck: 4 } as const;

/** A torchvision ResNet's hyper-parameters, e.g. resnetSpec('resnet18', {inChannels: 1, numClasses: 10}). */
export function resnetSpec(
  name: ResNetSpec['name'],
  options: { inChannels?: number; numClasses?: number; stem?: ResNetSpec['stem']; baseWidth?: number } = {},
): ResNetSpec {
  const v = VARIANTS.find((x) => x.name === name);
  if (!v) throw new Error(`unknown ResNet ${name}`);
  return {
    name,
    block: v.block,
    blocks: [...v.blocks],
    stem: options.stem ?? 'imagenet',
    inChannels: options.inChannels ?? 3,
    baseWidth: options.baseWidth ?? 64,
    numClasses: options.numClasses ?? 1000,
  };
}

interface BlockPlan {
  prefix: string;
  inPlanes: number;
  planes: number;
  stride: number;
  downsample: boolean;
}

function plan(spec: ResNetSpec): { blocks: BlockPlan[]; features: number } {
  const blocks: BlockPlan[] = [];
  const expansion = EXPANSION[spec.block];
  let inPlanes = spec.baseWidth;
  spec.blocks.forEach((count, stage) => {
    const planes = spec.baseWidth * 2 ** stage;
    for (let j = 0; j < count; j++) {
      const stride = j === 0 && stage > 0 ? 2 : 1;
      const downsample = stride !== 1 || inPlanes !== planes * expansion;
      blocks.push({ prefix: `layer${stage + 1}.${j}`, inPlanes, planes, stride, downsample });
      inPlanes = planes * expansion;
    }
  });
  return { blocks, features: inPlanes };
}

export function resnetTemplate(spec: ResNetSpec): StateTensorSpec[] {
  const conv = (name: string, out: number, cin: number, k: number): StateTensorSpec => ({ name: `${name}.weight`, shape: [out, cin, k, k], dtype: 'float32' });
  const k = spec.stem === 'imagenet' ? 7 : 3;
  const params: StateTensorSpec[] = [conv('conv1', spec.baseWidth, spec.inChannels, k), ...batchNormParams('bn1', spec.baseWidth)];
  const { blocks, features } = plan(spec);
  for (const bl of blocks) {
    const p = bl.prefix;
    if (spec.block === 'basic') {
      params.push(conv(`${p}.conv1`, bl.planes, bl.inPlanes, 3), ...batchNormParams(`${p}.bn1`, bl.planes));
      params.push(conv(`${p}.conv2`, bl.planes, bl.planes, 3), ...batchNormParams(`${p}.bn2`, bl.planes));
    } else {
      params.push(conv(`${p}.conv1`, bl.planes, bl.inPlanes, 1), ...batchNormParams(`${p}.bn1`, bl.planes));
      params.push(conv(`${p}.conv2`, bl.planes, bl.planes, 3), ...batchNormParams(`${p}.bn2`, bl.planes));
      params.push(conv(`${p}.conv3`, bl.planes * 4, bl.planes, 1), ...batchNormParams(`${p}.bn3`, bl.planes * 4));
    }
    if (bl.downsample) {
      const out = bl.planes * EXPANSION[spec.block];
      params.push(conv(`${p}.downsample.0`, out, bl.inPlanes, 1), ...batchNormParams(`${p}.downsample.1`, out));
    }
  }
  params.push(...linearParams('fc', spec.numClasses, features));
  return params;
}

/** A ResNetSpec when the weights have conv1 and layer1.0.conv1, else undefined; throws on other depths. */
export function recogniseResNet(weights: Weights, options: BuildOptions = {}): ResNetSpec | undefined {
  if (!weights.has('conv1.weight') || !weights.has('layer1.0.conv1.weight')) return undefined;
  const source = sourceOf(options);
  const conv1 = shapeOrThrow(weights, 'conv1.weight', 4, source);
  const fc = shapeOrThrow(weights, 'fc.weight', 2, source);
  const block: ResNetSpec['block'] = weights.has('layer1.0.conv3.weight') ? 'bottleneck' : 'basic';
  const stages = [1, 2, 3, 4].map((s) => moduleIndices(weights, `layer${s}.`, source).length);
  if ([...weights.keys()].some((k) => /^layer([5-9]|\d\d+)\./.test(k))) {
    throw new FormatError(source, 'ResNet weights with more than four stages (layer5...) are not supported');
  }
  const variant = VARIANTS.find((v) => v.block === block && v.blocks.every((n, i) => n === stages[i]));
  if (!variant) {
    const known = VARIANTS.map((v) => `${v.name} ${v.block} [${v.blocks.join(',')}]`).join(', ');
    throw new FormatError(source, `ResNet with ${block} blocks [${stages.join(',')}] is not supported (known: ${known})`);
  }
  const k = conv1[2];
  if (k !== conv1[3] || (k !== 7 && k !== 3)) {
    throw new FormatError(source, `conv1.weight has a ${conv1[2]}x${conv1[3]} kernel; ResNet stems are 7x7 (ImageNet) or 3x3 (CIFAR)`);
  }
  return {
    name: variant.name,
    block,
    blocks: [...variant.blocks],
    stem: k === 7 ? 'imagenet' : 'cifar',
    inChannels: conv1[1],
    baseWidth: conv1[0],
    numClasses: fc[0],
  };
}

function residualBlock(b: GraphBuilder, x: string, bl: BlockPlan, block: ResNetSpec['block']): string {
  const p = bl.prefix;
  const convBn = (h: string, i: number, stride: number, pad: number): string => b.batchNorm(b.conv(h, `${p}.conv${i}`, { stride, pad }), `${p}.bn${i}`);
  let h: string;
  if (block === 'basic') {
    h = b.relu(convBn(x, 1, bl.stride, 1), `${p}.relu1`);
    h = convBn(h, 2, 1, 1);
  } else {
    h = b.relu(convBn(x, 1, 1, 0), `${p}.relu1`);
    h = b.relu(convBn(h, 2, bl.stride, 1), `${p}.relu2`);
    h = convBn(h, 3, 1, 0);
  }
  const identity = bl.downsample ? b.batchNorm(b.conv(x, `${p}.downsample.0`, { stride: bl.stride }), `${p}.downsample.1`) : x;
  return b.relu(b.add(h, identity, p), p);
}

export function buildResNet(weights: Weights, spec: ResNetSpec, options: BuildOptions = {}): BuiltModel {
  const source = sourceOf(options);
  checkAgainstTemplate(weights, resnetTemplate(spec), spec.name, source);
  const fallback = spec.stem === 'cifar' ? defaultImageShape(spec.inChannels, 32) : defaultImageShape(spec.inChannels, 224);
  const inputShape = chooseInputShape(options, fallback, (s) =>
    s.length === 3 && s[0] === spec.inChannels ? undefined : `${spec.name} takes ${spec.inChannels}-channel images (C,H,W)`,
  );
  const b = new GraphBuilder(spec.name, weights, source);
  let h = b.input(INPUT_NAME, ['N', ...inputShape]);
  if (spec.stem === 'imagenet') {
    h = b.relu(b.batchNorm(b.conv(h, 'conv1', { stride: 2, pad: 3 }), 'bn1'), 'stem');
    h = b.maxPool(h, 3, 2, 1, 'stem');
  } else {
    h = b.relu(b.batchNorm(b.conv(h, 'conv1', { stride: 1, pad: 1 }), 'bn1'), 'stem');
  }
  b.tap('stem', h);
  const layers = ['stem'];
  const { blocks } = plan(spec);
  for (const bl of blocks) {
    h = residualBlock(b, h, bl, spec.block);
    const stage = bl.prefix.split('.')[0];
    b.tap(stage, h); // the last block of each stage wins
    if (!layers.includes(stage)) layers.push(stage);
  }
  h = b.tap('penultimate', b.flatten(b.globalAveragePool(h, 'avgpool'), 'avgpool'));
  h = b.tap('logits', b.linear(h, 'fc'));
  layers.push('penultimate', 'logits');
  return {
    graph: b.build([{ name: h, shape: ['N', spec.numClasses] }]),
    arch: spec,
    inputShape,
    headParams: ['fc.weight', 'fc.bias'],
    layers,
  };
}
