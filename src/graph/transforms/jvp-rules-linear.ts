/**
 * Forward-mode rules of the bilinear operators (MatMul, Gemm, Conv, ConvTranspose): the tangent is
 * the op applied to (dx, w) plus the op applied to (x, dw), with the bias tangent added once.
 */
import type { OpType } from '../ops.js';
import { floatAttr } from '../ir.js';
import type { JvpRule } from './jvp-rule.js';

/** The optional bias input when it carries a tangent, else nothing. */
function optional(bias: string | null): string[] {
  return bias === null ? [] : [bias];
}

const matMul: JvpRule = ({ e, node, tan, dx }) => {
  const [x, w] = node.inputs;
  const dw = tan(w);
  return [e.add(dx === null ? null : e.one('MatMul', [dx, w]), dw === null ? null : e.one('MatMul', [x, dw]))];
};

const gemm: JvpRule = ({ e, node, tan, dx }) => {
  const [x, w, c] = node.inputs;
  const dw = tan(w);
  const dc = c ? tan(c) : null;
  let t: string | null = null;
  if (dx !== null) t = e.one('Gemm', [dx, w, ...optional(dc)], node.attributes);
  if (dw !== null) t = e.add(t, e.one('Gemm', [x, dw, ...optional(t === null ? dc : null)], node.attributes));
  if (t === null && dc !== null) {
    const beta = floatAttr(node, 'beta', 1);
    t = e.expandLike(beta === 1 ? dc : e.one('Mul', [dc, e.scalar(beta)]), node.outputs[0]);
  }
  return [t];
};

const conv: JvpRule = ({ e, node, tan, dx }) => {
  const [x, w, b] = node.inputs;
  const dw = tan(w);
  const db = b ? tan(b) : null;
  let t: string | null = null;
  if (dx !== null) t = e.one(node.op, [dx, w, ...optional(db)], node.attributes);
  if (dw !== null) t = e.add(t, e.one(node.op, [x, dw, ...optional(t === null ? db : null)], node.attributes));
  if (t === null && db !== null) t = e.expandLike(e.one('Reshape', [db, e.ints([1, -1, 1, 1])]), node.outputs[0]);
  return [t];
};

export const LINEAR_JVP_RULES = {
  MatMul: matMul,
  Gemm: gemm,
  Conv: conv,
  ConvTranspose: conv,
} satisfies Partial<Record<OpType, JvpRule>>;
