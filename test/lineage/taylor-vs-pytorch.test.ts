import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { parseNpy } from '../../src/formats/npy.js';
import { scoreMatrix } from '../../src/lineage/learning-free.js';
import type { LineageModel } from '../../src/lineage/model.js';
import type { Tensor, Weights } from '../../src/tensor.js';
import { syntheticStateDict, type SyntheticTensorSpec } from '../../src/testing/synthetic-weights.js';
import { readFixture } from '../archs/fixtures.js';

interface TaylorFixture {
  alpha: number;
  deltaScale: number;
  seeds: { parent: number; child: number; unrelated: number };
  results: Record<'parent' | 'unrelated', Record<string, { direct: number; deriv: number; taylor: number }>>;
}

/** theta_c = theta_p + deltaScale * noise, buffers unchanged: the same float32 arithmetic as the script. */
function childOf(parent: Weights, noise: Weights, scale: number): Weights {
  const out: Weights = new Map();
  for (const [k, t] of parent) {
    if (t.dtype !== 'float32' || /running_(mean|var)$/.test(k)) {
      out.set(k, t);
      continue;
    }
    const p = t.data as Float32Array;
    const n = noise.get(k)!.data as Float32Array;
    out.set(k, { dtype: 'float32', shape: t.shape, data: p.map((v, i) => v + n[i] * scale) });
  }
  return out;
}

function close(actual: number, expected: number, rel = 1e-4, abs = 1e-7): boolean {
  return Math.abs(actual - expected) <= Math.max(abs, rel * Math.abs(expected));
}

// Reference: the paper's reverse-mode form s + alpha <grad_theta s, Delta>, computed by PyTorch in
// float64 (scripts/make_taylor_fixtures.py). Ours: forward-mode tangents in ONNX Runtime, float32.
describe('taylor scores equal the PyTorch reverse-mode reference', () => {
  for (const name of ['mlp', 'resnet18']) {
    it(`${name}: direct and taylor scores of parent and unrelated candidate, five metrics`, async () => {
      const fixture = JSON.parse(readFileSync(`fixtures/taylor/${name}.json`, 'utf8')) as TaylorFixture;
      const keys = readFixture(name).keys as SyntheticTensorSpec[];
      const parentWeights = syntheticStateDict(keys, fixture.seeds.parent);
      const child: LineageModel = {
        id: 'child',
        file: 'child',
        metadata: {},
        weights: childOf(parentWeights, syntheticStateDict(keys, fixture.seeds.child), fixture.deltaScale),
      };
      const parent: LineageModel = { id: 'parent', file: 'parent', metadata: {}, weights: parentWeights };
      const unrelated: LineageModel = { id: 'unrelated', file: 'unrelated', metadata: {}, weights: syntheticStateDict(keys, fixture.seeds.unrelated) };
      const probe = parseNpy(readFileSync(`fixtures/taylor/${name}.probe.npy`)) as Tensor<'float32'>;
      const metrics = ['l1', 'l2', 'lp', 'lse', 'cka'];
      const methods = metrics.flatMap((m) => [`direct-${m}`, `taylor-${m}`]);
      const results = await scoreMatrix([child], [parent, unrelated], { probe, methods, alpha: fixture.alpha, bnStats: 'parent' });
      const mismatches: string[] = [];
      for (const r of results) {
        const [mode, metric] = r.method.split('-') as ['direct' | 'taylor', string];
        for (const s of r.children[0].scores) {
          const want = fixture.results[s.parent as 'parent' | 'unrelated'][metric][mode];
          if (!close(s.score, want)) mismatches.push(`${r.method} ${s.parent}: ours ${s.score}, PyTorch ${want}`);
        }
      }
      expect(mismatches).toEqual([]);
      // The Taylor term must matter in this fixture, or the check above would not test it.
      expect(Math.abs(fixture.results.parent.l1.taylor - fixture.results.parent.l1.direct)).toBeGreaterThan(0.1 * Math.abs(fixture.results.parent.l1.direct));
    });
  }
});
