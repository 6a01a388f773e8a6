/**
 * What the built-in architectures share: their hyper-parameters (inferred from a state dict),
 * the parameter list each one expects, and the built model handed to the rest of the project.
 */
import type { Graph } from '../graph/ir.js';

export const ARCH_NAMES = ['mlp', 'convnet', 'resnet18', 'resnet34', 'resnet50', 'vit'] as const;
export type ArchName = (typeof ARCH_NAMES)[number];

export interface MlpSpec {
  name: 'mlp';
  /** Module names of the Linear layers in execution order, e.g. ['fc1', 'fc2']. */
  layers: string[];
  /** Feature sizes along the chain: [in, hidden..., out], one longer than `layers`. */
  sizes: number[];
  /** Whether each layer has a bias. */
  biases: boolean[];
}

export interface ConvNetSpec {
  name: 'convnet';
  inChannels: number;
  /** Output channels of each conv block. */
  widths: number[];
  numClasses: number;
}

export interface ResNetSpec {
  name: 'resnet18' | 'resnet34' | 'resnet50';
  block: 'basic' | 'bottleneck';
  /** Blocks per stage, e.g. [2, 2, 2, 2]. */
  blocks: number[];
  /** 'imagenet': 7x7/2 conv + 3x3/2 max-pool (torchvision); 'cifar': 3x3/1 conv, no max-pool. */
  stem: 'imagenet' | 'cifar';
  inChannels: number;
  /** Output channels of conv1 (64 in torchvision); stage i uses baseWidth * 2^i planes. */
  baseWidth: number;
  numClasses: number;
}

export interface VitSpec {
  name: 'vit';
  depth: number;
  width: number;
  heads: number;
  /** Where `heads` came from: the heads option, metadata num_heads, or the width/64 default. */
  headsSource: 'option' | 'metadata' | 'default';
  patchSize: number;
  inChannels: number;
  /** Input height and width. */
  imageSize: [number, number];
  mlpHidden: number;
  qkvBias: boolean;
  numClasses: number;
}

export type ArchSpec = MlpSpec | ConvNetSpec | ResNetSpec | VitSpec;

/** One state-dict tensor (parameter or buffer) an architecture expects a checkpoint to hold. */
export interface StateTensorSpec {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int64';
  /** Buffers that old PyTorch versions did not save (num_batches_tracked). */
  optional?: boolean;
}

export interface BuildOptions {
  /** Force a family or name ('mlp', 'resnet18', ...) instead of inferring it. */
  arch?: string;
  /** ViT attention heads (overrides metadata num_heads). */
  heads?: number;
  /** Free-form metadata, e.g. safetensors __metadata__: `arch`, `num_heads`, `input_shape` ("1,28,28"). */
  metadata?: Record<string, string>;
  /** Input shape without the batch axis (C,H,W, or [D] for an MLP). */
  inputShape?: number[];
  /** Names the weights in error messages (a file path). */
  source?: string;
}

export interface BuiltModel {
  graph: Graph;
  arch: ArchSpec;
  /** Input shape without the batch axis: C,H,W, or [D] for an MLP. */
  inputShape: number[];
  /** State-dict keys of the classification head; lineage code leaves them out. */
  headParams: string[];
  /** Friendly tap names in network order, ending with `penultimate` and `logits`. */
  layers: string[];
}

/** The name of the single graph input of every built-in architecture. */
export const INPUT_NAME = 'input';
