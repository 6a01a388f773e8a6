/**
 * Given two tensors proposed as the same parameter, decides how to compare them (the transform)
 * or why they cannot be compared. Shapes decide first; names decide what shapes cannot (a square
 * Conv1D weight, the row order of rotary Q/K projections).
 */
import type { SourceTensor } from '../../source/types.js';
import { type ModelNaming, orientationOf } from './model-naming.js';
import { isRowExtensible, ropePermutedRole } from './naming.js';
import { elementCount } from './parameters.js';
import type { ExcludedTensor, PairedBy, TensorPair, TensorTransform } from './types.js';

export interface Proposal {
  a: SourceTensor;
  b: SourceTensor;
  by: PairedBy;
}

function shapeText(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

function sameShape(x: readonly number[], y: readonly number[]): boolean {
  return x.length === y.length && x.every((d, i) => d === y[i]);
}

function isTransposeOf(x: readonly number[], y: readonly number[]): boolean {
  return x.length === 2 && y.length === 2 && x[0] === y[1] && x[1] === y[0];
}

/** The rotary unpermute a Q/K pair needs, undefined when both sides use the same row order, or why it cannot be done. */
function ropeTransform(p: Proposal, key: string | undefined, na: ModelNaming, nb: ModelNaming): TensorTransform | string | undefined {
  const role = ropePermutedRole(key);
  if (role === undefined || na.ropeLayout === nb.ropeLayout) return undefined;
  const side = na.ropeLayout === 'interleaved' ? 'a' : 'b';
  const counts = (side === 'a' ? na.heads : nb.heads) ?? (side === 'a' ? nb.heads : na.heads);
  if (counts === undefined) {
    return 'rotary Q/K rows are in llama.cpp order and the head count is unknown (no <arch>.attention.head_count in the GGUF metadata, no num_attention_heads in config.json)';
  }
  const heads = role === 'q' ? counts.q : counts.kv;
  const rows = p.a.shape[0];
  if (rows % (2 * heads) !== 0) return `rotary Q/K rows (${rows}) are not a multiple of 2 x ${heads} heads`;
  return { kind: 'rope-unpermute', side, heads };
}

/** The transform for tensors of the same shape: identity, a square transpose, or a rotary unpermute. */
function sameShapeTransform(p: Proposal, key: string | undefined, na: ModelNaming, nb: ModelNaming): TensorTransform | string {
  // Only a square matrix can hide a transpose behind equal shapes; otherwise the shapes have said it all.
  const square = p.a.shape.length === 2 && p.a.shape[0] === p.a.shape[1];
  const transposed = square && orientationOf(na, p.a.name) !== orientationOf(nb, p.b.name);
  const rope = ropeTransform(p, key, na, nb);
  if (transposed && rope !== undefined) return 'needs both a transpose and a rotary row unpermute, which is not supported';
  if (transposed) return { kind: 'transpose' };
  return rope ?? { kind: 'identity' };
}

function transformFor(p: Proposal, na: ModelNaming, nb: ModelNaming): TensorTransform | string {
  const key = na.keys.get(p.a.name) ?? nb.keys.get(p.b.name);
  const { shape: sa } = p.a;
  const { shape: sb } = p.b;
  if (sameShape(sa, sb)) return sameShapeTransform(p, key, na, nb);
  if (isTransposeOf(sa, sb)) {
    return ropePermutedRole(key) !== undefined && na.ropeLayout !== nb.ropeLayout
      ? 'needs both a transpose and a rotary row unpermute, which is not supported'
      : { kind: 'transpose' };
  }
  if (sa.length === 2 && sb.length === 2 && sa[1] === sb[1] && isRowExtensible(key)) return { kind: 'shared-rows', rows: Math.min(sa[0], sb[0]) };
  return `shapes differ: ${shapeText(sa)} vs ${shapeText(sb)}`;
}

/** A comparable pair, or the exclusion that says why the two tensors cannot be compared. */
export function resolveProposal(p: Proposal, na: ModelNaming, nb: ModelNaming): TensorPair | ExcludedTensor {
  const transform = transformFor(p, na, nb);
  if (typeof transform === 'string') return { aName: p.a.name, bName: p.b.name, reason: transform };
  const elements = transform.kind === 'shared-rows' ? transform.rows * p.a.shape[1] : elementCount(p.a.shape);
  return { a: p.a, b: p.b, by: p.by, transform, elements };
}
