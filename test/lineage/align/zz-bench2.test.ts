import { it } from 'vitest';
import { Rng } from '../../../src/base/random.js';
import { sketchRows, sketchSpec, normalisedRows } from '../../../src/lineage/align/sketch.js';
import { denseScores } from '../../../src/lineage/align/scores.js';

it('bench', () => {
  const n = 5632,
    L = 6144;
  const rng = new Rng(1);
  const fa = new Float32Array(n * L);
  for (let k = 0; k < fa.length; k++) fa[k] = rng.next() - 0.5;
  let t0 = performance.now();
  const spec = sketchSpec(L, 64, 1);
  const sa = sketchRows(fa, n, spec);
  console.log('sketch one side', (performance.now() - t0) / 1000);
  const ca = normalisedRows(sa, n, 64);
  t0 = performance.now();
  const s = denseScores(ca, ca, n, 64);
  console.log('n^2 d dense', (performance.now() - t0) / 1000, s[5]);
}, 600000);
