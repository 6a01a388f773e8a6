import { it } from 'vitest';
import { Rng } from '../../../src/base/random.js';
import { approximateAssignment } from '../../../src/lineage/align/approximate.js';

function problem(n: number, length: number, noise: number, seed: number) {
  const rng = new Rng(seed);
  const fa = new Float32Array(n * length);
  for (let k = 0; k < fa.length; k++) fa[k] = rng.normal();
  const truth = rng.shuffle(Int32Array.from({ length: n }, (_, i) => i));
  const fb = new Float32Array(n * length);
  for (let i = 0; i < n; i++) for (let c = 0; c < length; c++) fb[truth[i] * length + c] = fa[i * length + c] + noise * rng.normal();
  return { fa, fb, truth };
}

it('bench', () => {
  for (const [n, L, noise] of [
    [2048, 512, 1],
    [5632, 6144, 0.3],
    [5632, 6144, 1],
    [5632, 6144, 1.5],
    [5632, 6144, 2],
  ] as const) {
    const { fa, fb, truth } = problem(n, L, noise, 7);
    const t0 = performance.now();
    const perm = approximateAssignment(fa, fb, n, L);
    const t = (performance.now() - t0) / 1000;
    let ok = 0;
    for (let i = 0; i < n; i++) if (perm[i] === truth[i]) ok++;
    console.log(n, L, noise, t.toFixed(2), 's', ok / n);
  }
}, 600000);
