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
import { type Graph, type GraphNode, cloneGraph, truncateGraph } from '../ir.js';
import { JvpEmitter } from './jvp-emitter.js';
import { jvpRule } from './jvp-rules.js';

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

function differentiateNode(e: JvpEmitter, node: GraphNode, tan: (v: string) => string | null): (string | null)[] {
  const rule = jvpRule(node.op);
  if (!rule) throw new Error(`node ${node.name}: no forward-mode rule for operator ${node.op}`);
  const x = node.inputs[0];
  return rule({ e, node, tan, dx: x ? tan(x) : null });
}

/**
 * Builds the JVP graph of `output` with respect to `params` (tangents fed as inputs).
 * Parameters that do not reach `output` are dropped from `tangentInputs`.
 */
export function jvpGraph(graph: Graph, output: string, params: Iterable<string>): JvpGraph {
  const sub = cloneGraph(truncateGraph(graph, [output]));
  const e = new JvpEmitter(sub);
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
