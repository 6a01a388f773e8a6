// npm run bench:auto: is `auto` (issue 16: weight evidence, feature evidence breaking ties) at least
// as accurate as the best single method on every zoo? Runs the library's benchmark (benchmarkZoo,
// what `lineage bench` runs) with auto and the single methods it competes with on each zoo that
// bench:tree has already built under bench/.cache/tree-zoos (nothing is built here: a zoo absent or
// incomplete is reported as not measured). Probes: each zoo's manifest probes, as `lineage bench`.
// Beside the accuracies: which evidence decided auto per child, and how close the weights came to a
// tie (second-best over best weight distance 1 - cos; auto calls it a tie within 1 + TIE_SHARE).
// Writes bench/results/auto.{md,json}.
//
//   BENCH_AUTO_ZOOS=demo,paper-fc   only these zoos (by name; results then say which ran)
//   BENCH_AUTO_CACHE=DIR            where the zoos were built (default bench/.cache/tree-zoos)
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';

import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AUTO_FEATURE_METHOD, AUTO_WEIGHT_METHOD, TIE_SHARE } from '../dist/lineage/auto.js';
import { benchmarkZoo } from '../dist/eval/bench.js';
import { benchTables, formatCell } from '../dist/eval/format.js';
import { DEFAULT_ALPHA, scoreMatrix } from '../dist/lineage/learning-free.js';
import { readZooSpec } from '../dist/train/zoo-file.js';
import { planZoo } from '../dist/train/zoo-spec.js';
import { readZooManifest } from '../dist/zoo/manifest.js';
import { BENCH_ZOOS, runContext, selectedZoos, writeAtomic } from './zoos.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cacheDir = process.env.BENCH_AUTO_CACHE ?? join(root, 'bench', '.cache', 'tree-zoos');
const resultsDir = join(root, 'bench', 'results');
const METHODS = ['auto', 'weights-l2', 'weights-cos', 'weights-rel', 'direct-l1', 'taylor-l1'];
const SINGLE = METHODS.filter((m) => m !== 'auto');
const SEED = 0;
const RESAMPLES = 1000;

/** Every zoo of bench/zoos.mjs, at the scales bench:tree builds them. */
const ZOOS = selectedZoos('BENCH_AUTO_ZOOS', BENCH_ZOOS);

/** Why the cached zoo cannot be measured, or undefined when its manifest lists every planned model and each file is there. */
async function missing(zoo, dir) {
  const file = join(dir, 'manifest.json');
  if (!existsSync(file)) return `not built: no ${relative(root, file)} (bench:tree builds it; not built here to keep the run short)`;
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    return `unreadable manifest: ${err.message}`;
  }
  if (manifest.zoo?.scale !== zoo.scale) return `built at --scale ${manifest.zoo?.scale}, not ${zoo.scale}`;
  const planned = planZoo(await readZooSpec(join(root, zoo.spec)), zoo.scale, zoo.spec).length;
  const models = Array.isArray(manifest.models) ? manifest.models : [];
  if (models.length !== planned) return `incomplete: ${models.length} of ${planned} planned models`;
  const absent = models.filter((m) => !existsSync(join(dir, m.file)));
  if (absent.length > 0) return `incomplete: ${absent.length} model files missing (${absent[0].file}, ...)`;
  return undefined;
}

/**
 * Per child, the weight evidence's margin among the parent's generation: second-best over best
 * distance 1 - cos (weights-cos scores are cos). Weight methods only: streamed, no model pass.
 */
async function weightMargins(dir) {
  const zoo = await readZooManifest(dir);
  const ref = (m) => ({ id: m.entry.id, path: m.path });
  const margins = new Map();
  const depths = [...new Set(zoo.models.map((m) => m.depth))].filter((d) => d > 0);
  for (const depth of depths) {
    const children = zoo.models.filter((m) => m.depth === depth);
    const candidates = zoo.models.filter((m) => m.depth === depth - 1);
    if (candidates.length < 2) continue;
    const [result] = await scoreMatrix(children.map(ref), candidates.map(ref), { methods: [AUTO_WEIGHT_METHOD] });
    for (const c of result.children) {
      const finite = c.scores.filter((s) => Number.isFinite(s.score));
      const d = finite.map((s) => 1 - s.score);
      if (d.length >= 2)
        margins.set(c.child, { best: d[0], second: d[1], ratio: d[1] / d[0], distance: Object.fromEntries(finite.map((s) => [s.parent, 1 - s.score])) });
    }
  }
  return margins;
}

function summarise(result, margins) {
  const all = result.settings[0];
  const cells = Object.fromEntries(all.methods.map((c) => [c.method, c]));
  const bestCorrect = Math.max(...SINGLE.map((m) => cells[m].correct));
  const best = SINGLE.filter((m) => cells[m].correct === bestCorrect);
  const auto = cells.auto;
  const evidence = { weights: 0, combined: 0, features: 0, none: 0 };
  for (const c of result.children) evidence[c.evidence ?? 'none']++;
  // Children some single method gets right and auto does not: what a better rule would win back.
  const losses = result.children
    .filter((c) => c.predictions.auto !== c.parent && SINGLE.some((m) => c.predictions[m] === c.parent))
    .map((c) => ({ id: c.id, parent: c.parent, auto: c.predictions.auto, evidence: c.evidence, rightBy: SINGLE.filter((m) => c.predictions[m] === c.parent) }));
  const ratios = result.children.flatMap((c) => (margins.has(c.id) ? [{ id: c.id, ratio: margins.get(c.id).ratio }] : []));
  // A child the weights get right and the feature method wrong is lost once the feature method's
  // pick enters the tie: at TIE_SHARE >= its weight distance over the best, minus 1.
  const risks = result.children.flatMap((c) => {
    const m = margins.get(c.id);
    const pick = c.predictions[AUTO_FEATURE_METHOD];
    if (!m || c.predictions[AUTO_WEIGHT_METHOD] !== c.parent || !pick || pick === c.parent || m.distance[pick] === undefined) return [];
    return [{ id: c.id, share: m.distance[pick] / m.best - 1 }];
  });
  const firstLoss = risks.sort((a, b) => a.share - b.share)[0];
  const closest = ratios.sort((a, b) => a.ratio - b.ratio)[0];
  return {
    children: all.children,
    cells,
    best,
    bestCorrect,
    meetsBar: auto.correct >= bestCorrect,
    shortBy: Math.max(0, bestCorrect - auto.correct),
    evidence,
    losses,
    closestWeightTie: closest ?? null,
    tiesWithin: ratios.filter((r) => r.ratio <= 1 + TIE_SHARE).length,
    firstLossAtTieShare: firstLoss ?? null,
  };
}

function markdown(results, machine, command, totalSeconds) {
  const out = [
    '# bench:auto: the `auto` method against the single methods',
    '',
    `Machine: ${machine}. Command: \`${command}\`. Took ${totalSeconds.toFixed(0)} s.`,
    '',
    `Each zoo comes from bench:tree's cache (bench/.cache/tree-zoos, built with \`lineage zoo build SPEC --scale S\`); it is measured only when its manifest lists every planned model and every file is there.`,
    `Then the library's \`benchmarkZoo(dir, { methods: '${METHODS.join(',')}', alpha: ${DEFAULT_ALPHA}, seed: ${SEED}, resamples: ${RESAMPLES} })\` (what \`lineage bench\` runs): candidates are every model of the child's parent generation, probes are the manifest's (first 1024 rows), BatchNorm statistics the child's (the default).`,
    `auto = ${AUTO_WEIGHT_METHOD} decides; candidates within ${100 * TIE_SHARE}% of the best weight distance 1 - cos are a tie, broken by ${AUTO_FEATURE_METHOD} (evidence \`combined\`); \`features\` when no weight comparison was possible.`,
    'Top-1 % [bootstrap 95% interval] over all children of the zoo. Bar: auto correct >= the best single method correct, on the same children.',
    `Closest weight tie: the smallest ratio, over children, of the second-best to the best weight distance among the parent generation (auto breaks a tie when it is <= ${1 + TIE_SHARE}).`,
    `First loss at tie share: the smallest TIE_SHARE (now ${TIE_SHARE}) at which auto would lose a child the weights get right, because ${AUTO_FEATURE_METHOD}'s wrong pick would then be tied and preferred.`,
    '',
  ];
  const measured = results.filter((r) => r.summary);
  out.push(
    `| zoo | children | ${METHODS.join(' | ')} | auto >= best single | evidence: weights / combined / features | closest weight tie | first loss at tie share |`,
  );
  out.push(`|---|---:|${METHODS.map(() => '---:').join('|')}|---|---|---:|---:|`);
  for (const r of results) {
    if (!r.summary) {
      out.push(`| ${r.name} | - | ${METHODS.map(() => '-').join(' | ')} | not measured: ${r.skipped} | - | - | - |`);
      continue;
    }
    const s = r.summary;
    const bar = s.meetsBar ? `yes (best single: ${s.best.join(', ')})` : `**no**: ${s.shortBy} fewer than ${s.best.join(', ')}`;
    const tie = s.closestWeightTie ? `${s.closestWeightTie.ratio.toFixed(3)} (${s.closestWeightTie.id})` : '-';
    const loss = s.firstLossAtTieShare
      ? `${s.firstLossAtTieShare.share.toFixed(3)} (${s.firstLossAtTieShare.id})`
      : `none (${AUTO_FEATURE_METHOD} never wrong where weights are right)`;
    out.push(
      `| ${r.name} | ${s.children} | ${METHODS.map((m) => `${s.cells[m].correct}/${s.cells[m].total} = ${formatCell(s.cells[m])}`).join(' | ')} | ${bar} | ${s.evidence.weights} / ${s.evidence.combined} / ${s.evidence.features} | ${tie} | ${loss} |`,
    );
  }
  out.push('');
  const allMet = measured.length > 0 && measured.every((r) => r.summary.meetsBar);
  const unmeasured = results.filter((r) => !r.summary).map((r) => r.name);
  out.push(
    `Verdict: auto ${allMet ? 'meets' : 'does not meet'} the bar on ${allMet ? 'every' : 'some'} measured zoo${unmeasured.length ? ` (not measured: ${unmeasured.join(', ')})` : ''}.`,
    '',
  );
  for (const r of measured) {
    if (r.summary.losses.length === 0) continue;
    out.push(`Children of ${r.name} a single method gets right and auto does not:`, '');
    for (const l of r.summary.losses) out.push(`- ${l.id}: parent ${l.parent}, auto ${l.auto} (${l.evidence}); right by ${l.rightBy.join(', ')}`);
    out.push('');
  }
  for (const r of results) {
    out.push(`## ${r.name} (\`${r.spec}\`, --scale ${r.scale}${r.models !== undefined ? `, ${r.models} models` : ''})`, '', `${r.why}.`, '');
    if (!r.summary) {
      out.push(`Not measured: ${r.skipped}.`, '');
      continue;
    }
    out.push(`${r.seconds.toFixed(0)} s. The benchmark's own tables:`, '', benchTables(r.result, true).replaceAll(/^### /gm, '#### '), '');
  }
  return `${out.join('\n')}\n`;
}

const started = performance.now();
const results = [];
for (const zoo of ZOOS) {
  const dir = join(cacheDir, zoo.name);
  const entry = { ...zoo, dir: relative(root, dir) };
  const skipped = await missing(zoo, dir);
  if (skipped) {
    console.log(`${zoo.name}: not measured: ${skipped}`);
    results.push({ ...entry, skipped });
    continue;
  }
  console.log(`benchmarking ${zoo.name}`);
  const t0 = performance.now();
  const result = await benchmarkZoo(dir, {
    methods: METHODS.join(','),
    alpha: DEFAULT_ALPHA,
    seed: SEED,
    resamples: RESAMPLES,
    onProgress: (p) => console.log(`  ${p.done}/${p.total} ${p.step}`),
  });
  const margins = await weightMargins(dir);
  const seconds = (performance.now() - t0) / 1000;
  const summary = summarise(result, margins);
  console.log(
    `  auto ${summary.cells.auto.correct}/${summary.children}, best single ${summary.bestCorrect} (${summary.best.join(', ')}): ${summary.meetsBar ? 'meets' : 'misses'} the bar; ${seconds.toFixed(0)} s`,
  );
  results.push({ ...entry, models: result.zoo.models, seconds, summary, result });
}
const totalSeconds = (performance.now() - started) / 1000;
const { command, machine, machineJson } = runContext('BENCH_AUTO_ZOOS', 'bench:auto');
mkdirSync(resultsDir, { recursive: true });
const json = {
  command,
  machine: machineJson,
  methods: METHODS,
  options: { alpha: DEFAULT_ALPHA, seed: SEED, resamples: RESAMPLES, tieShare: TIE_SHARE },
  seconds: totalSeconds,
  meetsBarOnEveryMeasuredZoo: results.filter((r) => r.summary).every((r) => r.summary.meetsBar),
  zoos: results,
};
writeAtomic(join(resultsDir, 'auto.json'), `${JSON.stringify(json, null, 2)}\n`);
writeAtomic(join(resultsDir, 'auto.md'), markdown(results, machine, command, totalSeconds));
console.log(`wrote ${relative(root, join(resultsDir, 'auto.md'))} and auto.json in ${totalSeconds.toFixed(0)} s`);
