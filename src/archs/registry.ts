/**
 * The built-in architectures: recognise which one a state dict is (by its keys and shapes) and
 * build its graph. Families are tried in a fixed order; the MLP, which matches any set of Linear
 * layers, comes last.
 */
import { FormatError } from '../formats/errors.js';
import type { Weights } from '../tensor.js';
import { checkAgainstTemplate, float32Weights, sourceOf } from './common.js';
import { buildConvNet, convnetTemplate, recogniseConvNet } from './convnet.js';
import { buildMlp, mlpTemplate, recogniseMlp } from './mlp.js';
import { buildResNet, recogniseResNet, resnetTemplate } from './resnet.js';
import { ARCH_NAMES, type ArchName, type ArchSpec, type BuildOptions, type BuiltModel, type StateTensorSpec } from './types.js';
import { buildVit, recogniseVit, vitTemplate } from './vit.js';

export { ARCH_NAMES };
export type { ArchName, ArchSpec, BuildOptions, BuiltModel, StateTensorSpec };

interface Family {
  family: string;
  names: readonly ArchName[];
  lookedFor: string;
  recognise(weights: Weights, options: BuildOptions): ArchSpec | undefined;
  build(weights: Weights, spec: ArchSpec, options: BuildOptions): BuiltModel;
}

// Each build receives a spec its own recogniser produced; the casts restate that.
const FAMILIES: readonly Family[] = [
  {
    family: 'resnet',
    names: ['resnet18', 'resnet34', 'resnet50'],
    lookedFor: 'resnet18/34/50 (torchvision keys conv1.weight, layer1.0.conv1.weight, ..., fc.weight)',
    recognise: recogniseResNet,
    build: (w, s, o) => buildResNet(w, s as Parameters<typeof buildResNet>[1], o),
  },
  {
    family: 'vit',
    names: ['vit'],
    lookedFor: 'vit (timm keys patch_embed.proj.weight, pos_embed, cls_token, blocks.N..., head.weight)',
    recognise: recogniseVit,
    build: (w, s, o) => buildVit(w, s as Parameters<typeof buildVit>[1], o),
  },
  {
    family: 'convnet',
    names: ['convnet'],
    lookedFor: 'convnet (keys blocks.N.conv.weight, blocks.N.bn.*, head.weight)',
    recognise: recogniseConvNet,
    build: (w, s, o) => buildConvNet(w, s as Parameters<typeof buildConvNet>[1], o),
  },
  {
    family: 'mlp',
    names: ['mlp'],
    lookedFor: 'mlp (only Linear `<name>.weight` [out,in] and `<name>.bias` [out] tensors forming a chain)',
    recognise: recogniseMlp,
    build: (w, s, o) => buildMlp(w, s as Parameters<typeof buildMlp>[1], o),
  },
];

/** The state-dict entries an architecture expects, in PyTorch's order. */
export function archTemplate(spec: ArchSpec): StateTensorSpec[] {
  switch (spec.name) {
    case 'mlp':
      return mlpTemplate(spec);
    case 'convnet':
      return convnetTemplate(spec);
    case 'vit':
      return vitTemplate(spec);
    default:
      return resnetTemplate(spec);
  }
}

function requestedArch(options: BuildOptions): string | undefined {
  return options.arch ?? options.metadata?.arch ?? options.metadata?.architecture;
}

function sampleKeys(weights: Weights): string {
  const keys = [...weights.keys()];
  const shown = keys
    .slice(0, 5)
    .map((k) => `${k} [${weights.get(k)?.shape.join(',')}]`)
    .join(', ');
  return keys.length > 5 ? `${shown}, ... (${keys.length} tensors)` : shown;
}

function recognise(weights: Weights, options: BuildOptions): { family: Family; spec: ArchSpec } {
  const source = sourceOf(options);
  if (weights.size === 0) throw new FormatError(source, 'no tensors: cannot infer an architecture');
  const wanted = requestedArch(options);
  if (wanted !== undefined) {
    const family = FAMILIES.find((f) => f.family === wanted || (f.names as readonly string[]).includes(wanted));
    if (!family) throw new FormatError(source, `unknown architecture '${wanted}' (built-in: ${ARCH_NAMES.join(', ')})`);
    const spec = family.recognise(weights, options);
    if (!spec) throw new FormatError(source, `the weights are not ${wanted}: looked for ${family.lookedFor}; found ${sampleKeys(weights)}`);
    if (spec.name !== wanted && family.family !== wanted) throw new FormatError(source, `the weights are a ${spec.name}, not a ${wanted}`);
    return { family, spec };
  }
  for (const family of FAMILIES) {
    const spec = family.recognise(weights, options);
    if (spec) return { family, spec };
  }
  const lookedFor = FAMILIES.map((f) => f.lookedFor).join('; ');
  throw new FormatError(source, `cannot infer the architecture. Looked for: ${lookedFor}. Found: ${sampleKeys(weights)}`);
}

/**
 * The architecture of a state dict and its hyper-parameters, checked against the full list of
 * tensors it should have. Metadata may name the architecture (`arch`) and ViT heads (`num_heads`).
 */
export function inferArchitecture(weights: Weights, metadata?: Record<string, string>, options: Omit<BuildOptions, 'metadata'> = {}): ArchSpec {
  const all: BuildOptions = { ...options, metadata };
  const { spec } = recognise(weights, all);
  checkAgainstTemplate(weights, archTemplate(spec), spec.name, sourceOf(all));
  return spec;
}

/** Infers the architecture (unless `options.arch` names it) and builds its graph in float32. */
export function buildGraph(weights: Weights, options: BuildOptions = {}): BuiltModel {
  const { family, spec } = recognise(weights, options);
  return family.build(float32Weights(weights), spec, options);
}
