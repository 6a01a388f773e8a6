/**
 * Pairs the tensors of two models whatever their naming. Pairs are proposed in rounds, each on
 * what the earlier rounds left: the same name; the same llama.cpp name (naming.ts); for generated
 * ONNX initializer names (`onnx::MatMul_123`), the first remaining tensor of the other model, in
 * file order, with the same or the transposed shape; then a tied LM head against the other
 * model's embedding. Every tensor ends up in a pair, in `excluded` with a reason, or in
 * `unmatched`: none is dropped silently.
 */
import type { ModelSource, SourceTensor } from '../../source/types.js';
import { DEFAULT_BLOCK_BYTES } from './blocks.js';
import { type ModelNaming, describeNaming, isGeneratedName } from './model-naming.js';
import { elementCount, nonParameterReason } from './parameters.js';
import { type Proposal, resolveProposal } from './resolve.js';
import { type HeadTie, headTie } from './ties.js';
import type { ExcludedTensor, TensorMatching, TensorPair } from './types.js';

export interface MatchOptions {
  /** Bytes of float32 read at a time when checking whether an LM head is a copy of the embedding. */
  blockBytes?: number;
}

interface Side {
  source: ModelSource;
  naming: ModelNaming;
  tie: HeadTie;
  /** Parameters not yet paired, in file order. */
  remaining: Map<string, SourceTensor>;
}

/** Why each tensor of `side` is not a parameter to compare: buffers, integer tensors and a tied head's stored copy. */
function asideReasons(side: Side): Map<string, string> {
  const out = new Map<string, string>();
  for (const t of side.source.tensors) {
    const reason = nonParameterReason(t);
    if (reason !== undefined) out.set(t.name, reason);
  }
  const { tie } = side;
  if (tie.tied && tie.head !== undefined && tie.embedding !== undefined)
    out.set(tie.head.name, `tied to ${tie.embedding.name}: compared once, as the embedding`);
  return out;
}

/** Sets aside what is not a parameter, one excluded entry per name (both sides when both have it). */
function setAside(a: Side, b: Side, excluded: ExcludedTensor[]): void {
  const ra = asideReasons(a);
  const rb = asideReasons(b);
  for (const name of ra.keys()) a.remaining.delete(name);
  for (const name of rb.keys()) b.remaining.delete(name);
  for (const [name, reason] of ra) excluded.push({ aName: name, bName: rb.has(name) ? name : null, reason });
  for (const [name, reason] of rb) if (!ra.has(name)) excluded.push({ aName: null, bName: name, reason });
}

function propose(proposals: Proposal[], a: Side, b: Side, ta: SourceTensor, tb: SourceTensor, by: Proposal['by']): void {
  proposals.push({ a: ta, b: tb, by });
  a.remaining.delete(ta.name);
  b.remaining.delete(tb.name);
}

function byName(proposals: Proposal[], a: Side, b: Side): void {
  for (const ta of [...a.remaining.values()]) {
    const tb = b.remaining.get(ta.name);
    if (tb !== undefined) propose(proposals, a, b, ta, tb, 'name');
  }
}

function byCanonicalKey(proposals: Proposal[], a: Side, b: Side): void {
  const bByKey = new Map<string, SourceTensor>();
  for (const tb of b.remaining.values()) {
    const key = b.naming.keys.get(tb.name);
    if (key !== undefined && !bByKey.has(key)) bByKey.set(key, tb);
  }
  for (const ta of [...a.remaining.values()]) {
    const key = a.naming.keys.get(ta.name);
    const tb = key === undefined ? undefined : bByKey.get(key);
    if (tb === undefined || !b.remaining.has(tb.name)) continue;
    propose(proposals, a, b, ta, tb, 'canonical');
  }
}

function untiedHead(side: Side): SourceTensor | undefined {
  const { head, tied } = side.tie;
  return head !== undefined && !tied && side.remaining.has(head.name) ? head : undefined;
}

/** A model whose head is its embedding meets an untied head on the other side with that embedding. */
function byTiedHead(proposals: Proposal[], a: Side, b: Side): void {
  const headB = untiedHead(b);
  if (a.tie.tied && a.tie.embedding !== undefined && headB !== undefined) {
    proposals.push({ a: a.tie.embedding, b: headB, by: 'tied-head' });
    b.remaining.delete(headB.name);
  }
  const headA = untiedHead(a);
  if (b.tie.tied && b.tie.embedding !== undefined && headA !== undefined) {
    proposals.push({ a: headA, b: b.tie.embedding, by: 'tied-head' });
    a.remaining.delete(headA.name);
  }
}

function compatibleShapes(x: readonly number[], y: readonly number[]): boolean {
  if (x.length === y.length && x.every((d, i) => d === y[i])) return true;
  return x.length === 2 && y.length === 2 && x[0] === y[1] && x[1] === y[0];
}

/** Generated names carry no meaning: each takes the first remaining tensor of the other model whose shape fits. */
function byPosition(proposals: Proposal[], a: Side, b: Side): void {
  for (const ta of [...a.remaining.values()]) {
    if (!isGeneratedName(ta.name)) continue;
    const tb = [...b.remaining.values()].find((t) => compatibleShapes(ta.shape, t.shape));
    if (tb !== undefined) propose(proposals, a, b, ta, tb, 'position');
  }
  for (const tb of [...b.remaining.values()]) {
    if (!isGeneratedName(tb.name)) continue;
    const ta = [...a.remaining.values()].find((t) => compatibleShapes(t.shape, tb.shape));
    if (ta !== undefined) propose(proposals, a, b, ta, tb, 'position');
  }
}

async function describeSide(source: ModelSource, blockBytes: number): Promise<Side> {
  const naming = describeNaming(source);
  const tie = await headTie(source, naming, blockBytes);
  return { source, naming, tie, remaining: new Map(source.tensors.map((t) => [t.name, t])) };
}

function parameterTotal(side: Side): number {
  const aside = asideReasons(side);
  let total = 0;
  for (const t of side.source.tensors) if (!aside.has(t.name)) total += elementCount(t.shape);
  return total;
}

/** Pairs a's tensors with b's (a: the candidate parent). */
export async function matchTensors(a: ModelSource, b: ModelSource, options: MatchOptions = {}): Promise<TensorMatching> {
  const blockBytes = options.blockBytes ?? DEFAULT_BLOCK_BYTES;
  const sa = await describeSide(a, blockBytes);
  const sb = await describeSide(b, blockBytes);
  const excluded: ExcludedTensor[] = [];
  setAside(sa, sb, excluded);
  const proposals: Proposal[] = [];
  byName(proposals, sa, sb);
  byCanonicalKey(proposals, sa, sb);
  // Position before tied heads: a head exported under a generated name is not a missing head.
  byPosition(proposals, sa, sb);
  byTiedHead(proposals, sa, sb);
  const order = new Map(a.tensors.map((t, i) => [t.name, i]));
  proposals.sort((p, q) => (order.get(p.a.name) ?? 0) - (order.get(q.a.name) ?? 0));
  const pairs: TensorPair[] = [];
  for (const p of proposals) {
    const resolved = resolveProposal(p, sa.naming, sb.naming);
    if ('transform' in resolved) pairs.push(resolved);
    else excluded.push(resolved);
  }
  const unmatched = [
    ...[...sa.remaining.keys()].map((name) => ({ name, side: 'a' as const })),
    ...[...sb.remaining.keys()].map((name) => ({ name, side: 'b' as const })),
  ];
  return {
    pairs,
    excluded,
    unmatched,
    totalParameters: { a: parameterTotal(sa), b: parameterTotal(sb) },
    families: { a: sa.naming.family ?? null, b: sb.naming.family ?? null },
  };
}
