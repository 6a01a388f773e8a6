// npm run bench:tree-calibration: fits the tree's edge confidence (src/lineage/tree/confidence.ts)
// and checks it on families that played no part in the fit (issue 18).
// Fit: logistic regression of "edge right (parent and direction)" on x = min(|p - t|, t) / t, where
// p is the edge's branch_position (1 when absent) and t the twin threshold, over the edges that
// `recoverTree(refs, { method: 'weights-cos' })` gives on the six zoos bench:tree builds (reused from
// its cache: run bench:tree first). Check: expected calibration error (10 equal-width bins) of the
// shipped constants on the PyTorch-trained families (fixtures/tree-twins and, when built by
// `npm run bench:tree-zoos`, bench/.cache/pt-zoos/*). Writes bench/results/tree-calibration.{md,json}.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CALIBRATION, calibratedConfidence } from '../dist/lineage/tree/confidence.js';
import { recoverTree } from '../dist/lineage/tree/recover.js';
import { TWIN_BRANCH_POSITION } from '../dist/lineage/tree/twins.js';
import { readZooManifest } from '../dist/zoo/manifest.js';
import { runContext, writeAtomic } from './zoos.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const FIT = ['demo', 'generations-fc', 'paper-fc', 'generations', 'twins-fc', 'twins-cnn'].map((name) => ({
  name,
  dir: join(root, 'bench', '.cache', 'tree-zoos', name),
}));
const HELD_OUT = [
  { name: 'tree-twins', dir: join(root, 'fixtures', 'tree-twins') },
  ...['pt-twins-mlp', 'pt-deep-mlp', 'pt-twins-cnn', 'pt-missing-mlp'].map((name) => ({ name, dir: join(root, 'bench', '.cache', 'pt-zoos', name) })),
];

async function edgesOf(zoo) {
  const z = await readZooManifest(zoo.dir);
  const truth = new Map(z.models.map(({ entry }) => [entry.id, entry.parent]));
  const tree = await recoverTree(
    z.models.map(({ entry, path }) => ({ id: entry.id, path })),
    { method: 'weights-cos', relations: false },
  );
  return tree.edges.map((e) => ({ zoo: zoo.name, position: e.branch_position, confidence: e.confidence, right: truth.get(e.child) === e.parent ? 1 : 0 }));
}

const feature = (position) => (position === undefined ? 1 : Math.min(Math.abs(position - TWIN_BRANCH_POSITION), TWIN_BRANCH_POSITION) / TWIN_BRANCH_POSITION);

/** Newton's method on the logistic log-likelihood (two parameters, no penalty). */
function fitLogistic(xs, ys) {
  let a = 0;
  let b = 0;
  for (let it = 0; it < 100; it++) {
    let ga = 0;
    let gb = 0;
    let haa = 0;
    let hab = 0;
    let hbb = 0;
    xs.forEach((x, i) => {
      const p = 1 / (1 + Math.exp(-(a + b * x)));
      ga += p - ys[i];
      gb += (p - ys[i]) * x;
      const w = p * (1 - p);
      haa += w;
      hab += w * x;
      hbb += w * x * x;
    });
    const det = haa * hbb - hab * hab;
    a -= (hbb * ga - hab * gb) / det;
    b -= (haa * gb - hab * ga) / det;
  }
  return { intercept: a, slope: b };
}

function ece(pairs) {
  const bins = Array.from({ length: 10 }, () => ({ n: 0, conf: 0, right: 0 }));
  for (const { confidence, right } of pairs) {
    const bin = bins[Math.min(9, Math.floor(confidence * 10))];
    bin.n++;
    bin.conf += confidence;
    bin.right += right;
  }
  return bins.reduce((s, b) => s + (b.n ? (b.n / pairs.length) * Math.abs(b.conf / b.n - b.right / b.n) : 0), 0);
}

const started = performance.now();
const fitEdges = [];
for (const zoo of FIT) {
  if (!existsSync(join(zoo.dir, 'manifest.json'))) throw new Error(`${zoo.dir} holds no zoo: run npm run bench:tree first`);
  fitEdges.push(...(await edgesOf(zoo)));
}
const fitted = fitLogistic(
  fitEdges.map((e) => feature(e.position)),
  fitEdges.map((e) => e.right),
);
const heldOut = [];
const used = [];
for (const zoo of HELD_OUT) {
  if (!existsSync(join(zoo.dir, 'manifest.json'))) continue;
  used.push(zoo.name);
  heldOut.push(...(await edgesOf(zoo)));
}
const summary = (edges) => ({
  edges: edges.length,
  accuracy: edges.reduce((s, e) => s + e.right, 0) / edges.length,
  meanConfidence: edges.reduce((s, e) => s + e.confidence, 0) / edges.length,
  ece: ece(edges),
  eceWithFitted: ece(edges.map((e) => ({ ...e, confidence: calibratedConfidence(e.position, TWIN_BRANCH_POSITION, fitted) }))),
});
const fitSummary = summary(fitEdges);
const heldSummary = summary(heldOut);
const seconds = (performance.now() - started) / 1000;
const { command, machine, machineJson } = runContext(undefined, 'bench:tree-calibration');
const json = {
  command,
  machine: machineJson,
  shipped: CALIBRATION,
  fitted,
  fit: { zoos: FIT.map((z) => z.name), ...fitSummary },
  heldOut: { zoos: used, ...heldSummary },
  seconds,
};
writeAtomic(join(root, 'bench', 'results', 'tree-calibration.json'), `${JSON.stringify(json, null, 2)}\n`);
const f = (x) => x.toFixed(3);
const md = [
  '# bench:tree-calibration — calibrated edge confidence of `lineage tree` (weight methods)',
  '',
  `Machine: ${machine}. Command: \`${command}\`. Took ${seconds.toFixed(0)} s.`,
  '',
  'confidence = 1 / (1 + exp(-(A + B x))), x = min(|branch position - 1/4|, 1/4) / (1/4) (1 for edges with no grandparent): src/lineage/tree/confidence.ts.',
  `Fitted here by logistic regression on the edges of our builder's zoos (${FIT.map((z) => z.name).join(', ')}): A = ${f(fitted.intercept)}, B = ${f(fitted.slope)}; shipped: A = ${CALIBRATION.intercept}, B = ${CALIBRATION.slope}.`,
  "Expected calibration error: 10 equal-width bins, |mean confidence - share right| weighted by the bin's share of edges.",
  '',
  '| edges | families | edges | share right | mean confidence | ECE (shipped) | ECE (fitted now) |',
  '|---|---|---:|---:|---:|---:|---:|',
  `| fitted on | ${FIT.map((z) => z.name).join(', ')} | ${fitSummary.edges} | ${f(fitSummary.accuracy)} | ${f(fitSummary.meanConfidence)} | ${f(fitSummary.ece)} | ${f(fitSummary.eceWithFitted)} |`,
  `| held out (trained elsewhere: PyTorch) | ${used.join(', ')} | ${heldSummary.edges} | ${f(heldSummary.accuracy)} | ${f(heldSummary.meanConfidence)} | ${f(heldSummary.ece)} | ${f(heldSummary.eceWithFitted)} |`,
  '',
];
writeAtomic(join(root, 'bench', 'results', 'tree-calibration.md'), `${md.join('\n')}\n`);
console.log(md.join('\n'));
