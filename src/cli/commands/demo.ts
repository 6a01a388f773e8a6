/**
 * `lineage demo`: the README's main command. Builds the small shipped zoo (zoos/demo.json) into a
 * cache folder when absent, scores every child against every root with the direct baseline, the
 * paper's Taylor method and a weight-space baseline (plus a quickly trained learned detector),
 * recovers the family tree, prints the accuracy table and writes the report.
 */
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readZooSpec } from '../../train/zoo-file.js';
import { buildZoo } from '../../train/zoo-build.js';
import type { ManifestModel } from '../../zoo/manifest.js';
import { scoreMatrix } from '../../lineage/learning-free.js';
import { readProbe } from '../../lineage/probe.js';
import { resolveModel } from '../../lineage/model.js';
import { recoverTree } from '../../lineage/tree/recover.js';
import { treeEdgeAccuracy } from '../../lineage/tree/accuracy.js';
import { layerOrigins } from '../../lineage/layers.js';
import { reportFromTree, writeReport } from '../../report/index.js';
import { formatTable, printJson } from '../output.js';
import { nonNegativeInt } from '../options.js';
import { runDemoDetector } from './demo-detector.js';

const SPEC = fileURLToPath(new URL('../../../zoos/demo.json', import.meta.url));

export interface DemoRow {
  method: string;
  correct: number;
  total: number;
  accuracy: number;
  seconds: number;
  note?: string;
}

function defaultCache(): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'neural-lineage', 'demo');
}

function log(quiet: boolean, text: string): void {
  if (!quiet) process.stderr.write(`${text}\n`);
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('build a small model zoo (cached), detect every child\'s parent with several methods, recover the family tree, print the accuracy table and write the report')
    .option('--cache <dir>', 'zoo folder (built when absent, reused after)', defaultCache())
    .option('--out <report.html>', 'report file (.html, .md or .json)')
    .option('--workers <n>', 'training processes (0: train in this process)', nonNegativeInt('--workers'), 2)
    .option('--no-detector', 'skip the learned detector')
    .option('--json', 'print the results as JSON')
    .action(async (options: { cache: string; out?: string; workers: number; detector: boolean; json?: boolean }) => {
      const quiet = Boolean(options.json);
      const started = performance.now();
      const spec = await readZooSpec(SPEC);
      log(quiet, `zoo: ${options.cache} (spec ${SPEC})`);
      const bar = process.stderr.isTTY && !quiet ? new cliProgress.SingleBar({ format: 'training {bar} {value}/{total} models | ETA {eta_formatted}', stream: process.stderr }, cliProgress.Presets.shades_classic) : undefined;
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

      const roots = manifest.models.filter((m) => m.parent === null);
      const children = manifest.models.filter((m) => m.parent !== null);
      const file = (m: ManifestModel) => join(options.cache, m.file);
      const rows: DemoRow[] = [];
      const methods = ['direct-l1', 'taylor-l1', 'weights-l2'];
      const correct = new Map(methods.map((m) => [m, 0]));
      const seconds = new Map(methods.map((m) => [m, 0]));
      const rankings: { child: string; truth: string; ranked: Record<string, string[]> }[] = [];
      for (const child of children) {
        const probe = await readProbe(join(options.cache, manifest.probes[child.task]));
        const ranked: Record<string, string[]> = {};
        for (const method of methods) {
          const t = performance.now();
          const [result] = await scoreMatrix(
            [async () => ({ ...(await resolveModel(file(child))), id: child.id })],
            roots.map((r) => async () => ({ ...(await resolveModel(file(r))), id: r.id })),
            { probe, methods: [method] },
          );
          seconds.set(method, seconds.get(method)! + (performance.now() - t) / 1000);
          const best = result.children[0].parent;
          if (best === child.parent) correct.set(method, correct.get(method)! + 1);
          ranked[method] = result.children[0].scores.map((s) => s.parent);
        }
        rankings.push({ child: child.id, truth: child.parent as string, ranked });
      }
      for (const m of methods) {
        rows.push({ method: m, correct: correct.get(m)!, total: children.length, accuracy: correct.get(m)! / children.length, seconds: seconds.get(m)! });
      }
      if (options.detector) rows.push(await runDemoDetector(options.cache, quiet));

      const t = performance.now();
      const tree = await recoverTree(
        manifest.models.map((m) => async () => ({ ...(await resolveModel(file(m))), id: m.id })),
        { method: 'weights-l2' },
      );
      const truth = manifest.models.map((m) => ({ id: m.id, parent: m.parent }));
      const accuracy = treeEdgeAccuracy(tree, truth);
      const treeSeconds = (performance.now() - t) / 1000;

      // Layer-level origin of the first child's blocks among the roots: every block should trace to its parent.
      const first = children[0];
      const firstWeights = (await resolveModel(file(first))).weights;
      const candidates = new Map<string, ReadonlyMap<string, import('../../tensor.js').Tensor>>();
      for (const r of roots) candidates.set(r.id, (await resolveModel(file(r))).weights);
      const origins = layerOrigins(firstWeights, candidates).map((o) => ({ layer: `${first.id}: ${o.layer}`, origins: o.origins.map((x) => ({ model: x.model, probability: x.probability })) }));

      const out = options.out ?? join(options.cache, 'report.html');
      await writeReport(out, reportFromTree(tree, { title: 'neural-lineage demo: MLP zoo (3 parents on MNIST digits, 9 fine-tuned children)', truth, accuracy, layerOrigins: origins }));
      const total = (performance.now() - started) / 1000;
      if (options.json) {
        printJson({ zoo: options.cache, report: out, parentDetection: rows, tree: { method: 'weights-l2', ...accuracy, seconds: treeSeconds }, rankings, seconds: total });
        return;
      }
      const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
      const table = formatTable(
        [{ header: 'method' }, { header: 'parents found', align: 'right' }, { header: 'top-1', align: 'right' }, { header: 'seconds', align: 'right' }, { header: 'note' }],
        rows.map((r) => [r.method, `${r.correct}/${r.total}`, pct(r.accuracy), r.seconds.toFixed(1), r.note ?? '']),
      );
      process.stdout.write(
        [
          `Parent detection: each of ${children.length} children against the ${roots.length} candidate parents (probe: the child's own training inputs)`,
          table,
          '',
          `Family tree of all ${manifest.models.length} models (weights-l2, no probe): ${accuracy.correct}/${accuracy.total} edges with the right parent and direction (${pct(accuracy.accuracy)}), roots ${accuracy.rootsCorrect}/${accuracy.rootsTotal}`,
          `Report: ${out}`,
          `Done in ${total.toFixed(0)} s.`,
          '',
        ].join('\n'),
      );
    });
}
