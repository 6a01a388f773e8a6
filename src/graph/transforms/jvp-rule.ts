/** The shape of a forward-mode rule: one per operator of the op table (see jvp-rules.ts). */
import type { GraphNode } from '../ir.js';
import type { JvpEmitter } from './jvp-emitter.js';

/** What a rule sees of one node of the original graph. */
export interface JvpStep {
  readonly e: JvpEmitter;
  readonly node: GraphNode;
  /** The tangent of value `v`, or null where it is identically zero. */
  tan(v: string): string | null;
  /** The tangent of the node's first input. */
  readonly dx: string | null;
}

/** Emits the tangent nodes of one node; returns its outputs' tangents in order (null: identically zero). */
export type JvpRule = (step: JvpStep) => (string | null)[];

/** Every output's tangent is identically zero. */
export function noTangents(node: GraphNode): null[] {
  return node.outputs.map(() => null);
}
