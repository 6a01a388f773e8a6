/**
 * Forward-mode rules of the operators that move, select, pool or combine values without
 * arithmetic between them, and of those whose outputs never carry a tangent.
 */
import type { OpType } from '../ops.js';
import { attr, intAttr } from '../ir.js';
import { type JvpRule, noTangents } from './jvp-rule.js';

/** The op is linear in its first input and its other inputs are not differentiated: apply it to dx. */
const linearInFirst: JvpRule = ({ e, node, dx }) => (dx === null ? [null] : [e.one(node.op, [dx, ...node.inputs.slice(1)], node.attributes)]);

const nonDifferentiable: JvpRule = ({ node }) => noTangents(node);

/** ONNX element types float, float16, double and bfloat16: only casts to these keep a tangent. */
const FLOAT_TYPES = new Set([1, 10, 11, 16]);

const cast: JvpRule = ({ e, node, dx }) => [dx !== null && FLOAT_TYPES.has(intAttr(node, 'to', 1)) ? e.one('Cast', [dx], node.attributes) : null];

// Inference-mode Dropout is the identity; its mask output carries no tangent.
const dropout: JvpRule = ({ dx }) => [dx, null];

const pad: JvpRule = ({ e, node, dx }) => {
  // The padding constant (third input) is not moved by the tangent: pad the tangent with zeros.
  if (dx === null) return [null];
  const rest = node.inputs.slice(1);
  if (rest.length >= 2) rest[1] = '';
  while (rest.length > 0 && rest[rest.length - 1] === '') rest.pop();
  return [e.one('Pad', [dx, ...rest], node.attributes)];
};

const split: JvpRule = ({ e, node, dx }) => {
  if (dx === null) return noTangents(node);
  return e.node('Split', [dx, ...node.inputs.slice(1)], node.attributes, node.outputs.length);
};

const where: JvpRule = ({ e, node, tan }) => {
  const [condition, a, b] = node.inputs;
  const da = tan(a);
  const db = tan(b);
  if (da === null && db === null) return [null];
  return [e.one('Where', [condition, da ?? e.zerosLike(a), db ?? e.zerosLike(b)])];
};

const concat: JvpRule = ({ e, node, tan }) => {
  const ts = node.inputs.map(tan);
  if (ts.every((t) => t === null)) return [null];
  return [
    e.one(
      'Concat',
      node.inputs.map((v, i) => ts[i] ?? e.zerosLike(v)),
      node.attributes,
    ),
  ];
};

const maxPool: JvpRule = ({ e, node, dx }) => {
  if (dx === null) return noTangents(node);
  // The tangent follows the arg-max: pick dX at the flat indices MaxPool reports.
  const [, indices] = e.node('MaxPool', [node.inputs[0]], node.attributes, 2);
  const flat = e.one('Reshape', [dx, e.ints([-1])]);
  return [e.one('Gather', [flat, indices], { axis: attr.int(0) }), ...node.outputs.slice(1).map(() => null)];
};

export const STRUCTURAL_JVP_RULES = {
  Identity: linearInFirst,
  Flatten: linearInFirst,
  Reshape: linearInFirst,
  Transpose: linearInFirst,
  Squeeze: linearInFirst,
  Unsqueeze: linearInFirst,
  Slice: linearInFirst,
  Gather: linearInFirst,
  AveragePool: linearInFirst,
  GlobalAveragePool: linearInFirst,
  ReduceMean: linearInFirst,
  Resize: linearInFirst,
  Neg: linearInFirst,
  Expand: linearInFirst,
  Shape: nonDifferentiable,
  Constant: nonDifferentiable,
  ConstantOfShape: nonDifferentiable,
  Equal: nonDifferentiable,
  Cast: cast,
  Dropout: dropout,
  Pad: pad,
  Split: split,
  Where: where,
  Concat: concat,
  MaxPool: maxPool,
} satisfies Partial<Record<OpType, JvpRule>>;
