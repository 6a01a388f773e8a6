/** Trainable tfjs variables made from a graph's initializers, to pass as `params` to the interpreter. */
import * as tf from '@tensorflow/tfjs-core';
import type { Graph } from '../../graph/ir.js';
import { toTf } from './convert.js';

const FLOAT_DTYPES = new Set(['float32', 'float16', 'bfloat16', 'float64']);

/**
 * One float32 variable per named initializer (default: every floating-point initializer). The
 * caller owns the variables and disposes them.
 */
export function initializerVariables(graph: Graph, names?: Iterable<string>): Map<string, tf.Variable> {
  const chosen = names ? [...names] : [...graph.initializers].filter(([, t]) => FLOAT_DTYPES.has(t.dtype)).map(([n]) => n);
  const out = new Map<string, tf.Variable>();
  for (const name of chosen) {
    const t = graph.initializers.get(name);
    if (!t) throw new Error(`graph ${graph.name} has no initializer '${name}'`);
    if (!FLOAT_DTYPES.has(t.dtype)) throw new Error(`graph ${graph.name}: initializer '${name}' is ${t.dtype}, not a trainable float tensor`);
    const value = toTf(t);
    // Variables need unique names across the engine; the tfjs default is a counter.
    out.set(name, tf.variable(value, true));
    value.dispose();
  }
  return out;
}
