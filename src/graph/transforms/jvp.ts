/**
 * Forward-mode differentiation as a graph transform.
 *
 * Given a graph, a value to differentiate and the parameters that move, the result computes the
 * value F and its tangent T = J Delta in one pass: every node gets a companion that propagates
 * the tangent, and each moving parameter p gets a graph input `tangent:p` that receives Delta_p.
 * No activation is stored, so memory stays at inference level (the paper's reverse-mode form
 * keeps every activation for the backward pass).
 *
 * Tangents that are identically zero are tracked as `null` and never materialised.
 */
import { makeTensor } from '../../tensor.js';
import { type Attribute, type Graph, type GraphNode, attr, floatAttr, intAttr, cloneGraph, truncateGraph } from '../ir.js';

export const TANGENT_PREFIX = 'tangent:';

export interface JvpGraph {
  graph: Graph;
  /** The primal value (features). */
  output: string;
  /** Its tangent. */
  tangent: string;
  /** Parameter name -> the graph input that receives its tangent. */
  tangentInputs: Map<string, string>;
}

class Emitter {
  private counter = 0;
  readonly nodes: GraphNode[] = [];
  readonly graph: Graph;

  constructor(graph: Graph) {
    this.graph = graph;
  }

  node(op: string, inputs: readonly string[], attributes: Record<string, Attribute> = {}, outputs = 1): string[] {
    const id = this.counter++;
    const names = Array.from({ length: outputs }, (_, i) => `jvp/${op}:${id}${i ? `:${i}` : ''}`);
    this.nodes.push({ name: `jvp/${op}#${id}`, op, inputs: [...inputs], outputs: names, attributes });
    return names;
  }

  one(op: string, inputs: readonly string[], attributes: Record<string, Attribute> = {}): string {
    return this.node(op, inputs, attributes)[0];
  }

  scalar(value: number): string {
    const name = `jvp/const:${this.counter++}`;
    this.graph.initializers.set(name, makeTensor('float32', [], Float32Array.from([value])));
    return name;
  }

  ints(values: readonly number[]): string {
    const name = `jvp/ints:${this.counter++}`;
    this.graph.initializers.set(name, makeTensor('int64', [values.length], BigInt64Array.from(values.map(BigInt))));
    return name;
  }

  add(a: string | null, b: string | null): string | null {
    if (a === null) return b;
    if (b === null) return a;
    return this.one('Add', [a, b]);
  }

  /** Broadcasts `t` to the shape of `like` (used when only a smaller operand carries a tangent). */
  expandLike(t: string, like: string): string {
    return this.one('Expand', [t, this.one('Shape', [like])]);
  }

  /** ReduceMean with keepdims; its axes moved from an attribute to an input in opset 18. */
  reduceMean(x: string, axes: readonly number[]): string {
    if (this.graph.opset >= 18) return this.one('ReduceMean', [x, this.ints(axes)], { keepdims: attr.int(1) });
    return this.one('ReduceMean', [x], { axes: attr.ints(axes), keepdims: attr.int(1) });
  }

  zerosLike(x: string): string {
    return this.one('ConstantOfShape', [this.one('Shape', [x])], { value: attr.tensor(makeTensor('float32', [1], new Float32Array(1))) });
  }

  onesLike(x: string): string {
    return this.one('ConstantOfShape', [this.one('Shape', [x])], { value: attr.tensor(makeTensor('float32', [1], Float32Array.from([1]))) });
  }
}

/** Ops that are linear in their first input and whose other inputs are not differentiated. */
const LINEAR_IN_FIRST = new Set([
  'Identity', 'Flatten', 'Reshape', 'Transpose', 'Squeeze', 'Unsqueeze', 'Slice', 'Gather',
  'AveragePool', 'GlobalAveragePool', 'ReduceMean', 'ReduceSum', 'Resize', 'Neg', 'Expand', 'Dropout',
]);

/** Ops whose outputs never carry a tangent. */
const NON_DIFFERENTIABLE = new Set(['Shape', 'Constant', 'ConstantOfShape', 'Greater', 'Less', 'Equal', 'ArgMax', 'Size']);

function differentiateNode(e: Emitter, node: GraphNode, tan: (v: string) => string | null): (string | null)[] {
  const [x, a1, a2, a3, a4] = node.inputs;
  const y = node.outputs[0];
  const dx = x ? tan(x) : null;
  const op = node.op;

  if (NON_DIFFERENTIABLE.has(op)) return node.outputs.map(() => null);
  if (op === 'Cast') {
    const to = intAttr(node, 'to', 1);
    return [dx !== null && (to === 1 || to === 10 || to === 11 || to === 16) ? e.one('Cast', [dx], node.attributes) : null];
  }
  if (LINEAR_IN_FIRST.has(op)) {
    if (op === 'Dropout') return [dx, null];
    if (dx === null) return [null];
    return [e.one(op, [dx, ...node.inputs.slice(1)], node.attributes)];
  }
  switch (op) {
    case 'Pad': {
      // The padding constant (third input) is not moved by the tangent: pad the tangent with zeros.
      if (dx === null) return [null];
      const rest = node.inputs.slice(1);
      if (rest.length >= 2) rest[1] = '';
      while (rest.length > 0 && rest[rest.length - 1] === '') rest.pop();
      return [e.one('Pad', [dx, ...rest], node.attributes)];
    }
    case 'Split': {
      if (dx === null) return node.outputs.map(() => null);
      return e.node('Split', [dx, ...node.inputs.slice(1)], node.attributes, node.outputs.length);
    }
    case 'Where': {
      const da = tan(a1);
      const db = tan(a2);
      if (da === null && db === null) return [null];
      return [e.one('Where', [x, da ?? e.zerosLike(a1), db ?? e.zerosLike(a2)])];
    }
    case 'Concat': {
      const ts = node.inputs.map(tan);
      if (ts.every((t) => t === null)) return [null];
      return [e.one('Concat', node.inputs.map((v, i) => ts[i] ?? e.zerosLike(v)), node.attributes)];
    }
    case 'Add':
    case 'Sub': {
      const db = tan(a1);
      if (dx === null && db === null) return [null];
      if (dx !== null && db !== null) return [e.one(op, [dx, db])];
      if (dx !== null) return [e.expandLike(dx, y)];
      const b = e.expandLike(db as string, y);
      return [op === 'Sub' ? e.one('Neg', [b]) : b];
    }
    case 'Mul': {
      const db = tan(a1);
      return [e.add(dx === null ? null : e.one('Mul', [dx, a1]), db === null ? null : e.one('Mul', [x, db]))];
    }
    case 'Div': {
      // d(a/b) = (da - y db) / b
      const db = tan(a1);
      if (dx === null && db === null) return [null];
      const numerator = db === null ? e.expandLike(dx as string, y) : e.one('Sub', [dx ?? e.zerosLike(y), e.one('Mul', [y, db])]);
      return [e.one('Div', [numerator, a1])];
    }
    case 'Pow': {
      if (tan(a1) !== null) throw new Error(`node ${node.name}: tangents through a Pow exponent are not supported`);
      if (dx === null) return [null];
      const scale = e.one('Mul', [a1, e.one('Pow', [x, e.one('Sub', [a1, e.scalar(1)])])]);
      return [e.one('Mul', [dx, scale])];
    }
    case 'Sqrt':
      return [dx === null ? null : e.one('Div', [dx, e.one('Mul', [y, e.scalar(2)])])];
    case 'Exp':
      return [dx === null ? null : e.one('Mul', [dx, y])];
    case 'Relu':
      return [dx === null ? null : e.one('Mul', [dx, e.one('Cast', [e.one('Greater', [x, e.scalar(0)])], { to: attr.int(1) })])];
    case 'Sigmoid':
      return [dx === null ? null : e.one('Mul', [dx, e.one('Mul', [y, e.one('Sub', [e.scalar(1), y])])])];
    case 'Tanh':
      return [dx === null ? null : e.one('Mul', [dx, e.one('Sub', [e.scalar(1), e.one('Mul', [y, y])])])];
    case 'Erf': {
      if (dx === null) return [null];
      const gauss = e.one('Exp', [e.one('Neg', [e.one('Mul', [x, x])])]);
      return [e.one('Mul', [dx, e.one('Mul', [gauss, e.scalar(2 / Math.sqrt(Math.PI))])])];
    }
    case 'Gelu': {
      if (dx === null) return [null];
      if ((node.attributes.approximate as { value?: string } | undefined)?.value === 'tanh') {
        throw new Error(`node ${node.name}: tanh-approximated Gelu is not supported by the JVP transform`);
      }
      // d/dx x*Phi(x) = Phi(x) + x*phi(x)
      const cdf = e.one('Mul', [e.one('Add', [e.one('Erf', [e.one('Mul', [x, e.scalar(Math.SQRT1_2)])]), e.scalar(1)]), e.scalar(0.5)]);
      const pdf = e.one('Mul', [e.one('Exp', [e.one('Mul', [e.one('Mul', [x, x]), e.scalar(-0.5)])]), e.scalar(1 / Math.sqrt(2 * Math.PI))]);
      return [e.one('Mul', [dx, e.one('Add', [cdf, e.one('Mul', [x, pdf])])])];
    }
    case 'Softmax': {
      if (dx === null) return [null];
      const axis = intAttr(node, 'axis', -1);
      const weighted = e.one('Mul', [y, dx]);
      const sum = e.one('ReduceSum', [weighted, e.ints([axis])], { keepdims: attr.int(1) });
      return [e.one('Mul', [y, e.one('Sub', [dx, sum])])];
    }
    case 'MatMul': {
      const db = tan(a1);
      return [e.add(dx === null ? null : e.one('MatMul', [dx, a1]), db === null ? null : e.one('MatMul', [x, db]))];
    }
    case 'Gemm': {
      const db = tan(a1);
      const dc = a2 ? tan(a2) : null;
      const withC = (c: string | null) => (c === null ? [] : [c]);
      let t: string | null = null;
      if (dx !== null) t = e.one('Gemm', [dx, a1, ...withC(dc)], node.attributes);
      if (db !== null) t = e.add(t, e.one('Gemm', [x, db, ...withC(t === null ? dc : null)], node.attributes));
      if (t === null && dc !== null) {
        const beta = floatAttr(node, 'beta', 1);
        t = e.expandLike(beta === 1 ? dc : e.one('Mul', [dc, e.scalar(beta)]), y);
      }
      return [t];
    }
    case 'Conv':
    case 'ConvTranspose': {
      const dw = tan(a1);
      const db = a2 ? tan(a2) : null;
      const withB = (b: string | null) => (b === null ? [] : [b]);
      let t: string | null = null;
      if (dx !== null) t = e.one(op, [dx, a1, ...withB(db)], node.attributes);
      if (dw !== null) t = e.add(t, e.one(op, [x, dw, ...withB(t === null ? db : null)], node.attributes));
      if (t === null && db !== null) t = e.expandLike(e.one('Reshape', [db, e.ints([1, -1, 1, 1])]), y);
      return [t];
    }
    case 'BatchNormalization': {
      if (intAttr(node, 'training_mode', 0) !== 0) throw new Error(`node ${node.name}: BatchNormalization in training mode is not supported`);
      // y = (x - mean) / sqrt(var + eps) * scale + bias. mean and var are buffers: they carry a
      // tangent only when the caller moves them (the child's running statistics as part of Delta).
      const dScale = tan(a1);
      const dBias = tan(a2);
      const dMean = tan(a3);
      const dVar = tan(a4);
      const eps = floatAttr(node, 'epsilon', 1e-5);
      const epsilon = { epsilon: attr.float(eps) };
      let t: string | null = null;
      if (dx !== null) t = e.one('BatchNormalization', [dx, a1, e.zerosLike(a2), e.zerosLike(a3), a4], epsilon);
      // Every per-channel tangent folds into one normalisation of x: d/dvar is
      // -(x - mean) * scale / (2 (var + eps)^(3/2)), a scale of -scale * dVar / (2 (var + eps));
      // d/dmean is the constant -scale * dMean / sqrt(var + eps), a bias.
      let scaleT = dScale;
      let biasT = dBias;
      if (dVar !== null) {
        const factor = e.one('Div', [e.one('Mul', [dVar, e.scalar(-0.5)]), e.one('Add', [a4, e.scalar(eps)])]);
        scaleT = e.add(scaleT, e.one('Mul', [a1, factor]));
      }
      if (dMean !== null) {
        const shift = e.one('Div', [e.one('Mul', [a1, dMean]), e.one('Sqrt', [e.one('Add', [a4, e.scalar(eps)])])]);
        biasT = e.add(biasT, e.one('Neg', [shift]));
      }
      if (scaleT !== null || biasT !== null) {
        t = e.add(t, e.one('BatchNormalization', [x, scaleT ?? e.zerosLike(a1), biasT ?? e.zerosLike(a2), a3, a4], epsilon));
      }
      return [t, ...node.outputs.slice(1).map(() => null)];
    }
    case 'LayerNormalization': {
      const axis = intAttr(node, 'axis', -1);
      if (axis >= 0) throw new Error(`node ${node.name}: LayerNormalization JVP needs a negative axis, got ${axis}`);
      const dScale = tan(a1);
      const dBias = a2 ? tan(a2) : null;
      if (dx === null && dScale === null && dBias === null) return node.outputs.map(() => null);
      const axes = Array.from({ length: -axis }, (_, i) => axis + i);
      const eps = { axis: attr.int(axis), epsilon: node.attributes.epsilon ?? attr.float(1e-5) };
      const [xhat, , invStd] = e.node('LayerNormalization', [x, e.onesLike(a1), e.zerosLike(a1)], eps, 3);
      let t: string | null = null;
      if (dx !== null) {
        // d xhat = invStd * (dx - mean(dx) - xhat * mean(xhat * dx)) over the normalised axes
        const meanDx = e.reduceMean(dx, axes);
        const proj = e.reduceMean(e.one('Mul', [xhat, dx]), axes);
        const dxhat = e.one('Mul', [e.one('Sub', [e.one('Sub', [dx, meanDx]), e.one('Mul', [xhat, proj])]), invStd]);
        t = e.one('Mul', [dxhat, a1]);
      }
      if (dScale !== null) t = e.add(t, e.one('Mul', [xhat, dScale]));
      if (dBias !== null) t = e.add(t, t === null ? e.expandLike(dBias, y) : dBias);
      return [t, ...node.outputs.slice(1).map(() => null)];
    }
    case 'MaxPool': {
      if (dx === null) return node.outputs.map(() => null);
      // The tangent follows the arg-max: pick dX at the flat indices MaxPool reports.
      const [, indices] = e.node('MaxPool', [x], node.attributes, 2);
      const flat = e.one('Reshape', [dx, e.ints([-1])]);
      return [e.one('Gather', [flat, indices], { axis: attr.int(0) }), ...node.outputs.slice(1).map(() => null)];
    }
    default:
      throw new Error(`node ${node.name}: no forward-mode rule for operator ${op}`);
  }
}

/**
 * Builds the JVP graph of `output` with respect to `params` (tangents fed as inputs).
 * Parameters that do not reach `output` are dropped from `tangentInputs`.
 */
export function jvpGraph(graph: Graph, output: string, params: Iterable<string>): JvpGraph {
  const sub = cloneGraph(truncateGraph(graph, [output]));
  const e = new Emitter(sub);
  const tangents = new Map<string, string | null>();
  const tangentInputs = new Map<string, string>();
  for (const p of params) {
    const t = sub.initializers.get(p) ?? null;
    const asInput = sub.inputs.find((i) => i.name === p);
    if (!t && !asInput) continue;
    const name = `${TANGENT_PREFIX}${p}`;
    tangents.set(p, name);
    tangentInputs.set(p, name);
    sub.inputs.push({ name, dtype: 'float32', shape: t ? [...t.shape] : [...(asInput?.shape ?? [])] });
  }
  const tan = (v: string): string | null => tangents.get(v) ?? null;
  for (const node of sub.nodes) {
    e.nodes.push(node);
    const ts = differentiateNode(e, node, tan);
    node.outputs.forEach((o, i) => {
      if (o) tangents.set(o, ts[i] ?? null);
    });
  }
  let tangent = tangents.get(output) ?? null;
  if (tangent === null) tangent = e.zerosLike(output);
  const out = e.one('Identity', [tangent]);
  sub.nodes = e.nodes;
  sub.outputs = [
    { name: output, dtype: 'float32', shape: [] },
    { name: out, dtype: 'float32', shape: [] },
  ];
  return { graph: sub, output, tangent: out, tangentInputs };
}
