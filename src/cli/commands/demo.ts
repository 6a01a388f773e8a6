/**
 * `lineage demo`: the README's main command. Builds the small shipped zoo (zoos/demo.json) into a
 * cache folder when absent, scores every child against every root with the direct baseline, the
 * paper's Taylor method and a weight-space baseline (plus a quickly trained learned detector),
 * recovers the family tree, prints the accuracy table and writes the report.
 */
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readZooSpec } from '../../train/zoo-file.js';
import { cacheDir } from '../cache-dir.js';
import { type BuildZooResult, buildZoo } from '../../train/zoo-build.js';
import type { ManifestModel } from '../../zoo/manifest.js';
import { scoreMatrix } from '../../lineage/learning-free.js';
import { readProbe } from '../../lineage/probe.js';
import { recoverTree } from '../../lineage/tree/recover.js';
import { type TreeEdgeAccuracy, treeEdgeAccuracy } from '../../lineage/tree/accuracy.js';
import type { TreeRecovery } from '../../lineage/tree/build.js';
import type { TruthEntry } from '../../lineage/tree/types.js';
import { layerOrigins } from '../../lineage/layers.js';
import { type TreeReportExtras, reportFromTree, writeReport } from '../../report/index.js';
import { printJson } from '../output.js';
import { nonNegativeInt } from '../options.js';
import { runDemoDetector } from './demo-detector.js';
import { type DemoRow, demoTable, percentText } from './demo-row.js';

const SPEC = fileURLToPath(new URL('../../../zoos/demo.json', import.meta.url));

/** The learning-free methods of the table, each scoring every child against every root. */
/** The paper's baseline and method, a weight baseline, and `auto` (the default of `detect`: weights, features breaking ties). */
const METHODS = ['direct-l1', 'taylor-l1', 'weights-l2', 'auto'];

interface DemoOptions {
  cache: string;
  out?: string;
  workers: number;
  detector: boolean;
  json?: boolean;
}

type DemoManifest = BuildZooResult['manifest'];

/** One child's candidates, best first, by each method. */
interface Ranking {
  child: string;
  truth: string;
  ranked: Record<string, string[]>;
}

interface ParentDetection {
  rows: DemoRow[];
  rankings: Ranking[];
}

interface DemoTree {
  tree: TreeRecovery;
  truth: TruthEntry[];
  accuracy: TreeEdgeAccuracy;
  seconds: number;
}

function defaultCache(): string {
  return cacheDir('demo');
}

function log(quiet: boolean, text: string): void {
  if (!quiet) process.stderr.write(`${text}\n`);
}

/** Builds the demo zoo into the cache (or finds it there), with a progress bar on a TTY and log lines otherwise. */
async function buildDemoZoo(options: DemoOptions, quiet: boolean): Promise<DemoManifest> {
  const spec = await readZooSpec(SPEC);
  log(quiet, `zoo: ${options.cache} (spec ${SPEC})`);
  const bar =
    process.stderr.isTTY && !quiet
      ? new cliProgress.SingleBar(
          { format: 'training {bar} {value}/{total} models | ETA {eta_formatted}', stream: process.stderr },
          cliProgress.Presets.shades_classic,
        )
      : undefined;
  let lastLogged = -1;
  const { manifest, built } = await buildZoo(spec, {
    out: options.cache,
    workers: options.workers,
    specFile: SPEC,
    onNotice: (message) => log(quiet, `lineage: ${message}`),
    onProgress: (p) => {
      if (bar) {
        if (!bar.getTotal()) bar.start(p.total, p.done);
        bar.update(p.done);
      } else if (p.done !== lastLogged) {
        lastLogged = p.done;
        log(quiet, `training: ${p.done}/${p.total} models`);
      }
    },
  });
  bar?.stop();
  log(quiet, built.length > 0 ? `trained ${built.length} models` : 'zoo found in the cache: nothing to train');
  return manifest;
}

/** Scores each child against the roots with each learning-free method, the probe being the child's own training inputs. */
async function detectParents(cache: string, manifest: DemoManifest, roots: ManifestModel[], children: ManifestModel[]): Promise<ParentDetection> {
  const file = (m: ManifestModel) => join(cache, m.file);
  const tally: Record<string, { correct: number; seconds: number }> = Object.fromEntries(METHODS.map((m) => [m, { correct: 0, seconds: 0 }]));
  const rankings: Ranking[] = [];
  for (const child of children) {
    const probe = await readProbe(join(cache, manifest.probes[child.task]));
    const ranked: Record<string, string[]> = {};
    for (const method of METHODS) {
      const t = performance.now();
      const [result] = await scoreMatrix(
        [{ id: child.id, path: file(child) }],
        roots.map((r) => ({ id: r.id, path: file(r) })),
        // The table compares methods' accuracy and time: no independence test in the timing.
        { probe, methods: [method], independence: false },
      );
      tally[method].seconds += (performance.now() - t) / 1000;
      if (result.children[0].parent === child.parent) tally[method].correct += 1;
      ranked[method] = result.children[0].scores.map((s) => s.parent);
    }
    rankings.push({ child: child.id, truth: child.parent as string, ranked });
  }
  const rows = METHODS.map((m) => ({
    method: m,
    correct: tally[m].correct,
    total: children.length,
    accuracy: tally[m].correct / children.length,
    seconds: tally[m].seconds,
  }));
  return { rows, rankings };
}

/** The family tree of every model from weights alone (auto: weights-cos, no probe), scored against the manifest. */
async function demoTree(cache: string, manifest: DemoManifest): Promise<DemoTree> {
  const t = performance.now();
  const tree = await recoverTree(
    manifest.models.map((m) => ({ id: m.id, path: join(cache, m.file) })),
    { method: 'auto' },
  );
  const truth = manifest.models.map((m) => ({ id: m.id, parent: m.parent }));
  const accuracy = treeEdgeAccuracy(tree, truth);
  return { tree, truth, accuracy, seconds: (performance.now() - t) / 1000 };
}

/** Layer-level origin of the first child's blocks among the roots: every block should trace to its parent. */
async function firstChildOrigins(cache: string, roots: ManifestModel[], first: ManifestModel): Promise<TreeReportExtras['layerOrigins']> {
  const trace = await layerOrigins(
    { id: first.id, path: join(cache, first.file) },
    roots.map((r) => ({ id: r.id, path: join(cache, r.file) })),
  );
  return trace.layers.map((o) => ({
    layer: `${first.id}: ${o.layer}`,
    origins: o.origins.map((x) => ({ model: x.model, probability: x.probability })),
  }));
}

function printDemo(manifest: DemoManifest, rows: readonly DemoRow[], tree: DemoTree, report: string, seconds: number): void {
  const children = manifest.models.filter((m) => m.parent !== null).length;
  const roots = manifest.models.length - children;
  const { accuracy } = tree;
  process.stdout.write(
    [
      `Parent detection: each of ${children} children against the ${roots} candidate parents (probe: the child's own training inputs)`,
      demoTable(rows),
      '',
      `Family tree of all ${manifest.models.length} models (auto: weights, no probe): ${accuracy.correct}/${accuracy.total} edges with the right parent and direction (${percentText(accuracy.accuracy)}), roots ${accuracy.rootsCorrect}/${accuracy.rootsTotal}`,
      `Report: ${report}`,
      `Done in ${seconds.toFixed(0)} s.`,
      '',
    ].join('\n'),
  );
}

async function runDemo(options: DemoOptions): Promise<void> {
  const quiet = Boolean(options.json);
  const started = performance.now();
  const manifest = await buildDemoZoo(options, quiet);
  const roots = manifest.models.filter((m) => m.parent === null);
  const children = manifest.models.filter((m) => m.parent !== null);
  const { rows, rankings } = await detectParents(options.cache, manifest, roots, children);
  if (options.detector) rows.push(await runDemoDetector(options.cache, quiet));
  const tree = await demoTree(options.cache, manifest);
  const origins = await firstChildOrigins(options.cache, roots, children[0]);

  const out = options.out ?? join(options.cache, 'report.html');
  const title = 'neural-lineage demo: MLP zoo (3 parents on MNIST digits, 9 fine-tuned children)';
  await writeReport(out, reportFromTree(tree.tree, { title, truth: tree.truth, accuracy: tree.accuracy, layerOrigins: origins }));
  const total = (performance.now() - started) / 1000;
  if (options.json) {
    printJson({
      zoo: options.cache,
      report: out,
      parentDetection: rows,
      tree: { method: 'auto', ...tree.accuracy, seconds: tree.seconds },
      rankings,
      seconds: total,
    });
    return;
  }
  printDemo(manifest, rows, tree, out, total);
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description(
      "build a small model zoo (cached), detect every child's parent with several methods, recover the family tree, print the accuracy table and write the report",
    )
    .option('--cache <dir>', 'zoo folder (built when absent, reused after)', defaultCache())
    .option('--out <report.html>', 'report file (.html, .md, .json or .graphml)')
    .option('--workers <n>', 'training processes (0: train in this process)', nonNegativeInt('--workers'), 2)
    .option('--no-detector', 'skip the learned detector')
    .option('--json', 'print the results as JSON')
    .action(runDemo);
}
