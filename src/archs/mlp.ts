/**
 * `mlp`: a chain of nn.Linear layers with ReLU between them (not after the last), on the flattened
 * input. Layer names are free (`fc1`, `layers.0`, ...); the order comes from the shape chain, since
 * names such as `fc10` and `fc9` or a shuffled file cannot be trusted to sort into execution order.
 * Zoo MLPs name their layers fc1..fcK (the paper's MNIST MLP is 784-1024-256-128-10).
 */
import { FormatError } from '../formats/errors.js';
import { GraphBuilder } from '../graph/builder.js';
import type { Weights } from '../tensor.js';
import { checkAgainstTemplate, chooseInputShape, linearParams, shapeText, sourceOf } from './common.js';
import { type BuildOptions, type BuiltModel, INPUT_NAME, type MlpSpec, type StateTensorSpec } from './types.js';

interface LinearLayer {
  name: string;
  in: number;
  out: number;
  bias: boolean;
}

/** The zoo convention: layers fc1..fcK with biases, for sizes [in, hidden..., out]. */
export function mlpSpec(sizes: readonly number[], names?: readonly string[]): MlpSpec {
  const layers = names ? [...names] : sizes.slice(1).map((_, i) => `fc${i + 1}`);
  if (layers.length !== sizes.length - 1) throw new Error(`an MLP with sizes [${sizes.join(',')}] needs ${sizes.length - 1} layer names`);
  return { name: 'mlp', layers, sizes: [...sizes], biases: layers.map(() => true) };
}

export function mlpTemplate(spec: MlpSpec): StateTensorSpec[] {
  return spec.layers.flatMap((name, i) => linearParams(name, spec.sizes[i + 1], spec.sizes[i], spec.biases[i]));
}

/** The Linear layers of `weights` in state-dict order, or undefined when some tensor is not one. */
function linearLayers(weights: Weights, source: string): LinearLayer[] | undefined {
  const layers: LinearLayer[] = [];
  for (const [key, t] of weights) {
    if (key.endsWith('.weight') && t.shape.length === 2) {
      const name = key.slice(0, -'.weight'.length);
      const bias = weights.get(`${name}.bias`);
      if (bias && (bias.shape.length !== 1 || bias.shape[0] !== t.shape[0])) {
        throw new FormatError(source, `tensor ${name}.bias has shape ${shapeText(bias.shape)}, expected [${t.shape[0]}] to match ${key}`);
      }
      layers.push({ name, out: t.shape[0], in: t.shape[1], bias: bias !== undefined });
    } else if (key.endsWith('.bias') && t.shape.length === 1) {
      const w = weights.get(`${key.slice(0, -'.bias'.length)}.weight`);
      if (!w || w.shape.length !== 2) return undefined;
    } else {
      return undefined;
    }
  }
  return layers.length > 0 ? layers : undefined;
}

function isChain(order: readonly LinearLayer[]): boolean {
  return order.every((l, i) => i === 0 || order[i - 1].out === l.in);
}

/** Up to `limit` orderings in which each layer's in-features equal the previous out-features. */
function chainOrders(layers: readonly LinearLayer[], limit: number): { orders: LinearLayer[][]; exhausted: boolean } {
  const orders: LinearLayer[][] = [];
  const used = layers.map(() => false);
  const path: LinearLayer[] = [];
  let steps = 0;
  const maxSteps = 200_000;
  const extend = (): void => {
    if (orders.length >= limit || ++steps > maxSteps) return;
    if (path.length === layers.length) {
      orders.push([...path]);
      return;
    }
    const last = path.at(-1);
    layers.forEach((l, i) => {
      if (used[i] || (last && last.out !== l.in)) return;
      used[i] = true;
      path.push(l);
      extend();
      path.pop();
      used[i] = false;
    });
  };
  extend();
  return { orders, exhausted: steps <= maxSteps };
}

function naturalCompare(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

function describe(layers: readonly LinearLayer[]): string {
  return layers.map((l) => `${l.name} [${l.in}->${l.out}]`).join(', ');
}

/**
 * Orders the layers by the shape chain. When several orders fit (equal-shaped square layers), the
 * state-dict order or else the natural order of the names is used if it is one of them.
 */
function orderLayers(layers: LinearLayer[], source: string): LinearLayer[] {
  const { orders, exhausted } = chainOrders(layers, 2);
  if (orders.length === 1 && exhausted) return orders[0];
  if (orders.length === 0 && exhausted) {
    throw new FormatError(
      source,
      `the Linear layers do not form a chain (no order in which each layer's in-features equal the previous layer's out-features): ${describe(layers)}`,
    );
  }
  if (isChain(layers)) return layers;
  const byName = [...layers].sort((a, b) => naturalCompare(a.name, b.name));
  if (isChain(byName)) return byName;
  throw new FormatError(
    source,
    `the order of the Linear layers cannot be decided: several orders fit their shapes and neither the file order nor the name order is one of them: ${describe(layers)}`,
  );
}

/** An MlpSpec when every tensor is a Linear weight or bias; throws when they do not chain. */
export function recogniseMlp(weights: Weights, options: BuildOptions = {}): MlpSpec | undefined {
  const source = sourceOf(options);
  const layers = linearLayers(weights, source);
  if (!layers) return undefined;
  const ordered = orderLayers(layers, source);
  return {
    name: 'mlp',
    layers: ordered.map((l) => l.name),
    sizes: [ordered[0].in, ...ordered.map((l) => l.out)],
    biases: ordered.map((l) => l.bias),
  };
}

function defaultInputShape(features: number): number[] {
  if (features === 784) return [1, 28, 28];
  if (features === 3072) return [3, 32, 32];
  return [features];
}

export function buildMlp(weights: Weights, spec: MlpSpec, options: BuildOptions = {}): BuiltModel {
  const source = sourceOf(options);
  checkAgainstTemplate(weights, mlpTemplate(spec), 'an MLP', source);
  const features = spec.sizes[0];
  const inputShape = chooseInputShape(options, defaultInputShape(features), (s) => {
    const n = s.reduce((a, b) => a * b, 1);
    return n === features ? undefined : `it has ${n} elements and the first layer ${spec.layers[0]} takes ${features}`;
  });
  const b = new GraphBuilder('mlp', weights, source);
  const layers: string[] = [];
  let h = b.flatten(b.input(INPUT_NAME, ['N', ...inputShape]), 'flatten');
  spec.layers.forEach((name, i) => {
    const last = i === spec.layers.length - 1;
    if (last) {
      b.tap('penultimate', h);
      layers.push('penultimate');
    }
    h = b.linear(h, name, [spec.sizes[i + 1], spec.sizes[i]]);
    if (!last) h = b.relu(h, name);
    b.tap(name, h);
    layers.push(name);
  });
  b.tap('logits', h);
  layers.push('logits');
  const head = spec.layers[spec.layers.length - 1];
  return {
    graph: b.build([{ name: h, shape: ['N', spec.sizes[spec.sizes.length - 1]] }]),
    arch: spec,
    inputShape,
    headParams: spec.biases[spec.biases.length - 1] ? [`${head}.weight`, `${head}.bias`] : [`${head}.weight`],
    layers,
  };
}
