import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { buildZoo } from '../../train/zoo-build.js';
import type { ManifestModel } from '../../zoo/manifest.js';
import { readZooSpec } from '../../train/zoo-file.js';
import { formatMode } from '../../train/finetune.js';
import { EPOCH_EXAMPLES_BOUND, MAX_ZOO_MODELS, MAX_ZOO_TRAINING_STEPS, planZoo } from '../../train/zoo-spec.js';
import { nonNegativeInt, positiveFinite } from '../options.js';
import { formatTable, printJson } from '../output.js';

interface BuildCliOptions {
  out: string;
  workers: number;
  scale: number;
  dataDir?: string;
  json?: boolean;
  progress: boolean;
}

function summaryTable(models: readonly ManifestModel[]): string {
  const byGeneration = new Map<number, ManifestModel[]>();
  for (const m of models) byGeneration.set(m.generation, [...(byGeneration.get(m.generation) ?? []), m]);
  const rows = [...byGeneration]
    .sort(([a], [b]) => a - b)
    .map(([g, ms]) => {
      const accs = ms.map((m) => m.accuracy);
      const mean = accs.reduce((a, b) => a + b, 0) / accs.length;
      return [String(g), String(ms.length), (100 * mean).toFixed(1), (100 * Math.min(...accs)).toFixed(1), (100 * Math.max(...accs)).toFixed(1)];
    });
  return formatTable(
    [
      { header: 'generation' },
      { header: 'models', align: 'right' },
      { header: 'mean acc %', align: 'right' },
      { header: 'min', align: 'right' },
      { header: 'max', align: 'right' },
    ],
    rows,
  );
}

const count = (n: number) => n.toLocaleString('en-US');
const LIMITS_HELP = `
Limits: a zoo has at most ${count(MAX_ZOO_MODELS)} models and ${count(MAX_ZOO_TRAINING_STEPS)} training steps in
all, at the given --scale (an epoch counts as ${count(EPOCH_EXAMPLES_BOUND)} / batch steps). A spec
over either, or with any invalid field, is refused with every problem listed
before anything is trained or written.`;

/** `zoo build`: trains the spec's models into --out, with a progress bar on stderr. */
async function runBuild(specFile: string, options: BuildCliOptions): Promise<void> {
  const { workers, scale } = options;
  const spec = await readZooSpec(specFile);
  const bar = options.progress
    ? new cliProgress.SingleBar(
        { stream: process.stderr, format: 'zoo |{bar}| {value}/{total} models | ETA {eta_formatted} | {running}', hideCursor: true, etaBuffer: 20 },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  let started = false;
  const result = await buildZoo(spec, {
    out: options.out,
    workers,
    scale,
    specFile,
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    // before the progress bar starts (resume checks, the lock), so no line is torn
    onNotice: (message) => process.stderr.write(`lineage: ${message}\n`),
    onProgress: (p) => {
      const running = p.running.map((r) => (r.steps ? `${r.id} ${r.step}/${r.steps}` : r.id)).join(', ');
      if (!bar) return;
      if (!started) {
        bar.start(p.total, p.done, { running });
        started = true;
      } else {
        bar.update(p.done, { running });
      }
    },
  });
  bar?.stop();
  const { manifest } = result;
  if (options.json) {
    printJson({
      out: options.out,
      manifest: `${options.out}/manifest.json`,
      models: manifest.models.length,
      built: result.built.length,
      skipped: result.skipped.length,
      seconds: Number(result.seconds.toFixed(1)),
      probes: manifest.probes,
      accuracy: Object.fromEntries(manifest.models.map((m) => [m.id, m.accuracy])),
    });
  } else {
    process.stdout.write(
      `${options.out}: ${manifest.models.length} models (${result.built.length} built, ${result.skipped.length} already there) in ${result.seconds.toFixed(1)} s\n\n${summaryTable(manifest.models)}\n`,
    );
  }
}

export function registerZoo(program: Command): void {
  const zoo = program
    .command('zoo')
    .description('build model zoos with known lineage: parents trained from scratch, children fine-tuned from them')
    .addHelpText('after', LIMITS_HELP);

  zoo
    .command('build')
    .description('train every model of a zoo spec into a folder (models/*.safetensors, probes/*.npy, manifest.json); reruns resume')
    .argument('<spec.json>', 'zoo spec (see zoos/*.json)')
    .requiredOption('--out <dir>', 'output folder')
    .option('--workers <n>', 'worker processes training in parallel (0: train in this process)', nonNegativeInt('--workers'), 2)
    .option('--scale <f>', 'multiply children per parent and training steps/epochs by f (root counts unchanged)', positiveFinite('--scale'), 1)
    .option('--data-dir <dir>', 'Fashion-MNIST folder for task `fashion` (default /usr/share/datasets/fashion-mnist; `fashion-mini` ships with the package)')
    .option('--no-progress', 'no progress bar on stderr')
    .option('--json', 'print a JSON summary')
    .addHelpText('after', LIMITS_HELP)
    .action(runBuild);

  zoo
    .command('plan')
    .description('list the models a zoo spec describes (id, parent, task, setting, steps) without training')
    .argument('<spec.json>', 'zoo spec')
    .option('--scale <f>', 'as for zoo build', positiveFinite('--scale'), 1)
    .option('--json', 'print JSON')
    .addHelpText('after', LIMITS_HELP)
    .action(async (specFile: string, options: { scale: number; json?: boolean }) => {
      const jobs = planZoo(await readZooSpec(specFile), options.scale, specFile);
      if (options.json) {
        printJson(
          jobs.map((j) => ({
            id: j.id,
            parent: j.parent,
            generation: j.generation,
            arch: j.arch,
            task: j.task,
            setting: j.setting,
            mode: formatMode(j.mode),
            seed: j.seed,
            train: j.train,
          })),
        );
        return;
      }
      const rows = jobs.map((j) => [j.id, j.parent ?? '-', String(j.generation), j.arch, j.task, j.setting, String(j.train.steps ?? `${j.train.epochs} ep`)]);
      process.stdout.write(
        `${formatTable(
          [
            { header: 'id' },
            { header: 'parent' },
            { header: 'gen', align: 'right' },
            { header: 'arch' },
            { header: 'task' },
            { header: 'setting' },
            { header: 'steps', align: 'right' },
          ],
          rows,
        )}\n${jobs.length} models\n`,
      );
    });
}
