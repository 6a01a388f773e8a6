/**
 * Appends the nodes of a JVP graph: unique names under `jvp/`, small constants as initializers,
 * and the few compound patterns (broadcast, zeros, ones, mean) that many rules share.
 */
import { makeTensor } from '../../tensor.js';
import { type Attribute, type Graph, type GraphNode, attr } from '../ir.js';

export class JvpEmitter {
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
