/**
 * Which tensors two models share, and why a candidate cannot be a parent: a candidate must have
 * every compared parameter of the child, with the same shape (the head is excluded since
 * fine-tuning usually replaces it).
 */
import type { Tensor } from '../tensor.js';
import { isBufferName } from '../base/naming.js';

export type Compatibility = { ok: true } | { ok: false; reason: string };

export function checkCompatible(child: ReadonlyMap<string, Tensor>, candidate: ReadonlyMap<string, Tensor>, compared: readonly string[]): Compatibility {
  for (const name of compared) {
    const c = child.get(name);
    const p = candidate.get(name);
    if (!c) return { ok: false, reason: `child lacks tensor ${name}` };
    if (!p) return { ok: false, reason: `candidate lacks tensor ${name}` };
    if (c.shape.length !== p.shape.length || c.shape.some((d, i) => d !== p.shape[i])) {
      return { ok: false, reason: `tensor ${name} has shape [${p.shape.join(',')}] in the candidate, [${c.shape.join(',')}] in the child` };
    }
  }
  return { ok: true };
}

/** Trainable parameters (no BatchNorm buffers, no head) in the child's order. */
export function comparedParameters(child: ReadonlyMap<string, Tensor>, head: readonly string[]): string[] {
  const headSet = new Set(head);
  return [...child.keys()].filter((k) => !headSet.has(k) && !isBufferName(k) && isFloating(child.get(k) as Tensor));
}

function isFloating(t: Tensor): boolean {
  return t.dtype === 'float32' || t.dtype === 'float16' || t.dtype === 'bfloat16' || t.dtype === 'float64';
}

/** True when any value of the listed tensors is NaN or infinite. */
export function hasNonFinite(weights: ReadonlyMap<string, Tensor>, names: readonly string[]): string | undefined {
  for (const name of names) {
    const t = weights.get(name);
    if (!t || !isFloating(t)) continue;
    const data = t.data as ArrayLike<number>;
    if (t.dtype === 'float32' || t.dtype === 'float64') {
      for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) return name;
    }
  }
  return undefined;
}

/**
 * Why two models cannot be compared tensor by tensor because one of them is an ONNX export with
 * BatchNorm folded into its convolutions (eval-mode torch.onnx.export with constant folding: new
 * `onnx::Conv_N` weights and biases, no BatchNormalization node) while the other keeps BatchNorm
 * tensors; undefined otherwise. Asked only once the tensors are found incompatible.
 */
export function foldedBatchNormReason(child: FoldableModel, candidate: FoldableModel): string | undefined {
  let folded: 'child' | 'candidate';
  if (looksFolded(candidate) && hasBatchNormTensors(child.weights)) folded = 'candidate';
  else if (looksFolded(child) && hasBatchNormTensors(candidate.weights)) folded = 'child';
  else return undefined;
  const other = folded === 'child' ? 'candidate' : 'child';
  return (
    `BatchNorm folded into convolutions in the ${folded} (its ONNX graph has Conv nodes and no BatchNormalization, the ${other} has BatchNorm tensors): ` +
    'a different parametrisation, not comparable tensor by tensor; export with training=TrainingMode.PRESERVE and do_constant_folding=False to keep BatchNorm'
  );
}

/** What foldedBatchNormReason looks at: the weights and, for ONNX files, the operators of the graph. */
export interface FoldableModel {
  weights: ReadonlyMap<string, Tensor>;
  graph?: { nodes: readonly { op: string }[] };
}

function hasBatchNormTensors(weights: ReadonlyMap<string, Tensor>): boolean {
  for (const name of weights.keys()) if (/(^|\.)running_(mean|var)$/.test(name)) return true;
  return false;
}

function looksFolded(model: FoldableModel): boolean {
  if (!model.graph) return false;
  const ops = new Set(model.graph.nodes.map((n) => n.op));
  return ops.has('Conv') && !ops.has('BatchNormalization') && !hasBatchNormTensors(model.weights);
}
