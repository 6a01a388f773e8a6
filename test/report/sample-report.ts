/** A hand-made report: two families (7 models, 5 edges), a full score grid and layer origins. */
import type { ReportData } from '../../src/report/index.js';

const IDS = ['root', 'a', 'b', 'a1', 'b1', 'other', 'other-child'];
const PARENT: Record<string, string | null> = { root: null, a: 'root', b: 'root', a1: 'a', b1: 'b', other: null, 'other-child': 'other' };

export function sampleReport(withOrigins: boolean): ReportData {
  const edges = IDS.filter((id) => PARENT[id]).map((id, i) => ({
    parent: PARENT[id] as string,
    child: id,
    score: -0.01 * (i + 1),
    confidence: 0.6 + 0.07 * i,
  }));
  // b1's parent deliberately wrong in the truth, to exercise the "disagrees" styling.
  const truth = IDS.map((id) => ({ id, parent: id === 'b1' ? 'a' : PARENT[id] }));
  return {
    title: 'Sample <family> report',
    method: { name: 'taylor-l1', alpha: 0.01, layer: 'penultimate' },
    tree: { nodes: IDS.map((id) => ({ id, file: `models/${id}.safetensors` })), edges, roots: ['root', 'other'] },
    scores: {
      children: IDS,
      candidates: IDS,
      values: IDS.map((c, i) => IDS.map((p, j) => (i === j ? null : -0.01 * (1 + Math.abs(i - j)) - 0.001 * i))),
    },
    truth,
    accuracy: { correct: 4, total: 5, accuracy: 0.8, reversed: 0, undirectedAccuracy: 0.8, rootsCorrect: 2, rootsTotal: 2 },
    layerOrigins: withOrigins
      ? [
          {
            layer: 'fc1',
            origins: [
              { model: 'a', probability: 0.7 },
              { model: 'b', probability: 0.2 },
              { model: 'root', probability: 0.1 },
            ],
          },
          {
            layer: 'fc2',
            origins: [
              { model: 'b', probability: 0.9 },
              { model: 'a', probability: 0.1 },
            ],
          },
        ]
      : null,
  };
}
