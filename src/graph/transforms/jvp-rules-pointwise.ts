/** Forward-mode rules of the element-wise arithmetic and activation operators (and Softmax). */
import type { OpType } from '../ops.js';
import { attr, intAttr } from '../ir.js';
import type { JvpRule } from './jvp-rule.js';

const addOrSub: JvpRule = ({ e, node, tan, dx }) => {
  const db = tan(node.inputs[1]);
  const y = node.outputs[0];
  if (dx === null && db === null) return [null];
  if (dx !== null && db !== null) return [e.one(node.op, [dx, db])];
  if (dx !== null) return [e.expandLike(dx, y)];
  const b = e.expandLike(db as string, y);
  return [node.op === 'Sub' ? e.one('Neg', [b]) : b];
};

const mul: JvpRule = ({ e, node, tan, dx }) => {
  const [x, b] = node.inputs;
  const db = tan(b);
  return [e.add(dx === null ? null : e.one('Mul', [dx, b]), db === null ? null : e.one('Mul', [x, db]))];
};

const div: JvpRule = ({ e, node, tan, dx }) => {
  // d(a/b) = (da - y db) / b
  const b = node.inputs[1];
  const y = node.outputs[0];
  const db = tan(b);
  if (dx === null && db === null) return [null];
  const numerator = db === null ? e.expandLike(dx as string, y) : e.one('Sub', [dx ?? e.zerosLike(y), e.one('Mul', [y, db])]);
  return [e.one('Div', [numerator, b])];
};

const pow: JvpRule = ({ e, node, tan, dx }) => {
  const [x, exponent] = node.inputs;
  if (tan(exponent) !== null) throw new Error(`node ${node.name}: tangents through a Pow exponent are not supported`);
  if (dx === null) return [null];
  const scale = e.one('Mul', [exponent, e.one('Pow', [x, e.one('Sub', [exponent, e.scalar(1)])])]);
  return [e.one('Mul', [dx, scale])];
};

const sqrt: JvpRule = ({ e, node, dx }) => [dx === null ? null : e.one('Div', [dx, e.one('Mul', [node.outputs[0], e.scalar(2)])])];

const exp: JvpRule = ({ e, node, dx }) => [dx === null ? null : e.one('Mul', [dx, node.outputs[0]])];

const relu: JvpRule = ({ e, node, dx }) => {
  if (dx === null) return [null];
  const positive = e.one('Cast', [e.one('Greater', [node.inputs[0], e.scalar(0)])], { to: attr.int(1) });
  return [e.one('Mul', [dx, positive])];
};

const sigmoid: JvpRule = ({ e, node, dx }) => {
  const y = node.outputs[0];
  return [dx === null ? null : e.one('Mul', [dx, e.one('Mul', [y, e.one('Sub', [e.scalar(1), y])])])];
};

const tanh: JvpRule = ({ e, node, dx }) => {
  const y = node.outputs[0];
  return [dx === null ? null : e.one('Mul', [dx, e.one('Sub', [e.scalar(1), e.one('Mul', [y, y])])])];
};

const erf: JvpRule = ({ e, node, dx }) => {
  if (dx === null) return [null];
  const x = node.inputs[0];
  const gauss = e.one('Exp', [e.one('Neg', [e.one('Mul', [x, x])])]);
  return [e.one('Mul', [dx, e.one('Mul', [gauss, e.scalar(2 / Math.sqrt(Math.PI))])])];
};

const gelu: JvpRule = ({ e, node, dx }) => {
  if (dx === null) return [null];
  if ((node.attributes.approximate as { value?: string } | undefined)?.value === 'tanh') {
    throw new Error(`node ${node.name}: tanh-approximated Gelu is not supported by the JVP transform`);
  }
  // d/dx x*Phi(x) = Phi(x) + x*phi(x)
  const x = node.inputs[0];
  const cdf = e.one('Mul', [e.one('Add', [e.one('Erf', [e.one('Mul', [x, e.scalar(Math.SQRT1_2)])]), e.scalar(1)]), e.scalar(0.5)]);
  const pdf = e.one('Mul', [e.one('Exp', [e.one('Mul', [e.one('Mul', [x, x]), e.scalar(-0.5)])]), e.scalar(1 / Math.sqrt(2 * Math.PI))]);
  return [e.one('Mul', [dx, e.one('Add', [cdf, e.one('Mul', [x, pdf])])])];
};

const softmax: JvpRule = ({ e, node, dx }) => {
  if (dx === null) return [null];
  const y = node.outputs[0];
  const axis = intAttr(node, 'axis', -1);
  const weighted = e.one('Mul', [y, dx]);
  const sum = e.one('ReduceSum', [weighted, e.ints([axis])], { keepdims: attr.int(1) });
  return [e.one('Mul', [y, e.one('Sub', [dx, sum])])];
};

export const POINTWISE_JVP_RULES = {
  Add: addOrSub,
  Sub: addOrSub,
  Mul: mul,
  Div: div,
  Pow: pow,
  Sqrt: sqrt,
  Exp: exp,
  Relu: relu,
  Sigmoid: sigmoid,
  Tanh: tanh,
  Erf: erf,
  Gelu: gelu,
  Softmax: softmax,
} satisfies Partial<Record<OpType, JvpRule>>;
