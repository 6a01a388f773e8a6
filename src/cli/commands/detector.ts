import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { type EpochRecord, DEFAULT_ARCHITECTURE, DEFAULT_MAX_SIZE, DEFAULT_PROBE_ROWS, parseModalities } from '../../lineage/detector/config.js';
import { type DetectorEvaluation, evaluateDetector } from '../../lineage/detector/evaluate.js';
import { saveDetector } from '../../lineage/detector/io.js';
import { ACTIVATION_BUDGET } from '../../lineage/detector/examples.js';
import {
  type TrainDetectorOptions,
  type TrainDetectorResult,
  PAPER_EPOCHS,
  PAPER_TRAIN_CHILDREN,
  TINY_ZOO_EPOCHS,
  trainDetector,
} from '../../lineage/detector/train.js';
import { UsageError } from '../errors.js';
import { formatTable, printJson } from '../output.js';
import { collect, nonNegativeInt, positiveFinite, positiveInt } from '../options.js';

interface TrainCliOptions {
  zoo: string[];
  out: string;
  epochs?: number;
  layers: string;
  inputs: string;
  seed: number;
  embed: number;
  depth: number;
  attnHeads: number;
  ffn: number;
  noneCandidate?: boolean;
  differenceInit: boolean;
  batch: number;
  lr: number;
  gamma: number;
  maxSize: number;
  probeRows: number;
  activationBudget: number;
  arch?: string;
  heads?: number;
  json?: boolean;
  progress: boolean;
}

interface EvalCliOptions {
  detector: string;
  zoo: string[];
  arch?: string;
  heads?: number;
  json?: boolean;
  progress: boolean;
}

function percent(x: number | null): string {
  return x === null ? '-' : (100 * x).toFixed(1);
}

/** Progress on stderr (a TTY only) that restarts its bar when the phase changes: models read, then epochs. */
interface PhasedProgress {
  tick(phase: string, done: number, total: number): void;
  stop(): void;
}

function phasedProgress(enabled: boolean, format: string): PhasedProgress {
  const bar =
    enabled && process.stderr.isTTY
      ? new cliProgress.SingleBar({ format, stream: process.stderr, hideCursor: true }, cliProgress.Presets.shades_classic)
      : undefined;
  let current = '';
  return {
    tick: (phase, done, total) => {
      if (!bar) return;
      if (current !== phase) {
        if (current) bar.stop();
        current = phase;
        bar.start(total, done, { phase });
      } else bar.update(done);
    },
    stop: () => bar?.stop(),
  };
}

function historyTable(history: readonly EpochRecord[]): string {
  return formatTable(
    [
      { header: 'epoch', align: 'right' },
      { header: 'loss', align: 'right' },
      { header: 'train %', align: 'right' },
      { header: 'val %', align: 'right' },
      { header: 'test %', align: 'right' },
      { header: 's', align: 'right' },
    ],
    history.map((r) => [String(r.epoch), r.loss.toFixed(4), percent(r.train), percent(r.val), percent(r.test), r.seconds.toFixed(2)]),
  );
}

function evaluationTable(e: DetectorEvaluation): string {
  const rows = (['all', 'train', 'val', 'test', 'unseen'] as const)
    .filter((k) => e[k].examples > 0)
    .map((k) => [k, String(e[k].examples), percent(e[k].accuracy)]);
  return formatTable([{ header: 'children' }, { header: 'examples', align: 'right' }, { header: 'top-1 %', align: 'right' }], rows);
}

/** What `detector train` asks of trainDetector, its options checked (progress callbacks aside). */
type TrainRequest = Omit<TrainDetectorOptions, 'onPrepare' | 'onEpoch'>;

function parseInputs(text: string): ReturnType<typeof parseModalities> {
  try {
    return parseModalities(text);
  } catch (err) {
    throw new UsageError(`--inputs: ${(err as Error).message}`);
  }
}

function trainRequest(options: TrainCliOptions): TrainRequest {
  const inputs = parseInputs(options.inputs);
  const layers = options.layers
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (layers.length === 0) throw new UsageError('--layers: give at least one layer');
  const embed = options.embed;
  const heads = options.attnHeads;
  if (embed % heads !== 0) throw new UsageError(`--embed (${embed}) must be a multiple of --attn-heads (${heads})`);
  return {
    zoos: options.zoo,
    architecture: {
      inputs,
      layers,
      embed,
      depth: options.depth,
      heads,
      ffn: options.ffn,
      noParent: options.noneCandidate === true,
    },
    models: {
      ...(options.arch ? { arch: options.arch } : {}),
      ...(options.heads ? { heads: options.heads } : {}),
    },
    differenceInit: options.differenceInit,
    ...(options.epochs !== undefined ? { epochs: options.epochs } : {}),
    seed: options.seed,
    batch: options.batch,
    lr: options.lr,
    gamma: options.gamma,
    maxSize: options.maxSize,
    probeRows: options.probeRows,
    activationBudget: options.activationBudget,
  };
}

/** The `--json` summary of a training run written to `out`. */
function trainSummary(out: string, result: TrainDetectorResult): Record<string, unknown> {
  const last = result.history[result.history.length - 1];
  return {
    out,
    examples: result.counts,
    skipped: result.skipped,
    epochs: result.history.length,
    val: last.val,
    test: last.test,
    prepareSeconds: Number(result.prepareSeconds.toFixed(2)),
    trainSeconds: Number(result.trainSeconds.toFixed(2)),
    history: result.history,
    config: { ...result.config, training: undefined },
  };
}

/** The text report of a training run written to `out`: counts, skipped children, the epoch table, the result. */
function trainReport(out: string, result: TrainDetectorResult): string {
  const last = result.history[result.history.length - 1];
  const c = result.config;
  const lines = [
    `examples: ${result.counts.train} train, ${result.counts.val} val, ${result.counts.test} test; candidates per child ${c.candidates.min}${c.candidates.max !== c.candidates.min ? `-${c.candidates.max}` : ''}` +
      `; inputs read in ${result.prepareSeconds.toFixed(1)} s`,
    ...result.skipped.map((s) => `skipped ${s.key}: ${s.reason}`),
    '',
    historyTable(result.history),
    '',
    `val top-1 ${percent(last.val)} %, test top-1 ${percent(last.test)} % after ${result.history.length} epochs (${result.trainSeconds.toFixed(1)} s)`,
    `wrote ${out} (inputs ${c.inputs.join(',')}; layers ${c.layers.join(',')}; E ${c.embed}, depth ${c.depth}, heads ${c.heads}${c.ffn ? `, ffn ${c.ffn}` : ''}${c.noParent ? ', no-parent candidate' : ''})`,
  ];
  return `${lines.join('\n')}\n`;
}

async function runTrain(options: TrainCliOptions): Promise<void> {
  const request = trainRequest(options);
  const progress = phasedProgress(options.progress, '{phase} {bar} {value}/{total} | ETA {eta_formatted}');
  const result = await trainDetector({
    ...request,
    onPrepare: (done, total) => progress.tick('models', done, total),
    onEpoch: (record, epochs) => progress.tick('epochs', record.epoch, epochs),
  });
  progress.stop();
  await saveDetector(options.out, result.config, result.weights);
  if (options.json) printJson(trainSummary(options.out, result));
  else process.stdout.write(trainReport(options.out, result));
}

async function runEval(options: EvalCliOptions): Promise<void> {
  const progress = phasedProgress(options.progress, 'models {bar} {value}/{total} | ETA {eta_formatted}');
  const evaluation = await evaluateDetector(options.detector, options.zoo, {
    ...(options.arch ? { arch: options.arch } : {}),
    ...(options.heads ? { heads: options.heads } : {}),
    onPrepare: (done, total) => progress.tick('models', done, total),
  });
  progress.stop();
  if (options.json) {
    printJson(evaluation);
    return;
  }
  const lines = [evaluationTable(evaluation), ...evaluation.skipped.map((s) => `skipped ${s.key}: ${s.reason}`)];
  process.stdout.write(`${lines.join('\n')}\n`);
}

function registerTrain(detector: Command): void {
  detector
    .command('train')
    .description(
      `train a detector on zoo folders (from \`lineage zoo build\`): one example per child, its candidates being the models of its parent's generation; ` +
        `children split 70/10/20 % train/val/test by id; Adam, StepLR, batch 16`,
    )
    .requiredOption('--zoo <dir>', 'zoo folder with manifest.json (repeat for several zoos)', collect)
    .requiredOption('--out <file>', 'where to write the detector (.safetensors)')
    .option(
      '--epochs <n>',
      `epochs (default ${PAPER_EPOCHS}, the paper's, from ${PAPER_TRAIN_CHILDREN} training children on; ${TINY_ZOO_EPOCHS} for smaller zoos)`,
      positiveInt('--epochs'),
    )
    .option(
      '--layers <specs>',
      'comma list of FEATURE[:WEIGHT] layers, one token per layer per input (e.g. penultimate or fc1,fc2 or layer3:layer3.1.conv2.weight)',
      DEFAULT_ARCHITECTURE.layers.join(','),
    )
    .option('--inputs <list>', 'weights, features or weights,features', DEFAULT_ARCHITECTURE.inputs.join(','))
    .option('--seed <s>', 'seeds initial weights, the split and the batch order (a non-negative integer)', nonNegativeInt('--seed'), 0)
    .option('--embed <E>', 'token width', positiveInt('--embed'), DEFAULT_ARCHITECTURE.embed)
    .option('--depth <n>', 'transformer blocks (0 or more)', nonNegativeInt('--depth'), DEFAULT_ARCHITECTURE.depth)
    .option('--attn-heads <n>', 'attention heads of the detector', positiveInt('--attn-heads'), DEFAULT_ARCHITECTURE.heads)
    .option('--ffn <width>', 'hidden width of a feed-forward layer per block (0: none, the reference)', nonNegativeInt('--ffn'), DEFAULT_ARCHITECTURE.ffn)
    .option('--none-candidate', 'add a learnable "no parent" candidate (trained on each child asked again without its parent)')
    .option('--no-difference-init', 'random 1x1 convs instead of parent-child / child-parent')
    .option('--batch <n>', 'children per batch', positiveInt('--batch'), 16)
    .option('--lr <rate>', 'Adam learning rate (> 0)', positiveFinite('--lr'), 0.01)
    .option('--gamma <g>', 'StepLR factor, applied every epochs/10 epochs (> 0)', positiveFinite('--gamma'), 0.7)
    .option('--max-size <n>', 'weight and feature matrices are average-pooled to at most n x n', positiveInt('--max-size'), DEFAULT_MAX_SIZE)
    .option('--probe-rows <n>', 'probe inputs behind each feature pair', positiveInt('--probe-rows'), DEFAULT_PROBE_ROWS)
    .option(
      '--activation-budget <values>',
      'encoder activation values per layer in one pass (float32); a batch beyond it runs as chunks with summed gradients',
      positiveInt('--activation-budget'),
      ACTIVATION_BUDGET,
    )
    .option('--arch <name>', 'built-in architecture of the zoo models; inferred when absent')
    .option('--heads <n>', 'ViT attention heads of the zoo models when their files do not say', positiveInt('--heads'))
    .option('--json', 'print a JSON summary')
    .option('--no-progress', 'no progress bar on stderr')
    .action(runTrain);
}

function registerEval(detector: Command): void {
  detector
    .command('eval')
    .description('top-1 accuracy of a detector on zoo folders: all children, and per split when the detector was trained on the zoo')
    .requiredOption('--detector <file>', 'detector file from `lineage detector train`')
    .requiredOption('--zoo <dir>', 'zoo folder (repeat for several)', collect)
    .option('--arch <name>', 'built-in architecture of the zoo models; inferred when absent')
    .option('--heads <n>', 'ViT attention heads of the zoo models when their files do not say', positiveInt('--heads'))
    .option('--json', 'print JSON (with one prediction per child)')
    .option('--no-progress', 'no progress bar on stderr')
    .action(runEval);
}

export function registerDetector(program: Command): void {
  const detector = program.command('detector').description('learned lineage detector: train it on model zoos with known parents, evaluate it');
  registerTrain(detector);
  registerEval(detector);
}
