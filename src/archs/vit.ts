/**
 * `vit`: timm's VisionTransformer with a class token (state-dict names patch_embed.proj, cls_token,
 * pos_embed, blocks.N.{norm1, attn.qkv, attn.proj, norm2, mlp.fc1, mlp.fc2}, norm, head), in eval
 * mode: pre-norm blocks, LayerNorm eps 1e-6, exact (erf) GELU, head on the normed class token.
 * The number of attention heads is not in the weights: it comes from the `heads` option, metadata
 * `num_heads`, or defaults to width/64.
 */
import { FormatError } from '../formats/errors.js';
import { attr } from '../graph/ir.js';
import { GraphBuilder } from '../graph/builder.js';
import { type Weights, makeTensor } from '../tensor.js';
import { checkAgainstTemplate, chooseInputShape, linearParams, moduleIndices, shapeOrThrow, shapeText, sourceOf } from './common.js';
import { type BuildOptions, type BuiltModel, INPUT_NAME, type StateTensorSpec, type VitSpec } from './types.js';

const LAYER_NORM_EPS = 1e-6;

export function vitTemplate(spec: VitSpec): StateTensorSpec[] {
  const d = spec.width;
  const p = spec.patchSize;
  const tokens = 1 + (spec.imageSize[0] / p) * (spec.imageSize[1] / p);
  const norm = (name: string): StateTensorSpec[] => [
    { name: `${name}.weight`, shape: [d], dtype: 'float32' },
    { name: `${name}.bias`, shape: [d], dtype: 'float32' },
  ];
  const params: StateTensorSpec[] = [
    { name: 'cls_token', shape: [1, 1, d], dtype: 'float32' },
    { name: 'pos_embed', shape: [1, tokens, d], dtype: 'float32' },
    { name: 'patch_embed.proj.weight', shape: [d, spec.inChannels, p, p], dtype: 'float32' },
    { name: 'patch_embed.proj.bias', shape: [d], dtype: 'float32' },
  ];
  for (let i = 0; i < spec.depth; i++) {
    const b = `blocks.${i}`;
    params.push(...norm(`${b}.norm1`));
    params.push(...linearParams(`${b}.attn.qkv`, 3 * d, d, spec.qkvBias));
    params.push(...linearParams(`${b}.attn.proj`, d, d));
    params.push(...norm(`${b}.norm2`));
    params.push(...linearParams(`${b}.mlp.fc1`, spec.mlpHidden, d));
    params.push(...linearParams(`${b}.mlp.fc2`, d, spec.mlpHidden));
  }
  params.push(...norm('norm'), ...linearParams('head', spec.numClasses, d));
  return params;
}

function chooseHeads(width: number, options: BuildOptions, source: string): Pick<VitSpec, 'heads' | 'headsSource'> {
  let heads: number;
  let headsSource: VitSpec['headsSource'];
  const fromMetadata = options.metadata?.num_heads;
  if (options.heads !== undefined) {
    heads = options.heads;
    headsSource = 'option';
  } else if (fromMetadata !== undefined) {
    heads = /^\s*\d+\s*$/.test(fromMetadata) ? Number(fromMetadata) : Number.NaN;
    headsSource = 'metadata';
  } else {
    heads = Math.max(1, Math.floor(width / 64));
    headsSource = 'default';
  }
  if (!Number.isSafeInteger(heads) || heads < 1 || width % heads !== 0) {
    const given = headsSource === 'metadata' ? `metadata num_heads '${fromMetadata}'` : `${heads} heads`;
    throw new FormatError(source, `${given} cannot split the ViT width ${width} into equal heads`);
  }
  return { heads, headsSource };
}

/** The input size implied by pos_embed: a square grid unless an input shape says otherwise. */
function imageSize(tokens: number, patch: number, channels: number, options: BuildOptions, source: string): [number, number] {
  const patches = tokens - 1;
  const side = Math.round(Math.sqrt(patches));
  const square = side * side === patches ? [channels, side * patch, side * patch] : undefined;
  if (!square && !options.inputShape && options.metadata?.input_shape === undefined) {
    throw new FormatError(source, `pos_embed has ${tokens} tokens, not 1 + a square number of patches: give the input shape (C,H,W)`);
  }
  const shape = chooseInputShape(options, square ?? [], (s) => {
    if (s.length !== 3 || s[0] !== channels) return `the ViT takes ${channels}-channel images (C,H,W)`;
    if (s[1] % patch !== 0 || s[2] % patch !== 0) return `height and width must be multiples of the patch size ${patch}`;
    if ((s[1] / patch) * (s[2] / patch) !== patches) return `pos_embed has ${tokens} tokens, so the image must hold ${patches} patches of ${patch}x${patch}`;
    return undefined;
  });
  return [shape[1], shape[2]];
}

/** A VitSpec when the weights have patch_embed.proj.weight and pos_embed, else undefined. */
export function recogniseVit(weights: Weights, options: BuildOptions = {}): VitSpec | undefined {
  if (!weights.has('patch_embed.proj.weight') || !weights.has('pos_embed')) return undefined;
  const source = sourceOf(options);
  const proj = shapeOrThrow(weights, 'patch_embed.proj.weight', 4, source);
  if (proj[2] !== proj[3]) throw new FormatError(source, `patch_embed.proj.weight ${shapeText(proj)}: only square patches are supported`);
  const pos = shapeOrThrow(weights, 'pos_embed', 3, source);
  const width = proj[0];
  const depth = moduleIndices(weights, 'blocks.', source).length;
  const mlpHidden = depth > 0 ? shapeOrThrow(weights, 'blocks.0.mlp.fc1.weight', 2, source)[0] : 4 * width;
  return {
    name: 'vit',
    depth,
    width,
    ...chooseHeads(width, options, source),
    patchSize: proj[2],
    inChannels: proj[1],
    imageSize: imageSize(pos[1], proj[2], proj[1], options, source),
    mlpHidden,
    qkvBias: weights.has('blocks.0.attn.qkv.bias'),
    numClasses: shapeOrThrow(weights, 'head.weight', 2, source)[0],
  };
}

/** GELU with the exact erf form, 0.5 x (1 + erf(x / sqrt 2)), as nn.GELU() computes it. */
function gelu(b: GraphBuilder, x: string, label: string): string {
  const e = b.node('Erf', [b.node('Mul', [x, b.float('sqrt1_2', [Math.SQRT1_2], [])], {}, label)], {}, label);
  const onePlus = b.node('Add', [e, b.float('one', [1], [])], {}, label);
  return b.node('Mul', [b.node('Mul', [x, onePlus], {}, label), b.float('half', [0.5], [])], {}, label);
}

function attention(b: GraphBuilder, x: string, prefix: string, spec: VitSpec): string {
  const d = spec.width / spec.heads;
  const scalar = (i: number): string => b.constant(`index${i}`, makeTensor('int64', [], BigInt64Array.of(BigInt(i))));
  let qkv = b.linearNd(x, `${prefix}.qkv`); // [N, T, 3D]
  qkv = b.node('Reshape', [qkv, b.int64('qkv_shape', [0, 0, 3, spec.heads, d])], {}, prefix);
  qkv = b.node('Transpose', [qkv], { perm: attr.ints([2, 0, 3, 1, 4]) }, prefix); // [3, N, H, T, d]
  const [q, k, v] = [0, 1, 2].map((i) => b.node('Gather', [qkv, scalar(i)], { axis: attr.int(0) }, prefix));
  const kt = b.node('Transpose', [k], { perm: attr.ints([0, 1, 3, 2]) }, prefix);
  const scores = b.node('Mul', [b.node('MatMul', [q, kt], {}, prefix), b.float('scale', [1 / Math.sqrt(d)], [])], {}, prefix);
  const probs = b.node('Softmax', [scores], { axis: attr.int(-1) }, prefix);
  let out = b.node('MatMul', [probs, v], {}, prefix); // [N, H, T, d]
  out = b.node('Transpose', [out], { perm: attr.ints([0, 2, 1, 3]) }, prefix);
  out = b.node('Reshape', [out, b.int64('merge_heads', [0, 0, spec.width])], {}, prefix);
  return b.linearNd(out, `${prefix}.proj`);
}

export function buildVit(weights: Weights, spec: VitSpec, options: BuildOptions = {}): BuiltModel {
  const source = sourceOf(options);
  checkAgainstTemplate(weights, vitTemplate(spec), 'a ViT', source);
  const inputShape = [spec.inChannels, ...spec.imageSize];
  const b = new GraphBuilder('vit', weights, source);
  const x = b.input(INPUT_NAME, ['N', ...inputShape]);
  let t = b.conv(x, 'patch_embed.proj', { stride: spec.patchSize }); // [N, D, gh, gw]
  t = b.node('Reshape', [t, b.int64('flatten_patches', [0, spec.width, -1])], {}, 'patch_embed');
  t = b.node('Transpose', [t], { perm: attr.ints([0, 2, 1]) }, 'patch_embed'); // [N, P, D]
  // The op table has no Expand: broadcast the class token to the batch by adding it to zeros
  // shaped like one patch token.
  const first = b.node('Slice', [t, b.int64('start', [0]), b.int64('end', [1]), b.int64('axis', [1])], {}, 'cls_token');
  const zeros = b.node('Mul', [first, b.float('zero', [0], [])], {}, 'cls_token');
  const cls = b.node('Add', [zeros, b.param('cls_token', [1, 1, spec.width])], {}, 'cls_token');
  t = b.node('Concat', [cls, t], { axis: attr.int(1) }, 'cls_token');
  t = b.node('Add', [t, b.param('pos_embed')], {}, 'pos_embed');
  const layers: string[] = [];
  for (let i = 0; i < spec.depth; i++) {
    const p = `blocks.${i}`;
    t = b.add(t, attention(b, b.layerNorm(t, `${p}.norm1`, LAYER_NORM_EPS), `${p}.attn`, spec), p);
    let m = b.linearNd(b.layerNorm(t, `${p}.norm2`, LAYER_NORM_EPS), `${p}.mlp.fc1`);
    m = b.linearNd(gelu(b, m, `${p}.mlp`), `${p}.mlp.fc2`);
    t = b.tap(p, b.add(t, m, p));
    layers.push(p);
  }
  t = b.layerNorm(t, 'norm', LAYER_NORM_EPS);
  const index0 = b.constant('index0', makeTensor('int64', [], BigInt64Array.of(0n)));
  const pooled = b.tap('penultimate', b.node('Gather', [t, index0], { axis: attr.int(1) }, 'cls_pool'));
  const logits = b.tap('logits', b.linear(pooled, 'head'));
  layers.push('penultimate', 'logits');
  return {
    graph: b.build([{ name: logits, shape: ['N', spec.numClasses] }]),
    arch: spec,
    inputShape,
    headParams: ['head.weight', 'head.bias'],
    layers,
  };
}
