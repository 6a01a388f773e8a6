/**
 * ONNX Runtime executor: runs a graph on a batch and returns the requested values.
 *
 * Initializers are constants of the session (no mode feeds weights at run time), so ONNX Runtime can
 * prepack its convolutions; `runGraph` caches one session per graph, outputs and options.
 */
import * as ort from 'onnxruntime-node';
import { type DType, type Tensor, makeTensor, type TensorDataMap } from '../tensor.js';
import { type Graph, truncateGraph } from '../graph/ir.js';
import { graphToOnnxBytes } from '../graph/serialize.js';
import { onnxSourceFile } from '../graph/from-onnx.js';
import { FormatError } from '../formats/errors.js';

type OrtType = 'float32' | 'float16' | 'float64' | 'int64' | 'int32' | 'uint8' | 'bool';

const ORT_TYPE: Partial<Record<DType, OrtType>> = {
  float32: 'float32',
  float16: 'float16',
  float64: 'float64',
  int64: 'int64',
  int32: 'int32',
  uint8: 'uint8',
  bool: 'bool',
};

export function toOrtTensor(t: Tensor): ort.Tensor {
  const type = ORT_TYPE[t.dtype];
  if (!type) throw new Error(`ONNX Runtime cannot take ${t.dtype} tensors`);
  return new ort.Tensor(type, t.data as ort.Tensor.DataType, [...t.shape]);
}

export function fromOrtTensor(t: ort.Tensor): Tensor {
  const dims = [...t.dims];
  switch (t.type) {
    case 'float32':
      return makeTensor('float32', dims, t.data as Float32Array);
    case 'float64':
      return makeTensor('float64', dims, t.data as Float64Array);
    case 'int64':
      return makeTensor('int64', dims, t.data as BigInt64Array);
    case 'int32':
      return makeTensor('int32', dims, t.data as Int32Array);
    case 'uint8':
      return makeTensor('uint8', dims, t.data as Uint8Array);
    case 'bool':
      return makeTensor('bool', dims, Uint8Array.from(t.data as ArrayLike<number>));
    case 'float16':
      return makeTensor('float16', dims, new Uint16Array((t.data as TensorDataMap['float16']).buffer));
    default:
      throw new Error(`unsupported ONNX Runtime output type ${t.type}`);
  }
}

export interface OrtOptions {
  /** Threads inside one operator (default: all cores). */
  threads?: number;
  /**
   * ONNX Runtime graph optimisations (default 'all'). In ResNet-18 JVP graphs 'all' runs 118 Conv
   * kernels against 59 with 'extended' (a convolution feeding two BatchNormalizations is fused into
   * both), yet is ~4x faster thanks to its blocked (NCHWc) convolutions: measured 4.6 s vs 17.5 s
   * per 512-row pass on a loaded 2-core machine.
   */
  optimization?: 'basic' | 'extended' | 'all';
}

/** Every option with its default filled in: `Required` makes a new option a compile error here until it has one. */
function withDefaults(options: OrtOptions): Required<OrtOptions> {
  return { threads: options.threads ?? 0, optimization: options.optimization ?? 'all' };
}

function sessionOptions(options: OrtOptions): ort.InferenceSession.SessionOptions {
  const { threads, optimization } = withDefaults(options);
  return {
    graphOptimizationLevel: optimization,
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    // Without the arena, memory freed between passes goes back to the system: measured 632 vs 722 MiB
    // working memory for a ResNet-18 JVP pair on 3x64x64 inputs, at the same speed.
    enableCpuMemArena: false,
  };
}

/**
 * An ONNX Runtime failure as an error that says which model failed: a FormatError naming the file
 * for a graph read from a user's ONNX file, else an Error naming the graph.
 */
function ortFailure(err: unknown, what: 'load' | 'run', file: string | undefined, graphName: string): Error {
  const detail = (err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' ').trim();
  const problem = `ONNX Runtime cannot ${what} the model: ${detail}`;
  return file === undefined ? new Error(`graph '${graphName}': ${problem}`) : new FormatError(file, problem);
}

/** A graph compiled for ONNX Runtime, computing a fixed list of outputs. */
export class CompiledGraph {
  private constructor(
    readonly session: ort.InferenceSession,
    readonly outputs: readonly string[],
    /** For errors: the user's ONNX file the graph came from, if any, and the graph's name. */
    private readonly source: { file: string | undefined; graphName: string },
  ) {}

  /**
   * Compiles `graph` to compute `outputs` (value names). Values in `bind` replace the initializers
   * or graph inputs of the same name as constants of the session (the graph itself is unchanged).
   */
  static async create(graph: Graph, outputs: readonly string[], options: OrtOptions & { bind?: ReadonlyMap<string, Tensor> } = {}): Promise<CompiledGraph> {
    const sub = truncateGraph(graph, outputs);
    if (options.bind) bindConstants(sub, options.bind);
    const bytes = graphToOnnxBytes(sub);
    const source = { file: onnxSourceFile(graph), graphName: graph.name };
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(bytes, sessionOptions(options));
    } catch (err) {
      throw ortFailure(err, 'load', source.file, source.graphName);
    }
    return new CompiledGraph(session, [...outputs], source);
  }

  /**
   * Runs the graph on `input` in chunks of `rows` along the batch axis and concatenates each output
   * along its first axis: peak memory follows the chunk, not the probe. Every output must have the
   * batch as its first axis.
   */
  async runChunked(inputName: string, input: Tensor<'float32'>, rows: number): Promise<Record<string, Float32Array>> {
    const n = input.shape[0];
    const perRow = n === 0 ? 0 : input.data.length / n;
    const parts: Record<string, Float32Array[]> = Object.fromEntries(this.outputs.map((o) => [o, []]));
    for (let start = 0; start < n; start += rows) {
      const end = Math.min(n, start + rows);
      const chunk = makeTensor('float32', [end - start, ...input.shape.slice(1)], input.data.subarray(start * perRow, end * perRow));
      const out = await this.run({ [inputName]: chunk });
      for (const o of this.outputs) parts[o].push(out[o].data as Float32Array);
    }
    const result: Record<string, Float32Array> = {};
    for (const o of this.outputs) {
      const total = parts[o].reduce((acc, p) => acc + p.length, 0);
      const joined = new Float32Array(total);
      let offset = 0;
      for (const p of parts[o]) {
        joined.set(p, offset);
        offset += p.length;
      }
      result[o] = joined;
    }
    return result;
  }

  async run(feeds: Record<string, Tensor>): Promise<Record<string, Tensor>> {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [k, v] of Object.entries(feeds)) ortFeeds[k] = toOrtTensor(v);
    let result: ort.InferenceSession.ReturnType;
    try {
      result = await this.session.run(ortFeeds, [...this.outputs]);
    } catch (err) {
      throw ortFailure(err, 'run', this.source.file, this.source.graphName);
    }
    const out: Record<string, Tensor> = {};
    for (const name of this.outputs) out[name] = fromOrtTensor(result[name]);
    return out;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/**
 * Embeds values as initializers: those replacing an initializer or a graph input of the same name.
 * Constant weights let ONNX Runtime prepack convolutions, which is why learning-free scoring binds
 * each model's weights into its own session rather than feeding them (bench/results/detect.md).
 */
function bindConstants(graph: Graph, values: ReadonlyMap<string, Tensor>): void {
  for (const [name, t] of values) {
    if (graph.initializers.has(name)) graph.initializers.set(name, t);
    else if (graph.inputs.some((i) => i.name === name)) {
      graph.inputs = graph.inputs.filter((i) => i.name !== name);
      graph.initializers.set(name, t);
    }
  }
}

const cache = new WeakMap<Graph, Map<string, Promise<CompiledGraph>>>();

/**
 * Runs `graph` on `feeds` and returns the named values. The compiled session is cached per graph,
 * keyed by the outputs and every option (defaults filled in), and compiled from exactly the keyed
 * options, so a session is never reused under options it was not built with.
 */
export async function runGraph(
  graph: Graph,
  feeds: Record<string, Tensor>,
  outputs: readonly string[],
  options: OrtOptions = {},
): Promise<Record<string, Tensor>> {
  let perGraph = cache.get(graph);
  if (!perGraph) {
    perGraph = new Map();
    cache.set(graph, perGraph);
  }
  const keyed = withDefaults(options);
  const key = JSON.stringify([outputs, keyed]);
  let compiled = perGraph.get(key);
  if (!compiled) {
    compiled = CompiledGraph.create(graph, outputs, keyed);
    perGraph.set(key, compiled);
    compiled.catch(() => perGraph?.delete(key));
  }
  return (await compiled).run(feeds);
}
