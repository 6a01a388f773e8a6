// npm run bench:lift: where does the first-order Taylor term point?
//
// For every child of the zoos bench:paper builds (bench/tmp/zoos; run bench:paper or its
// BENCH_BUILD_ONLY=1 first), and every candidate of its parent's generation, the Taylor term of l1
// at alpha = 1 is the directional derivative D_T s of s = -mean |F_p - F_c| along the tangent
// T = J_p Delta: taylor-l1@1 - direct-l1. The taylor score s + alpha D_T s can only move the ranking
// toward the true parent if the true parent tends to get the largest lift. This writes
// bench/results/taylor-lift.md and .json: per zoo and BatchNorm-statistics choice, how often direct-l1
// ranks the true parent first, how often the largest lift falls on it, and chance (mean 1/K).
// Probe: the first 256 rows of each child's task probe (bench:paper uses 1024).
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { readZooManifest } from '../dist/zoo/manifest.js';
import { readProbe } from '../dist/lineage/probe.js';
import { scoreMatrix } from '../dist/lineage/learning-free.js';
import { argmax } from '../dist/lineage/detector/infer.js';

const root = new URL('..', import.meta.url).pathname;
const zoosDir = join(root, 'bench/tmp/zoos');
const resultsDir = join(root, 'bench/results');
const PROBE_ROWS = 256;
const ZOOS = [
  { name: 'paper-fc', dir: 'paper-fc', bnStats: ['parent'] },
  { name: 'generations-fc', dir: 'generations-fc', bnStats: ['parent'] },
  { name: 'generations', dir: 'generations-2', bnStats: ['parent', 'child', 'delta'] },
  { name: 'settings', dir: 'settings', bnStats: ['parent', 'child', 'delta'] },
];
const log = (s) => process.stderr.write(`${s}\n`);
const started = performance.now();
mkdirSync(resultsDir, { recursive: true });

async function measure(zoo, bnStats) {
  const byId = new Map(zoo.models.map((m) => [m.entry.id, m]));
  // One scoreMatrix call per (task, parent generation): children share the probe and the candidates.
  const jobs = new Map();
  for (const child of zoo.models.filter((m) => m.entry.parent !== null)) {
    const from = byId.get(child.entry.parent).depth;
    const key = `${child.entry.task}|${from}`;
    if (!jobs.has(key)) jobs.set(key, { task: child.entry.task, candidates: zoo.models.filter((m) => m.depth === from), children: [] });
    jobs.get(key).children.push(child);
  }
  const rows = [];
  for (const job of jobs.values()) {
    const probe = await readProbe(zoo.probes.get(job.task), PROBE_ROWS);
    const results = await scoreMatrix(
      job.children.map((c) => c.path),
      job.candidates.map((c) => c.path),
      { probe, methods: ['direct-l1', 'taylor-l1'], alpha: 1, bnStats },
    );
    const scoresOf = (method, i) => new Map(results.find((r) => r.method === method).children[i].scores.map((s) => [s.parent, s.score]));
    job.children.forEach((child, i) => {
      const direct = scoresOf('direct-l1', i);
      const taylor = scoresOf('taylor-l1', i);
      const ids = job.candidates.map((c) => c.path);
      const truth = ids.indexOf(byId.get(child.entry.parent).path);
      const d = ids.map((id) => direct.get(id));
      const lift = ids.map((id) => taylor.get(id) - direct.get(id));
      const pick = argmax(d);
      // Direct's wrong pick falls behind the parent for a large enough alpha iff the parent's lift is larger.
      const liftBeatsPick = pick !== truth && lift[truth] > lift[pick];
      rows.push({
        child: child.entry.id,
        candidates: ids.length,
        directTop: pick === truth,
        liftTop: argmax(lift) === truth,
        liftBeatsPick,
        parentLift: lift[truth],
        maxOtherLift: Math.max(...lift.filter((_, k) => k !== truth)),
      });
    });
  }
  const n = rows.length;
  const pct = (k) => (100 * k) / n;
  return {
    children: n,
    directTop1: pct(rows.filter((r) => r.directTop).length),
    largestLiftOnParent: pct(rows.filter((r) => r.liftTop).length),
    chance: (100 * rows.reduce((a, r) => a + 1 / r.candidates, 0)) / n,
    parentLiftPositive: pct(rows.filter((r) => r.parentLift > 0).length),
    directWrong: rows.filter((r) => !r.directTop).length,
    liftBeatsDirectPick: rows.filter((r) => r.liftBeatsPick).length,
    rows,
  };
}

const results = [];
for (const z of ZOOS) {
  const dir = join(zoosDir, z.dir);
  if (!existsSync(join(dir, 'manifest.json'))) {
    log(`skip ${z.name}: ${dir} is not built (run npm run bench:paper, or BENCH_BUILD_ONLY=1 npm run bench:paper)`);
    continue;
  }
  const zoo = await readZooManifest(dir, { childProbes: true });
  for (const bnStats of z.bnStats) {
    const t = performance.now();
    log(`== ${z.name}, --bn-stats ${bnStats}`);
    const r = await measure(zoo, bnStats);
    results.push({ zoo: z.name, bnStats, seconds: (performance.now() - t) / 1000, ...r });
    log(
      `   ${r.children} children: direct ${r.directTop1.toFixed(1)}%, largest lift on the parent ${r.largestLiftOnParent.toFixed(1)}%, chance ${r.chance.toFixed(1)}%`,
    );
  }
}

const total = (performance.now() - started) / 1000;
const machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version };
const md = [
  '# bench:lift: where the first-order Taylor term points',
  '',
  `Machine: ${machine.cpus} x ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node ${machine.node}. Command: \`npm run bench:lift\`. Total ${total.toFixed(0)} s.`,
  `Every child of the bench:paper zoos against every model of its parent's generation; probe: first ${PROBE_ROWS} rows of the child's task probe.`,
  'Lift = D_T s for l1 (taylor-l1 at alpha 1 minus direct-l1), the term the taylor score s + alpha * lift adds. It can',
  "repair a child direct-l1 gets wrong only if the true parent's lift exceeds that of direct's pick (last columns: children",
  "direct gets wrong, and those where the parent's lift is the larger), and it can break a right answer when another",
  'candidate gets a larger lift than the parent.',
  '',
  "| zoo | --bn-stats | children | direct-l1 top-1 % | largest lift on the true parent % | chance % | parent lift > 0 % | direct wrong | parent lift > direct pick's | seconds |",
  '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...results.map(
    (r) =>
      `| ${r.zoo} | ${r.bnStats} | ${r.children} | ${r.directTop1.toFixed(1)} | ${r.largestLiftOnParent.toFixed(1)} | ${r.chance.toFixed(1)} | ${r.parentLiftPositive.toFixed(1)} | ${r.directWrong} | ${r.liftBeatsDirectPick} | ${r.seconds.toFixed(0)} |`,
  ),
];
writeFileSync(join(resultsDir, 'taylor-lift.md'), `${md.join('\n')}\n`);
writeFileSync(
  join(resultsDir, 'taylor-lift.json'),
  `${JSON.stringify({ machine, command: 'npm run bench:lift', totalSeconds: total, probeRows: PROBE_ROWS, results }, null, 2)}\n`,
);
log(`wrote bench/results/taylor-lift.md and .json in ${total.toFixed(0)} s`);
