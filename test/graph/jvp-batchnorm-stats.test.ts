import { describe, it, expect } from 'vitest';
import { archTemplate, buildGraph } from '../../src/archs/registry.js';
import { resolveLayer } from '../../src/graph/ir.js';
import { jvpGraph } from '../../src/graph/transforms/jvp.js';
import { runGraph } from '../../src/runtime/ort.js';
import { syntheticStateDict } from '../../src/testing/synthetic-weights.js';
import { makeTensor, type Tensor, type Weights } from '../../src/tensor.js';

// Reference: central finite differences of the features in the direction of the statistics'
// change, F(theta + h Delta) - F(theta - h Delta) over 2h, each side a plain forward pass.
const SPEC = { name: 'convnet' as const, inChannels: 1, widths: [4, 6], numClasses: 3 };
const INPUT_SHAPE = [1, 8, 8];

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function probe(rows: number): Tensor<'float32'> {
  const next = lcg(7);
  const data = new Float32Array(rows * 64).map(() => next() * 2 - 1);
  return makeTensor('float32', [rows, ...INPUT_SHAPE], data);
}

/** A change of every BatchNorm mean and variance (variance kept positive at theta +- h Delta). */
function statsDelta(weights: Weights, which: 'mean' | 'var' | 'both'): Weights {
  const next = lcg(11);
  const delta: Weights = new Map();
  for (const [name, t] of weights) {
    const isMean = name.endsWith('running_mean');
    const isVar = name.endsWith('running_var');
    if (!(isMean && which !== 'var') && !(isVar && which !== 'mean')) continue;
    const base = t.data as Float32Array;
    delta.set(
      name,
      makeTensor(
        'float32',
        t.shape,
        base.map((v) => (isVar ? 0.4 * v : 0.5) * (next() * 2 - 1)),
      ),
    );
  }
  return delta;
}

function moved(weights: Weights, delta: Weights, step: number): Weights {
  const out: Weights = new Map(weights);
  for (const [name, d] of delta) {
    const base = weights.get(name)!.data as Float32Array;
    out.set(
      name,
      makeTensor(
        'float32',
        d.shape,
        base.map((v, i) => v + step * (d.data as Float32Array)[i]),
      ),
    );
  }
  return out;
}

async function features(weights: Weights, x: Tensor<'float32'>): Promise<Float32Array> {
  const { graph } = buildGraph(weights, { arch: 'convnet', inputShape: INPUT_SHAPE });
  const value = resolveLayer(graph, 'penultimate');
  const out = await runGraph(graph, { [graph.inputs[0].name]: x }, [value]);
  return out[value].data as Float32Array;
}

describe('forward-mode JVP through BatchNorm running statistics', () => {
  const weights = syntheticStateDict(archTemplate(SPEC), 3);
  const x = probe(5);

  for (const which of ['mean', 'var', 'both'] as const) {
    it(`tangent along the ${which} change matches central finite differences`, async () => {
      const delta = statsDelta(weights, which);
      expect(delta.size).toBe(which === 'both' ? 4 : 2);
      const { graph } = buildGraph(weights, { arch: 'convnet', inputShape: INPUT_SHAPE });
      const jvp = jvpGraph(graph, resolveLayer(graph, 'penultimate'), delta.keys());
      const feeds: Record<string, Tensor> = { [graph.inputs[0].name]: x };
      for (const [param, input] of jvp.tangentInputs) feeds[input] = delta.get(param)!;
      const out = await runGraph(jvp.graph, feeds, [jvp.output, jvp.tangent]);
      const tangent = out[jvp.tangent].data as Float32Array;

      // Small enough not to cross ReLU and max-pool switches, large enough for float32 rounding; a wrong
      // factor or sign in the derivative shows as an error of 50% or more.
      const h = 2e-3;
      const plus = await features(moved(weights, delta, h), x);
      const minus = await features(moved(weights, delta, -h), x);
      const reference = plus.map((v, i) => (v - minus[i]) / (2 * h));
      let worst = 0;
      let scale = 0;
      for (let i = 0; i < reference.length; i++) {
        worst = Math.max(worst, Math.abs(tangent[i] - reference[i]));
        scale = Math.max(scale, Math.abs(reference[i]));
      }
      expect(scale).toBeGreaterThan(1e-3);
      expect(worst / scale).toBeLessThan(1e-2);
    });
  }
});
