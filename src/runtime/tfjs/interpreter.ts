/**
 * The differentiable executor: runs a graph op by op with tfjs, so tf.grads / tf.variableGrads see
 * every operation. Training and the learned detector use it; ONNX Runtime stays the fast path for
 * inference, and tests hold the two to the same numbers.
 *
 * Values follow ONNX semantics and NCHW layout. Conv and pool ops compute channels-last (tfjs's
 * layout) and hand their results on channels-last; a value goes back to NCHW only when an op needs
 * it so (see ValueStore).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Graph, GraphNode } from '../../graph/ir.js';
import { isSupportedOp, type OpType } from '../../graph/ops.js';
import { toTf } from './convert.js';
import { OP_KERNELS } from './ops/index.js';
import type { OpContext, OpOutput } from './ops/types.js';
import { ValueStore } from './value-store.js';

export interface RunOptions {
  /**
   * Tensors used instead of the graph's initializers of the same name, e.g. the tf.Variables being
   * trained: gradients can then be taken with respect to any initializer.
   */
  params?: ReadonlyMap<string, tf.Tensor>;
  /** Keep conv/pool results channels-last between ops (default true); false transposes around each. */
  channelsLast?: boolean;
}

interface Plan {
  nodes: GraphNode[];
  /** Values read by the plan and produced by none of its nodes: feeds, params or initializers. */
  sources: string[];
  /** Index of the last node reading each value. */
  lastUse: Map<string, number>;
}

function nodeError(node: GraphNode, problem: string): Error {
  return new Error(`node ${node.name} (${node.op}): ${problem}`);
}

class NodeContext implements OpContext {
  constructor(
    readonly node: GraphNode,
    readonly opset: number,
    private readonly values: ValueStore,
    private readonly owner: TfjsGraph,
  ) {}

  has(index: number): boolean {
    return index < this.node.inputs.length && this.node.inputs[index] !== '';
  }

  private name(index: number): string {
    if (!this.has(index)) this.fail(`input ${index} is required`);
    return this.node.inputs[index];
  }

  input(index: number): tf.Tensor {
    return this.values.nchw(this.name(index));
  }

  optional(index: number): tf.Tensor | undefined {
    return this.has(index) ? this.input(index) : undefined;
  }

  shape(index: number): number[] {
    return this.values.shape(this.name(index));
  }

  numbers(index: number): number[] {
    return Array.from(this.input(index).dataSync() as ArrayLike<number>);
  }

  channelsLast(index: number): tf.Tensor4D {
    const shape = this.shape(index);
    if (shape.length !== 4) this.fail(`input ${index} must be 4-D, got [${shape.join(',')}]`);
    return this.values.nhwc(this.name(index));
  }

  isChannelsLast(index: number): boolean {
    return this.has(index) && this.values.isChannelsLastOnly(this.node.inputs[index]);
  }

  constant(key: string, make: () => tf.Tensor): tf.Tensor {
    return this.owner.derived(key, make);
  }

  fail(problem: string): never {
    throw nodeError(this.node, problem);
  }
}

const instances = new WeakMap<Graph, TfjsGraph>();

/**
 * A graph prepared for tfjs: execution plans per output set, and the graph's constants (initializers
 * not overridden by params, Constant nodes, derived index tensors) converted once and kept.
 */
export class TfjsGraph {
  private readonly cache = new Map<string, tf.Tensor>();
  private readonly cached = new Set<tf.Tensor>();
  private readonly plans = new Map<string, Plan>();
  private backendName: string | undefined;

  constructor(readonly graph: Graph) {}

  /** The shared instance for `graph` (its constants live as long as the graph or until dispose()). */
  static for(graph: Graph): TfjsGraph {
    let instance = instances.get(graph);
    if (!instance) {
      instance = new TfjsGraph(graph);
      instances.set(graph, instance);
    }
    return instance;
  }

  /**
   * Computes `outputs` (value names) from `feeds` (graph inputs). Runs synchronously and records on
   * any active gradient tape; intermediates are freed, the returned tensors belong to the caller.
   */
  run(feeds: Readonly<Record<string, tf.Tensor>>, outputs: readonly string[], options: RunOptions = {}): Record<string, tf.Tensor> {
    this.syncBackend();
    const plan = this.plan(outputs);
    const params = options.params;
    return tf.tidy(() => {
      const values = new ValueStore(options.channelsLast ?? true);
      for (const name of plan.sources) values.borrow(name, this.source(name, feeds, params));
      const wanted = new Set(outputs);
      plan.nodes.forEach((node, step) => {
        const results = this.execute(node, values);
        node.outputs.forEach((name, i) => {
          if (!name) return;
          const result = results[i];
          if (result === undefined) throw nodeError(node, `output ${i} (${name}) is not produced`);
          values.store(name, result, (t) => this.cached.has(t));
          if (!plan.lastUse.has(name) && !wanted.has(name)) values.release(name);
        });
        for (const name of node.inputs) if (plan.lastUse.get(name) === step && !wanted.has(name)) values.release(name);
      });
      const result: Record<string, tf.Tensor> = {};
      for (const name of outputs) result[name] = values.take(name);
      return result;
    });
  }

  private execute(node: GraphNode, values: ValueStore): OpOutput[] {
    const kernel = OP_KERNELS[node.op as OpType];
    const out = kernel(new NodeContext(node, this.graph.opset, values, this));
    return Array.isArray(out) ? out : [out];
  }

  private source(name: string, feeds: Readonly<Record<string, tf.Tensor>>, params: ReadonlyMap<string, tf.Tensor> | undefined): tf.Tensor {
    const given = params?.get(name) ?? feeds[name];
    if (given) return given;
    if (this.graph.initializers.has(name)) return this.initializer(name);
    throw new Error(`graph ${this.graph.name}: no value fed for input '${name}'`);
  }

  /** The initializer `name` as a kept tfjs tensor (converted on first use). */
  initializer(name: string): tf.Tensor {
    const t = this.graph.initializers.get(name);
    if (!t) throw new Error(`graph ${this.graph.name} has no initializer '${name}'`);
    return this.derived(`initializer:${name}`, () => toTf(t));
  }

  /** A constant made once by `make` and kept until dispose() or a backend change. */
  derived(key: string, make: () => tf.Tensor): tf.Tensor {
    this.syncBackend();
    let t = this.cache.get(key);
    if (!t) {
      t = tf.keep(tf.tidy(make));
      this.cache.set(key, t);
      this.cached.add(t);
    }
    return t;
  }

  /** Frees the cached constants (the graph stays usable; they are remade on demand). */
  dispose(): void {
    for (const t of this.cache.values()) t.dispose();
    this.cache.clear();
    this.cached.clear();
  }

  private syncBackend(): void {
    const name = tf.getBackend();
    if (this.backendName !== name) {
      this.dispose();
      this.backendName = name;
    }
  }

  private plan(outputs: readonly string[]): Plan {
    const key = JSON.stringify(outputs);
    let plan = this.plans.get(key);
    if (!plan) {
      plan = makePlan(this.graph, outputs);
      this.plans.set(key, plan);
    }
    return plan;
  }
}

function makePlan(graph: Graph, outputs: readonly string[]): Plan {
  const producer = new Map<string, { node: GraphNode; index: number }>();
  graph.nodes.forEach((node, index) => {
    for (const o of node.outputs) if (o) producer.set(o, { node, index });
  });
  const graphInputs = new Set(graph.inputs.map((i) => i.name));
  const needed = new Set<number>();
  const sources = new Set<string>();
  const stack = [...outputs];
  const seen = new Set<string>();
  while (stack.length > 0) {
    const name = stack.pop() as string;
    if (seen.has(name)) continue;
    seen.add(name);
    const made = producer.get(name);
    if (made) {
      if (!needed.has(made.index)) {
        needed.add(made.index);
        for (const input of made.node.inputs) if (input !== '') stack.push(input);
      }
    } else if (graphInputs.has(name) || graph.initializers.has(name)) {
      sources.add(name);
    } else {
      throw new Error(`graph ${graph.name}: value '${name}' is neither a graph input, an initializer nor a node output`);
    }
  }
  const nodes = [...needed].sort((a, b) => a - b).map((i) => graph.nodes[i]);
  const defined = new Set(sources);
  const lastUse = new Map<string, number>();
  nodes.forEach((node, step) => {
    if (!isSupportedOp(node.op, node.domain)) {
      const domain = node.domain ? `${node.domain}.` : '';
      throw nodeError(node, `operator ${domain}${node.op} is not supported by the tfjs interpreter`);
    }
    for (const input of node.inputs) {
      if (!input) continue;
      if (!defined.has(input)) throw nodeError(node, `reads '${input}' before it is computed (nodes are not in topological order)`);
      lastUse.set(input, step);
    }
    for (const o of node.outputs) if (o) defined.add(o);
  });
  return { nodes, sources: [...sources], lastUse };
}

/**
 * Runs `graph` on `feeds` and returns the named values (the caller owns them). Call inside
 * tf.variableGrads / tf.grads to differentiate; `params` replaces initializers by name.
 */
export function interpretGraph(
  graph: Graph,
  feeds: Readonly<Record<string, tf.Tensor>>,
  outputs: readonly string[],
  params?: ReadonlyMap<string, tf.Tensor>,
): Record<string, tf.Tensor> {
  return TfjsGraph.for(graph).run(feeds, outputs, { params });
}
