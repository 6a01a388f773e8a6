/**
 * LoRA (Hu et al. 2021) on the Gemm (nn.Linear) and Conv weights of a graph: the weight W a node
 * reads becomes W + (alpha / r) * reshape(B @ A, W.shape), with B [W.shape[0], r] and
 * A [r, prod(W.shape[1:])] (for a Linear: B [out, r], A [r, in]; for a conv: the kernel flattened
 * per output channel). Initialisation as in PEFT: A ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with
 * fan_in = A's columns, B = 0, so training starts from the base model exactly.
 * Adapter tensors are named `<layer>.lora_A` / `<layer>.lora_B` (layer = the weight's module prefix).
 */
import { type Graph, type GraphNode, cloneGraph } from '../graph/ir.js';
import { type ParamSpec, initialWeights } from '../nn/params.js';
import { type Tensor, type Weights, makeTensor, shapeSize, toFloat32 } from '../tensor.js';
import { INIT_STREAM } from './init.js';

export interface LoraConfig {
  rank: number;
  /** Scale numerator: the update is multiplied by alpha / rank. */
  alpha: number;
}

export interface LoraTarget {
  /** Module prefix, e.g. fc1 or blocks.0.conv. */
  layer: string;
  weight: string;
  shape: number[];
}

export function loraKeys(layer: string): { a: string; b: string } {
  return { a: `${layer}.lora_A`, b: `${layer}.lora_B` };
}

/** Gemm and Conv nodes reading a `<layer>.weight` initializer, except the excluded (head) keys. */
export function loraTargets(graph: Graph, exclude: ReadonlySet<string>): LoraTarget[] {
  const targets: LoraTarget[] = [];
  const seen = new Set<string>();
  for (const node of graph.nodes) {
    if (node.op !== 'Gemm' && node.op !== 'Conv') continue;
    const weight = node.inputs[1];
    const t = graph.initializers.get(weight);
    if (!t || !weight.endsWith('.weight') || exclude.has(weight) || seen.has(weight)) continue;
    seen.add(weight);
    targets.push({ layer: weight.slice(0, -'.weight'.length), weight, shape: [...t.shape] });
  }
  return targets;
}

function checkConfig(config: LoraConfig): void {
  if (!Number.isSafeInteger(config.rank) || config.rank < 1) throw new Error(`LoRA rank must be a positive integer, got ${config.rank}`);
  if (!(config.alpha > 0)) throw new Error(`LoRA alpha must be positive, got ${config.alpha}`);
}

function factorShapes(target: LoraTarget, rank: number): { a: number[]; b: number[] } {
  const rows = target.shape[0];
  const cols = shapeSize(target.shape) / rows;
  return { a: [rank, cols], b: [rows, rank] };
}

/** Fresh adapters for `targets` (A uniform, B zero), seeded per tensor. */
export function initLora(targets: readonly LoraTarget[], config: LoraConfig, seed: number): Weights {
  checkConfig(config);
  const specs = targets.flatMap((target): ParamSpec[] => {
    const { a, b } = loraKeys(target.layer);
    const shapes = factorShapes(target, config.rank);
    return [
      { name: a, shape: shapes.a, buffer: false, init: { kind: 'uniform', fanIn: shapes.a[1] } },
      { name: b, shape: shapes.b, buffer: false, init: { kind: 'zeros' } },
    ];
  });
  return initialWeights(specs, seed, INIT_STREAM);
}

/**
 * The graph with each target's weight replaced by W + (alpha/r) B A; `adapters` (from initLora)
 * become initializers. The new nodes sit right before the node that reads the weight.
 */
export function addLora(graph: Graph, targets: readonly LoraTarget[], config: LoraConfig, adapters: Weights): Graph {
  checkConfig(config);
  const out = cloneGraph(graph);
  for (const [k, t] of adapters) out.initializers.set(k, t);
  const scale = 'const:lora:scale';
  out.initializers.set(scale, makeTensor('float32', [], Float32Array.of(config.alpha / config.rank)));
  const byWeight = new Map(targets.map((t) => [t.weight, t]));
  const nodes: GraphNode[] = [];
  const rewritten = new Map<string, string>();
  for (const node of out.nodes) {
    const weight = node.inputs[1];
    const target = (node.op === 'Gemm' || node.op === 'Conv') && weight ? byWeight.get(weight) : undefined;
    if (target) {
      let effective = rewritten.get(weight);
      if (!effective) {
        const { a, b } = loraKeys(target.layer);
        const v = (name: string) => `${target.layer}/lora/${name}`;
        const push = (op: string, name: string, inputs: string[]) => {
          nodes.push({ name: `${v(name)}#`, op, inputs, outputs: [v(name)], attributes: {} });
          return v(name);
        };
        let delta = push('Mul', 'scaled', [push('MatMul', 'product', [b, a]), scale]);
        if (target.shape.length !== 2) {
          const shapeName = `const:lora:${target.layer}:shape`;
          out.initializers.set(shapeName, makeTensor('int64', [target.shape.length], BigInt64Array.from(target.shape.map(BigInt))));
          delta = push('Reshape', 'delta', [delta, shapeName]);
        }
        effective = push('Add', 'weight', [weight, delta]);
        rewritten.set(weight, effective);
      }
      nodes.push({ ...node, inputs: node.inputs.map((input, i) => (i === 1 ? (effective as string) : input)) });
    } else {
      nodes.push(node);
    }
  }
  out.nodes = nodes;
  return out;
}

/** W + (alpha/r) reshape(B @ A) for one target, accumulated in float64 and rounded once. */
function mergedWeight(base: Tensor, a: Tensor, b: Tensor, config: LoraConfig): Tensor {
  const w = toFloat32(base);
  const av = toFloat32(a);
  const bv = toFloat32(b);
  const rows = b.shape[0];
  const rank = b.shape[1];
  const cols = a.shape[1];
  if (rows * cols !== w.length || a.shape[0] !== rank) {
    throw new Error(`LoRA factors [${b.shape.join(',')}] x [${a.shape.join(',')}] do not fit a weight of shape [${base.shape.join(',')}]`);
  }
  const scale = config.alpha / config.rank;
  const out = new Float32Array(w.length);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      let s = 0;
      for (let k = 0; k < rank; k++) s += bv[i * rank + k] * av[k * cols + j];
      out[i * cols + j] = w[i * cols + j] + scale * s;
    }
  }
  return makeTensor('float32', base.shape, out);
}

/** The state dict with every adapter merged into its base weight and the adapter tensors dropped. */
export function mergeLora(weights: Weights, targets: readonly LoraTarget[], config: LoraConfig): Weights {
  const merged = new Map<string, Tensor>();
  const adapterKeys = new Set(targets.flatMap((t) => Object.values(loraKeys(t.layer))));
  const byWeight = new Map(targets.map((t) => [t.weight, t]));
  for (const [k, t] of weights) {
    if (adapterKeys.has(k)) continue;
    const target = byWeight.get(k);
    if (!target) {
      merged.set(k, t);
      continue;
    }
    const { a, b } = loraKeys(target.layer);
    const at = weights.get(a);
    const bt = weights.get(b);
    if (!at || !bt) throw new Error(`LoRA adapter ${a} / ${b} is missing`);
    merged.set(k, mergedWeight(t, at, bt, config));
  }
  return merged;
}

/** Only the adapter tensors, in target order. */
export function adapterOnly(weights: Weights, targets: readonly LoraTarget[]): Weights {
  const out: Weights = new Map();
  for (const target of targets) {
    for (const key of Object.values(loraKeys(target.layer))) {
      const t = weights.get(key);
      if (!t) throw new Error(`LoRA adapter ${key} is missing`);
      out.set(key, t);
    }
  }
  return out;
}
