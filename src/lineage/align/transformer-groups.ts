/**
 * Unit groups of transformer blocks, found by canonical (llama.cpp) keys, so Hugging Face Llama,
 * Meta, GPT-2, BERT, ViT and GGUF names all meet the same roles:
 *   feed-forward units: rows of ffn_up (and ffn_gate, and their biases) with columns of ffn_down;
 *   attention heads:    blocks of head_dim rows of attn_q, attn_k, attn_v (and biases) with the
 *                       matching column blocks of attn_output; with fewer key/value heads, the
 *                       key/value heads form an outer set (types.ts UnitGroup.outer).
 * GPT-2's fused attn_qkv is not split into heads. The residual stream is never permuted.
 */
import type { HeadCounts, ModelNaming } from '../weights/model-naming.js';
import { orientationOf } from '../weights/model-naming.js';
import type { TensorPair } from '../weights/types.js';
import { layoutShape } from './layout.js';
import type { UnitGroup, UnitMember } from './types.js';

export interface PairNaming {
  a: ModelNaming;
  b: ModelNaming;
}

interface Role {
  weight?: TensorPair;
  bias?: TensorPair;
}

type Layer = Map<string, Role>;

const BLOCK_KEY = /^((?:v\.)?blk\.\d+)\.([a-z_]+)\.(weight|bias)$/;

/** Pairs by layer ('blk.3') and role ('ffn_up'), from a's canonical keys or else b's. */
function layers(pairs: readonly TensorPair[], naming: PairNaming): Map<string, Layer> {
  const out = new Map<string, Layer>();
  for (const pair of pairs) {
    if (pair.transform.kind === 'shared-rows') continue;
    const key = naming.a.keys.get(pair.a.name) ?? naming.b.keys.get(pair.b.name);
    const m = key === undefined ? null : BLOCK_KEY.exec(key);
    if (m === null) continue;
    const layer = out.get(m[1]) ?? new Map<string, Role>();
    out.set(m[1], layer);
    const role = layer.get(m[2]) ?? {};
    layer.set(m[2], role);
    if (m[3] === 'weight' && pair.a.shape.length === 2) role.weight = pair;
    if (m[3] === 'bias' && pair.a.shape.length === 1) role.bias = pair;
  }
  return out;
}

/** The axis holding a producer's outputs (or, `consumer`, a consumer's inputs) in the layout: rows for [out, in] weights. */
function unitAxis(pair: TensorPair, naming: PairNaming, consumer: boolean): 0 | 1 {
  const outIn = orientationOf(naming.a, pair.a.name) === 'out-in';
  return outIn !== consumer ? 0 : 1;
}

function axisSize(pair: TensorPair, axis: 0 | 1): number {
  const { rows, cols } = layoutShape(pair);
  return axis === 0 ? rows : cols;
}

/** Members for a role's weight (and its bias, when a producer), or undefined when its size along the unit axis is not `size`. */
function roleMembers(role: Role | undefined, naming: PairNaming, consumer: boolean, size: number, block: number): UnitMember[] | undefined {
  if (role?.weight === undefined) return undefined;
  const axis = unitAxis(role.weight, naming, consumer);
  if (axisSize(role.weight, axis) !== size) return undefined;
  const members: UnitMember[] = [{ name: role.weight.b.name, axis, block }];
  if (!consumer && role.bias !== undefined && role.bias.a.shape[0] === size) members.push({ name: role.bias.b.name, axis: 0, block });
  return members;
}

function ffnGroup(name: string, layer: Layer, naming: PairNaming): UnitGroup | undefined {
  const up = layer.get('ffn_up')?.weight;
  if (up === undefined) return undefined;
  const units = axisSize(up, unitAxis(up, naming, false));
  const parts = [roleMembers(layer.get('ffn_up'), naming, false, units, 1), roleMembers(layer.get('ffn_down'), naming, true, units, 1)];
  const gate = layer.has('ffn_gate') ? roleMembers(layer.get('ffn_gate'), naming, false, units, 1) : [];
  if (parts.some((p) => p === undefined) || gate === undefined) return undefined;
  return { label: `${name}.ffn`, units, members: [...parts[0]!, ...gate, ...parts[1]!] };
}

function attentionGroup(name: string, layer: Layer, naming: PairNaming, heads: HeadCounts): UnitGroup | undefined {
  const q = layer.get('attn_q')?.weight;
  if (q === undefined || heads.q % heads.kv !== 0) return undefined;
  const qSize = axisSize(q, unitAxis(q, naming, false));
  const headDim = qSize / heads.q;
  if (!Number.isInteger(headDim)) return undefined;
  const kvSize = heads.kv * headDim;
  const qs = roleMembers(layer.get('attn_q'), naming, false, qSize, headDim);
  const os = roleMembers(layer.get('attn_output'), naming, true, qSize, headDim);
  const ks = roleMembers(layer.get('attn_k'), naming, false, kvSize, headDim);
  const vs = roleMembers(layer.get('attn_v'), naming, false, kvSize, headDim);
  if (qs === undefined || os === undefined || ks === undefined || vs === undefined) return undefined;
  const label = `${name}.attn heads`;
  if (heads.kv === heads.q) return { label, units: heads.q, members: [...qs, ...ks, ...vs, ...os] };
  return { label, units: heads.q, members: [...qs, ...os], outer: { label: `${name}.attn kv heads`, units: heads.kv, members: [...ks, ...vs] } };
}

function layerOrder(x: string, y: string): number {
  const n = (s: string) => Number(/\d+/.exec(s)?.[0] ?? 0);
  return x.startsWith('v.') === y.startsWith('v.') ? n(x) - n(y) : x.startsWith('v.') ? 1 : -1;
}

/** Feed-forward and attention-head groups of every transformer block the pairs cover; heads only when the head counts are known. */
export function transformerGroups(pairs: readonly TensorPair[], naming: PairNaming): UnitGroup[] {
  const heads = naming.a.heads ?? naming.b.heads;
  const groups: UnitGroup[] = [];
  for (const [name, layer] of [...layers(pairs, naming)].sort(([x], [y]) => layerOrder(x, y))) {
    const attention = heads === undefined ? undefined : attentionGroup(name, layer, naming, heads);
    if (attention !== undefined) groups.push(attention);
    const ffn = ffnGroup(name, layer, naming);
    if (ffn !== undefined) groups.push(ffn);
  }
  return groups;
}
