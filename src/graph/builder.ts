/**
 * Builds graphs whose initializers are named by state-dict keys. Architecture builders call
 * `param('layer1.0.conv1.weight')`, which takes the tensor from the weights and checks its shape,
 * so a graph can only be built from weights that fit it.
 */
import { type Tensor, type Weights, makeTensor, type DType } from '../tensor.js';
import { type Attribute, type Graph, type GraphNode, type ValueInfo, DEFAULT_OPSET, attr } from './ir.js';

export class GraphBuilder {
  private readonly nodes: GraphNode[] = [];
  private readonly inputs: ValueInfo[] = [];
  private readonly params = new Map<string, Tensor>();
  private readonly constants = new Map<string, Tensor>();
  private readonly taps = new Map<string, string>();
  private counter = 0;

  constructor(
    readonly name: string,
    private readonly weights: Weights,
    private readonly source = 'weights',
  ) {}

  input(name: string, shape: (number | string)[], dtype: DType = 'float32'): string {
    this.inputs.push({ name, dtype, shape });
    return name;
  }

  has(key: string): boolean {
    return this.weights.has(key);
  }

  /** The shape of a weight, or undefined when the weights lack it. */
  shapeOf(key: string): readonly number[] | undefined {
    return this.weights.get(key)?.shape;
  }

  /** Uses the weight `key` as an initializer; checks it exists and, if given, its shape. */
  param(key: string, expectedShape?: readonly (number | undefined)[]): string {
    const t = this.weights.get(key);
    if (!t) throw new Error(`${this.source}: missing tensor ${key}`);
    if (expectedShape) {
      const ok = expectedShape.length === t.shape.length && expectedShape.every((d, i) => d === undefined || d === t.shape[i]);
      if (!ok) {
        const want = expectedShape.map((d) => (d === undefined ? '?' : String(d))).join(',');
        throw new Error(`${this.source}: tensor ${key} has shape [${t.shape.join(',')}], expected [${want}]`);
      }
    }
    this.params.set(key, t);
    return key;
  }

  /** Adds a constant initializer under a fresh, clearly non-state-dict name. */
  constant(hint: string, tensor: Tensor): string {
    const name = `const:${hint}:${this.counter++}`;
    this.constants.set(name, tensor);
    return name;
  }

  int64(hint: string, values: readonly number[]): string {
    return this.constant(hint, makeTensor('int64', [values.length], BigInt64Array.from(values.map((v) => BigInt(v)))));
  }

  float(hint: string, values: readonly number[], shape: readonly number[] = [values.length]): string {
    return this.constant(hint, makeTensor('float32', shape, Float32Array.from(values)));
  }

  /** Adds a node and returns its outputs; `label` names the values after the layer they belong to. */
  nodeMulti(op: string, inputs: readonly string[], attributes: Record<string, Attribute> = {}, outputs = 1, label?: string): string[] {
    const id = this.counter++;
    const base = label ? `${label}/${op}` : `${op}_${id}`;
    const names = Array.from({ length: outputs }, (_, i) => (i === 0 ? `${base}:${id}` : `${base}:${id}:${i}`));
    this.nodes.push({ name: `${base}#${id}`, op, inputs: [...inputs], outputs: names, attributes });
    return names;
  }

  node(op: string, inputs: readonly string[], attributes: Record<string, Attribute> = {}, label?: string): string {
    return this.nodeMulti(op, inputs, attributes, 1, label)[0];
  }

  tap(layer: string, value: string): string {
    this.taps.set(layer, value);
    return value;
  }

  // --- layers with PyTorch semantics --------------------------------------------------------

  /** nn.Linear: y = x W^T + b, for 2-D x. */
  linear(x: string, prefix: string, shape?: readonly (number | undefined)[]): string {
    const w = this.param(`${prefix}.weight`, shape);
    const inputs = [x, w];
    if (this.has(`${prefix}.bias`)) inputs.push(this.param(`${prefix}.bias`));
    return this.node('Gemm', inputs, { transB: attr.int(1) }, prefix);
  }

  /** nn.Linear applied to the last axis of an N-d input (MatMul with W^T, then bias). */
  linearNd(x: string, prefix: string): string {
    const w = this.param(`${prefix}.weight`);
    const wt = this.node('Transpose', [w], { perm: attr.ints([1, 0]) }, prefix);
    let y = this.node('MatMul', [x, wt], {}, prefix);
    if (this.has(`${prefix}.bias`)) y = this.node('Add', [y, this.param(`${prefix}.bias`)], {}, prefix);
    return y;
  }

  conv(x: string, prefix: string, options: { stride?: number; pad?: number; groups?: number; dilation?: number } = {}): string {
    const w = this.param(`${prefix}.weight`);
    const kernel = this.weights.get(w)!.shape.slice(2);
    const pad = options.pad ?? 0;
    const inputs = [x, w];
    if (this.has(`${prefix}.bias`)) inputs.push(this.param(`${prefix}.bias`));
    return this.node(
      'Conv',
      inputs,
      {
        kernel_shape: attr.ints(kernel),
        strides: attr.ints(kernel.map(() => options.stride ?? 1)),
        pads: attr.ints([...kernel.map(() => pad), ...kernel.map(() => pad)]),
        dilations: attr.ints(kernel.map(() => options.dilation ?? 1)),
        group: attr.int(options.groups ?? 1),
      },
      prefix,
    );
  }

  /** nn.BatchNorm2d in eval mode (running statistics). */
  batchNorm(x: string, prefix: string, eps = 1e-5): string {
    const inputs = ['weight', 'bias', 'running_mean', 'running_var'].map((k) => this.param(`${prefix}.${k}`));
    return this.node('BatchNormalization', [x, ...inputs], { epsilon: attr.float(eps) }, prefix);
  }

  /** nn.LayerNorm over the last axis. */
  layerNorm(x: string, prefix: string, eps: number): string {
    return this.node(
      'LayerNormalization',
      [x, this.param(`${prefix}.weight`), this.param(`${prefix}.bias`)],
      { axis: attr.int(-1), epsilon: attr.float(eps) },
      prefix,
    );
  }

  relu(x: string, label?: string): string {
    return this.node('Relu', [x], {}, label);
  }

  flatten(x: string, label?: string): string {
    return this.node('Flatten', [x], { axis: attr.int(1) }, label);
  }

  add(a: string, b: string, label?: string): string {
    return this.node('Add', [a, b], {}, label);
  }

  maxPool(x: string, kernel: number, stride: number, pad: number, label?: string): string {
    return this.node(
      'MaxPool',
      [x],
      { kernel_shape: attr.ints([kernel, kernel]), strides: attr.ints([stride, stride]), pads: attr.ints([pad, pad, pad, pad]) },
      label,
    );
  }

  globalAveragePool(x: string, label?: string): string {
    return this.node('GlobalAveragePool', [x], {}, label);
  }

  build(outputs: readonly { name: string; shape?: (number | string)[] }[]): Graph {
    // State-dict order for parameters, then constants, so initializer order is stable and readable.
    const initializers = new Map<string, Tensor>();
    for (const key of this.weights.keys()) {
      const t = this.params.get(key);
      if (t) initializers.set(key, t);
    }
    for (const [k, t] of this.constants) initializers.set(k, t);
    return {
      name: this.name,
      inputs: [...this.inputs],
      outputs: outputs.map((o) => ({ name: o.name, dtype: 'float32', shape: o.shape ?? [] })),
      nodes: [...this.nodes],
      initializers,
      taps: new Map(this.taps),
      opset: DEFAULT_OPSET,
    };
  }
}
