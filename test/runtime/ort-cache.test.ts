/**
 * runGraph's session cache: a cached session must only serve calls whose options it was built
 * with. Session creation is observed through ONNX Runtime's own InferenceSession.create.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { InferenceSession } from 'onnxruntime-node';
import { GraphBuilder } from '../../src/graph/builder.js';
import type { Graph } from '../../src/graph/ir.js';
import { type OrtOptions, runGraph } from '../../src/runtime/ort.js';
import { makeTensor, type Tensor } from '../../src/tensor.js';

/** y = x W^T + b with W = [[1, 2], [3, 4]], b = [10, 20]: a fresh graph per test, so a fresh cache. */
function linearGraph(): Graph {
  const weights = new Map<string, Tensor>([
    ['fc.weight', makeTensor('float32', [2, 2], Float32Array.from([1, 2, 3, 4]))],
    ['fc.bias', makeTensor('float32', [2], Float32Array.from([10, 20]))],
  ]);
  const g = new GraphBuilder('linear', weights);
  return g.build([{ name: g.linear(g.input('x', ['N', 2]), 'fc') }]);
}

const x = makeTensor('float32', [1, 2], Float32Array.from([1, 1]));
// [1, 1] W^T + b = [1 + 2 + 10, 3 + 4 + 20].
const expected = [13, 27];

async function run(graph: Graph, options: OrtOptions): Promise<number[]> {
  const output = graph.outputs[0].name;
  return [...((await runGraph(graph, { x }, [output], options))[output].data as Float32Array)];
}

function spyOnSessions() {
  return vi.spyOn(InferenceSession, 'create');
}

/** The session options of every InferenceSession.create call so far. */
function createdWith(spy: ReturnType<typeof spyOnSessions>): InferenceSession.SessionOptions[] {
  return spy.mock.calls.map((call) => call[1] as InferenceSession.SessionOptions);
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('runGraph session cache', () => {
  it('builds a new session when only the optimisation level changes', async () => {
    const graph = linearGraph();
    const spy = spyOnSessions();
    expect(await run(graph, { optimization: 'basic' })).toEqual(expected);
    expect(await run(graph, { optimization: 'extended' })).toEqual(expected);
    expect(createdWith(spy).map((o) => o.graphOptimizationLevel)).toEqual(['basic', 'extended']);
  });

  it('builds a new session when only the thread count changes', async () => {
    const graph = linearGraph();
    const spy = spyOnSessions();
    await run(graph, { threads: 1 });
    await run(graph, { threads: 2 });
    expect(createdWith(spy).map((o) => o.intraOpNumThreads)).toEqual([1, 2]);
  });

  it('reuses the session when the options are the same once defaults are filled in', async () => {
    const graph = linearGraph();
    const spy = spyOnSessions();
    await run(graph, {});
    await run(graph, { optimization: 'all', threads: 0 });
    await run(graph, {});
    expect(createdWith(spy).map((o) => o.graphOptimizationLevel)).toEqual(['all']);
  });

  it('never compiles weights bound by an options object wider than OrtOptions into a cached session', async () => {
    const graph = linearGraph();
    // CompiledGraph.create's options type accepts `bind`; runGraph's must not honour it, or the
    // session cached under these options would run the zero weights for every later caller.
    const zeros = new Map<string, Tensor>([['fc.weight', makeTensor('float32', [2, 2], new Float32Array(4))]]);
    const wide = { threads: 1, bind: zeros };
    expect(await run(graph, wide)).toEqual(expected);
    expect(await run(graph, { threads: 1 })).toEqual(expected);
  });
});
