/**
 * Unit groups of plain chains of Linear and Conv layers (MLPs, VGG-style convnets, the inside of a
 * ResNet block), found from names and shapes alone. Going through the pairs in a's file order, a
 * weight W_i [out, in, ...] is linked to the next weight W_{i+1} of the same parent module when
 * W_{i+1}'s input size is W_i's output size: W_i's rows, its bias and the per-channel vectors
 * between them (BatchNorm or LayerNorm weight and bias, a per-channel PReLU) share one permutation
 * with W_{i+1}'s input columns (blocks of kh * kw columns for a conv, of h * w after a
 * channel-major flatten). A last layer's outputs are never permuted: nothing consumes them.
 *
 * Conservative on purpose: a link needs the same parent module (so a ResNet block's output, which
 * joins the residual stream of the next block, is never permuted), and anything that looks like
 * attention or an embedding, a transposed pair or a vector of another size breaks the chain.
 * Not detected: one output read by two layers (SqueezeNet's expand branches), grouped and
 * depthwise convolutions (they end a chain), ConvTranspose kernels [in, out, ...].
 */
import { isGeneratedName } from '../weights/model-naming.js';
import type { TensorPair } from '../weights/types.js';
import type { PairNaming } from './transformer-groups.js';
import type { UnitGroup, UnitMember } from './types.js';

const NOT_A_CHAIN = /(embed|attn|attention|query|key|value|(^|[._])(q|k|v|o|qkv|in|out)_proj$|lm_head|token|position)/i;

interface Open {
  weight: TensorPair;
  module: string;
  parent: string;
  out: number;
  /** The bias and per-channel vectors met since the weight. */
  vectors: UnitMember[];
}

function moduleOf(name: string): { module: string; parent: string; kind: 'weight' | 'bias' } | undefined {
  const m = /^(.*)\.(weight|bias)$/.exec(name);
  if (m === null) return undefined;
  const dot = m[1].lastIndexOf('.');
  return { module: m[1], parent: dot < 0 ? '' : m[1].slice(0, dot), kind: m[2] as 'weight' | 'bias' };
}

/** Columns per input unit of `next` when it reads `open`'s outputs, or undefined when it does not. */
function inputBlock(open: Open, next: TensorPair): number | undefined {
  const shape = next.a.shape;
  let kernel = 1;
  for (let d = 2; d < shape.length; d++) kernel *= shape[d];
  if (shape[1] === open.out) return kernel;
  // A Linear after a conv: a channel-major flatten gives each channel h * w consecutive inputs.
  const flattened = shape.length === 2 && open.weight.a.shape.length > 2 && shape[1] % open.out === 0;
  return flattened ? shape[1] / open.out : undefined;
}

function chainable(pair: TensorPair, naming: PairNaming): boolean {
  if (naming.a.keys.has(pair.a.name) || naming.b.keys.has(pair.b.name)) return false;
  return pair.transform.kind === 'identity' && !isGeneratedName(pair.a.name) && !NOT_A_CHAIN.test(pair.a.name);
}

export function chainGroups(pairs: readonly TensorPair[], naming: PairNaming): UnitGroup[] {
  const groups: UnitGroup[] = [];
  let open: Open | undefined;
  for (const pair of pairs) {
    const where = moduleOf(pair.a.name);
    if (where === undefined || !chainable(pair, naming)) {
      open = undefined;
      continue;
    }
    const rank = pair.a.shape.length;
    if (rank === 1) {
      if (open !== undefined && where.parent === open.parent && pair.a.shape[0] === open.out) open.vectors.push({ name: pair.b.name, axis: 0, block: 1 });
      else open = undefined;
      continue;
    }
    if (rank < 2 || where.kind !== 'weight') {
      open = undefined;
      continue;
    }
    const block = open !== undefined && where.parent === open.parent ? inputBlock(open, pair) : undefined;
    if (open !== undefined && block !== undefined) {
      const members: UnitMember[] = [{ name: open.weight.b.name, axis: 0, block: 1 }, ...open.vectors, { name: pair.b.name, axis: 1, block }];
      groups.push({ label: open.module, units: open.out, members });
    }
    open = { weight: pair, module: where.module, parent: where.parent, out: pair.a.shape[0], vectors: [] };
  }
  return groups;
}
