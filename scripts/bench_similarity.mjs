// Timing of every similarity metric at the sizes the learning-free lineage code uses.
// Run after `npm run build`:  node scripts/bench_similarity.mjs
// Prints the best of several repetitions (ms) for raw() and directional() per metric.
import { getMetric } from '../dist/lineage/similarity/index.js';

function uniform(len, seed) {
  const a = new Float32Array(len);
  let s = seed;
  for (let i = 0; i < len; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    a[i] = s / 2147483648 - 0.5;
  }
  return a;
}

function best(fn, reps) {
  fn();
  let min = Infinity;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    fn();
    min = Math.min(min, performance.now() - t0);
  }
  return min;
}

const runs = [
  ...['l1', 'l2', 'lp', 'lse', 'linf'].map((m) => [m, 1024, 2048, 5]),
  ['cka', 1024, 128, 4],
  ['cka', 1024, 512, 3],
  ['cka-unbiased', 1024, 512, 3],
  ['cka', 1024, 2048, 1],
  ['dc', 1024, 256, 3],
];
for (const [name, n, d, reps] of runs) {
  const fp = uniform(n * d, 1);
  const fc = uniform(n * d, 2);
  const t = uniform(n * d, 3);
  const metric = getMetric(name);
  const raw = best(() => metric.raw(fp, fc, n, d), reps);
  const dir = best(() => metric.directional(fp, fc, t, n, d), reps);
  console.log(`${name.padEnd(13)} N=${n} D=${String(d).padEnd(5)} raw ${raw.toFixed(1).padStart(8)} ms  directional ${dir.toFixed(1).padStart(8)} ms`);
}
