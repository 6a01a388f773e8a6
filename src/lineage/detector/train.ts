/**
 * Training a lineage detector on zoo folders (paper: Adam lr 0.01, StepLR gamma 0.7, batch 16,
 * 100 epochs, 350 / 50 / 100 children).
 *
 * Children are split by key (`<zoo>/<child id>`) with a seeded permutation into 70 / 10 / 20 %
 * train / val / test, so no child is in two splits (its "no parent" variant follows it). Epochs
 * default to the paper's 100 from 350 training children on, and to 30 below (a tiny zoo has a
 * batch or two per epoch; 30 epochs reach its plateau, see the test). StepLR (DESIGN, the paper
 * gives no period) decays every max(1, round(epochs / 10)) epochs, ten times over a run. The saved
 * weights are those after the last epoch. Deterministic: weights, split and batch order come from
 * the seed, and the wasm backend is single-threaded.
 */
import * as tf from '@tensorflow/tfjs-core';
import { deriveSeed, permutation } from '../../base/random.js';
import { initTfjs } from '../../runtime/tfjs/backend.js';
import { crossEntropy } from '../../nn/losses.js';
import { type Optimizer, createOptimizer, learningRate } from '../../nn/optimizers.js';
import { type LossPart, trainStep } from '../../nn/step.js';
import type { Weights } from '../../tensor.js';
import type { ArchOptions } from '../model.js';
import {
  type DetectorArchitecture,
  type DetectorConfig,
  type EpochRecord,
  DEFAULT_ARCHITECTURE,
  DEFAULT_MAX_SIZE,
  DEFAULT_PROBE_ROWS,
  checkArchitecture,
  inputSlots,
} from './config.js';
import { ACTIVATION_BUDGET, type DetectorExample, assembleBatch, groupBatches, inputNormalization, splitByActivationBudget } from './examples.js';
import { accuracy, candidateProbabilities } from './infer.js';
import { type BatchNormStatistics, DetectorModel, initDetectorWeights } from './model.js';
import { readZoo } from './zoo.js';
import { distinctZooNames, zooExamples } from './zoo-examples.js';

export const PAPER_EPOCHS = 100;
export const TINY_ZOO_EPOCHS = 30;
export const PAPER_TRAIN_CHILDREN = 350;
export const SPLIT_FRACTIONS = { train: 0.7, val: 0.1 } as const;

export interface TrainDetectorOptions {
  zoos: string[];
  /** Detector architecture; DEFAULT_ARCHITECTURE fills the gaps. */
  architecture?: Partial<DetectorArchitecture>;
  /** How to read the zoo's models (their architecture when it cannot be inferred, ViT heads). */
  models?: ArchOptions;
  epochs?: number;
  seed?: number;
  batch?: number;
  lr?: number;
  gamma?: number;
  differenceInit?: boolean;
  maxSize?: number;
  probeRows?: number;
  /**
   * Encoder activation values one pass may hold per layer (default ACTIVATION_BUDGET, 128 MiB of
   * float32): larger batches run as chunks with summed gradients. Lower it when memory is short.
   */
  activationBudget?: number;
  /** Model files summarised so far (each read once). */
  onPrepare?: (done: number, total: number) => void;
  onEpoch?: (record: EpochRecord, epochs: number) => void;
}

export interface TrainDetectorResult {
  config: DetectorConfig;
  weights: Weights;
  history: EpochRecord[];
  /** Examples per split (children, plus their "no parent" variants when asked). */
  counts: { train: number; val: number; test: number };
  skipped: { key: string; reason: string }[];
  /** Seconds reading models and computing inputs, and training (with per-epoch evaluation). */
  prepareSeconds: number;
  trainSeconds: number;
}

export interface Splits {
  train: string[];
  val: string[];
  test: string[];
}

/** 70 / 10 / 20 % of the distinct keys by a seeded permutation of their sorted list; val and test get at least one key from 3 keys on. */
export function splitKeys(keys: Iterable<string>, seed: number): Splits {
  const sorted = [...new Set(keys)].sort();
  const order = permutation(sorted.length, deriveSeed(seed, 'detector:split'));
  const n = sorted.length;
  let val = Math.round(n * SPLIT_FRACTIONS.val);
  let train = Math.round(n * SPLIT_FRACTIONS.train);
  if (n >= 3) {
    val = Math.max(1, val);
    train = Math.min(train, n - val - 1);
  }
  const shuffled = Array.from(order, (i) => sorted[i]);
  return { train: shuffled.slice(0, train), val: shuffled.slice(train, train + val), test: shuffled.slice(train + val) };
}

export function defaultEpochs(trainChildren: number): number {
  return trainChildren >= PAPER_TRAIN_CHILDREN ? PAPER_EPOCHS : TINY_ZOO_EPOCHS;
}

/** The options with their defaults filled in, checked. */
interface TrainSettings {
  arch: DetectorArchitecture;
  seed: number;
  batchSize: number;
  lr: number;
  gamma: number;
  maxSize: number;
  probeRows: number;
  differenceInit: boolean;
  activationBudget: number;
}

/** The examples of the zoos' children, split by child key. */
interface SplitExamples {
  /** The zoos as the saved training record names them. */
  zoos: { name: string; dir: string }[];
  examples: DetectorExample[];
  skipped: TrainDetectorResult['skipped'];
  splits: Splits;
  train: DetectorExample[];
  val: DetectorExample[];
  test: DetectorExample[];
}

/** How many epochs, and every how many of them StepLR decays the rate. */
interface EpochSchedule {
  epochs: number;
  lrStepEpochs: number;
}

function trainSettings(options: TrainDetectorOptions): TrainSettings {
  if (options.zoos.length === 0) throw new RangeError('give at least one zoo folder');
  const arch: DetectorArchitecture = { ...DEFAULT_ARCHITECTURE, ...options.architecture };
  checkArchitecture(arch);
  const settings: TrainSettings = {
    arch,
    seed: options.seed ?? 0,
    batchSize: options.batch ?? 16,
    lr: options.lr ?? 0.01,
    gamma: options.gamma ?? 0.7,
    maxSize: options.maxSize ?? DEFAULT_MAX_SIZE,
    probeRows: options.probeRows ?? DEFAULT_PROBE_ROWS,
    differenceInit: options.differenceInit ?? true,
    activationBudget: options.activationBudget ?? ACTIVATION_BUDGET,
  };
  if (!(settings.activationBudget > 0)) throw new RangeError(`activationBudget must be positive, got ${settings.activationBudget}`);
  for (const [name, v] of [
    ['batch', settings.batchSize],
    ['maxSize', settings.maxSize],
    ['probeRows', settings.probeRows],
  ] as const) {
    if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`${name} must be a positive integer, got ${v}`);
  }
  if (!(settings.lr > 0) || !(settings.gamma > 0)) throw new RangeError('lr and gamma must be positive');
  return settings;
}

/** Reads every model of the zoos once into examples and splits them 70 / 10 / 20 % by child. */
async function splitExamples(options: TrainDetectorOptions, settings: TrainSettings): Promise<SplitExamples> {
  const { arch } = settings;
  const zoos = distinctZooNames(await Promise.all(options.zoos.map(readZoo)));
  const { examples, skipped } = await zooExamples(zoos, {
    inputs: arch.inputs,
    layers: arch.layers,
    maxSize: settings.maxSize,
    probeRows: settings.probeRows,
    noParent: arch.noParent,
    ...options.models,
    onProgress: options.onPrepare,
  });
  if (examples.length === 0) throw new RangeError(`no child with a parent in ${options.zoos.join(', ')}: nothing to train on`);
  const splits = splitKeys(
    examples.map((e) => e.key),
    settings.seed,
  );
  const part = (keys: string[]) => {
    const set = new Set(keys);
    return examples.filter((e) => set.has(e.key));
  };
  const train = part(splits.train);
  if (train.length === 0) throw new RangeError(`only ${examples.length} example(s): too few to train a detector`);
  return { zoos: zoos.map((z) => ({ name: z.name, dir: z.dir })), examples, skipped, splits, train, val: part(splits.val), test: part(splits.test) };
}

function epochSchedule(epochs: number | undefined, trainChildren: number): EpochSchedule {
  const n = epochs ?? defaultEpochs(trainChildren);
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`epochs must be a positive integer, got ${n}`);
  return { epochs: n, lrStepEpochs: Math.max(1, Math.round(n / 10)) };
}

/** The saved configuration, its training record aside: input normalisation comes from the training split. */
function detectorConfig(settings: TrainSettings, data: SplitExamples): DetectorConfig {
  const counts = data.examples.map((e) => e.candidates.length);
  return {
    format: 'lineage-detector',
    version: 1,
    ...settings.arch,
    maxSize: settings.maxSize,
    probeRows: settings.probeRows,
    normalization: inputNormalization(data.train, settings.arch),
    candidates: { min: Math.min(...counts), max: Math.max(...counts), variable: true },
  };
}

/** Trains for every epoch of the schedule, evaluating all three splits after each; returns the epochs' records. */
function runEpochs(
  model: DetectorModel,
  optimizer: Optimizer,
  config: DetectorConfig,
  data: SplitExamples,
  schedule: EpochSchedule,
  settings: TrainSettings,
  onEpoch: TrainDetectorOptions['onEpoch'],
): EpochRecord[] {
  const { train, val, test } = data;
  const { seed, activationBudget } = settings;
  const slots = inputSlots(settings.arch);
  const evaluate = (set: DetectorExample[]) => accuracy(set, candidateProbabilities(model, config, set, undefined, activationBudget));
  const history: EpochRecord[] = [];
  for (let epoch = 0; epoch < schedule.epochs; epoch++) {
    const started = performance.now();
    const rate = learningRate(settings.lr, { stepSize: schedule.lrStepEpochs, gamma: settings.gamma }, epoch);
    const order = permutation(train.length, deriveSeed(seed, `detector:epoch:${epoch}`));
    let lossSum = 0;
    let lossCount = 0;
    for (const indices of groupBatches(train, order, settings.batchSize, slots)) {
      const loss = detectorStep(model, optimizer, config, train, indices, rate, activationBudget);
      lossSum += loss * indices.length;
      lossCount += indices.length;
    }
    const record: EpochRecord = {
      epoch: epoch + 1,
      loss: lossSum / lossCount,
      train: evaluate(train),
      val: evaluate(val),
      test: evaluate(test),
      seconds: (performance.now() - started) / 1000,
    };
    history.push(record);
    onEpoch?.(record, schedule.epochs);
  }
  return history;
}

export async function trainDetector(options: TrainDetectorOptions): Promise<TrainDetectorResult> {
  const settings = trainSettings(options);
  const prepareStart = performance.now();
  const data = await splitExamples(options, settings);
  const schedule = epochSchedule(options.epochs, data.splits.train.length);
  const config = detectorConfig(settings, data);
  const prepareSeconds = (performance.now() - prepareStart) / 1000;

  await initTfjs('wasm');
  const trainStart = performance.now();
  const model = new DetectorModel(settings.arch, initDetectorWeights(settings.arch, settings.seed, settings.differenceInit));
  const optimizer = createOptimizer(tf, { optimizer: 'adam', lr: settings.lr });
  try {
    const history = runEpochs(model, optimizer, config, data, schedule, settings, options.onEpoch);
    const trainSeconds = (performance.now() - trainStart) / 1000;
    config.training = {
      zoos: data.zoos,
      seed: settings.seed,
      epochs: schedule.epochs,
      batch: settings.batchSize,
      lr: settings.lr,
      gamma: settings.gamma,
      lrStepEpochs: schedule.lrStepEpochs,
      differenceInit: settings.differenceInit,
      splits: data.splits,
      history,
      seconds: trainSeconds,
    };
    return {
      config,
      weights: model.weights(),
      history,
      counts: { train: data.train.length, val: data.val.length, test: data.test.length },
      skipped: data.skipped,
      prepareSeconds,
      trainSeconds,
    };
  } finally {
    optimizer.dispose();
    model.dispose();
  }
}

/** One Adam step on one batch; returns the batch's mean loss. */
function detectorStep(
  model: DetectorModel,
  optimizer: Optimizer,
  config: DetectorConfig,
  examples: readonly DetectorExample[],
  batch: readonly number[],
  rate: number,
  activationBudget: number,
): number {
  // A batch too large for the backend's memory runs as consecutive chunks whose gradients are
  // summed with weights chunk / batch size, so the step is still the batch mean (the encoder's
  // BatchNorm then normalises per chunk, as with a smaller batch).
  const chunks = splitByActivationBudget(examples, batch, inputSlots(config), config.embed, activationBudget);
  const stats: BatchNormStatistics[] = [];
  const parts = chunks.map(
    (chunk): LossPart => ({
      share: chunk.length / batch.length,
      loss: () => {
        const part = chunk.map((i) => examples[i]);
        return crossEntropy(
          tf,
          model.forward(assembleBatch(part, config), true, stats),
          Int32Array.from(part, (e) => e.label),
        );
      },
    }),
  );
  const loss = trainStep(model.parameters, optimizer, rate, parts);
  // Training-mode passes read batch statistics only, so the running ones can follow the step.
  model.updateRunningStats(stats);
  return loss;
}
