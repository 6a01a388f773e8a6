/**
 * The trainer: a TrainPlan (finetune.ts) run on the tfjs interpreter. Trainable tensors and
 * running statistics live in an nn ParameterSet keyed by state-dict name; each step is nn's
 * trainStep with a PyTorch optimizer (nn/optimizers.ts); BatchNorm running statistics of
 * training-mode layers are updated after every step (nn/batchnorm.ts).
 *
 * Determinism: initial values come from our seeded PRNG, the batch order of epoch e is
 * permutation(deriveSeed(seed, 'batches'), e) with incomplete last batches dropped, and the wasm
 * backend is single-threaded, so the same plan, data and config give the same bytes every run.
 */
import * as tf from '@tensorflow/tfjs-core';
import { epochOrder } from '../data/batches.js';
import { deriveSeed } from '../base/random.js';
import { selectExamples } from '../data/select.js';
import { type AnyDataset, datasetSize } from '../data/types.js';
import { TfjsGraph, interpretGraph } from '../runtime/tfjs/interpreter.js';
import { updateRunningStatistics } from '../nn/batchnorm.js';
import { crossEntropy, detectionLoss, pixelCrossEntropy } from '../nn/losses.js';
import { type Optimizer, type OptimizerConfig, type StepLr, checkOptimizerConfig, createOptimizer, learningRate } from '../nn/optimizers.js';
import { ParameterSet } from '../nn/parameter-set.js';
import { trainStep } from '../nn/step.js';
import { type Tensor, type Weights, makeTensor } from '../tensor.js';
import type { TrainPlan } from './finetune.js';
import { mergeLora } from './lora.js';

export interface TrainConfig extends OptimizerConfig, StepLr {
  batchSize: number;
  /** Optimizer steps; or give `epochs`. */
  steps?: number;
  epochs?: number;
  /** Seeds the batch order. */
  seed: number;
}

export function checkTrainConfig(config: TrainConfig, where: string): void {
  checkOptimizerConfig(config, where);
  if (!Number.isSafeInteger(config.batchSize) || config.batchSize < 1) throw new Error(`${where}: batch must be a positive integer, got ${config.batchSize}`);
  const { steps, epochs } = config;
  if ((steps === undefined) === (epochs === undefined)) throw new Error(`${where}: give exactly one of steps and epochs`);
  if (steps !== undefined && (!Number.isSafeInteger(steps) || steps < 0)) throw new Error(`${where}: steps must be a non-negative integer, got ${steps}`);
  if (epochs !== undefined && !(epochs >= 0 && Number.isFinite(epochs))) throw new Error(`${where}: epochs must be a non-negative number, got ${epochs}`);
  if (config.stepSize !== undefined && (!Number.isSafeInteger(config.stepSize) || config.stepSize < 0)) {
    throw new Error(`${where}: lrStep must be a non-negative integer, got ${config.stepSize}`);
  }
}

/** Batches per epoch: incomplete last batches are dropped, and a set smaller than a batch is one batch. */
export function stepsPerEpoch(examples: number, batchSize: number): number {
  return Math.max(1, Math.floor(examples / batchSize));
}

export function totalSteps(config: Pick<TrainConfig, 'steps' | 'epochs' | 'batchSize'>, examples: number): number {
  if (config.steps !== undefined) return config.steps;
  return Math.round((config.epochs ?? 0) * stepsPerEpoch(examples, config.batchSize));
}

/**
 * The example indices of each optimizer step: epoch e visits the examples in the order
 * epochOrder(n, {seed: deriveSeed(seed, 'batches'), epoch: e}), in full batches.
 */
export class BatchSchedule {
  private epoch = -1;
  private order: Int32Array = new Int32Array(0);
  readonly perEpoch: number;
  private readonly size: number;

  constructor(
    private readonly examples: number,
    batchSize: number,
    private readonly seed: number,
  ) {
    this.perEpoch = stepsPerEpoch(examples, batchSize);
    this.size = Math.min(batchSize, examples);
  }

  indices(step: number): Int32Array {
    const epoch = Math.floor(step / this.perEpoch);
    if (epoch !== this.epoch) {
      this.order = epochOrder(this.examples, { seed: deriveSeed(this.seed, 'batches'), epoch });
      this.epoch = epoch;
    }
    const start = (step % this.perEpoch) * this.size;
    return this.order.slice(start, start + this.size);
  }
}

export function inputBatch(batch: AnyDataset): tf.Tensor4D {
  return tf.tensor4d(batch.inputs, [datasetSize(batch), ...batch.shape]);
}

/** The task loss of model outputs for a batch. */
export function taskLoss(output: tf.Tensor, batch: AnyDataset): tf.Scalar {
  switch (batch.kind) {
    case 'segmentation':
      return pixelCrossEntropy(tf, output, batch.masks);
    case 'detection':
      return detectionLoss(tf, output, { boxes: batch.boxes, classes: batch.classes, slots: batch.maxObjects }).total;
    default:
      return crossEntropy(tf, output, batch.labels);
  }
}

/** Spatial positions (H*W) at the input of each training-mode BatchNorm, from a one-example pass. */
function spatialSizes(plan: TrainPlan, inputShape: readonly number[]): Map<string, number> {
  const inputs = [...new Set(plan.batchStats.map((s) => s.input))];
  const sizes = new Map<string, number>();
  if (inputs.length === 0) return sizes;
  tf.tidy(() => {
    const out = interpretGraph(plan.evalGraph, { [plan.input]: tf.zeros([1, ...inputShape]) }, inputs);
    for (const name of inputs) sizes.set(name, out[name].size / (out[name].shape[1] ?? 1));
  });
  return sizes;
}

/** The tensors of one model under training; call dispose() when done. */
export class TrainSession {
  private readonly tensors: ParameterSet;
  private readonly counters = new Map<string, bigint>();
  private readonly optimizer: Optimizer;
  private readonly spatial: Map<string, number>;
  private done = 0;

  constructor(
    readonly plan: TrainPlan,
    private readonly config: TrainConfig,
    inputShape: readonly number[],
  ) {
    checkTrainConfig(config, 'training');
    const roles = [
      ...plan.trainable.map((name) => ({ name, buffer: false })),
      ...plan.batchStats.flatMap((s) => [s.runningMean, s.runningVar]).map((name) => ({ name, buffer: true })),
    ];
    this.tensors = new ParameterSet(plan.initial, roles, 'the model');
    for (const s of plan.batchStats) {
      const counter = plan.initial.get(s.counter);
      if (counter) this.counters.set(s.counter, (counter.data as BigInt64Array)[0] ?? 0n);
    }
    this.spatial = spatialSizes(plan, inputShape);
    this.optimizer = createOptimizer(tf, config);
  }

  get stepsDone(): number {
    return this.done;
  }

  /** Variables and running statistics by state-dict name, for the interpreter's `params`. */
  params(): Map<string, tf.Tensor> {
    return this.tensors.all();
  }

  /** One optimizer step on `batch`; returns the loss before the step. */
  step(batch: AnyDataset): number {
    const lr = learningRate(this.config.lr, this.config, this.done);
    const statNames = this.plan.batchStats.flatMap((s) => [s.mean, s.variance]);
    const stats: Record<string, tf.Tensor> = {};
    const x = inputBatch(batch);
    const params = this.params();
    const loss = trainStep(this.tensors, this.optimizer, lr, () => {
      const out = interpretGraph(this.plan.trainGraph, { [this.plan.input]: x }, [this.plan.output, ...statNames], params);
      for (const name of statNames) stats[name] = tf.keep(out[name]);
      return taskLoss(out[this.plan.output], batch);
    });
    this.updateRunningStatistics(stats, datasetSize(batch));
    tf.dispose([x, ...Object.values(stats)]);
    this.done++;
    return loss;
  }

  private updateRunningStatistics(stats: Record<string, tf.Tensor>, batchSize: number): void {
    for (const s of this.plan.batchStats) {
      const count = batchSize * (this.spatial.get(s.input) ?? 1);
      updateRunningStatistics(this.tensors, { runningMean: s.runningMean, runningVar: s.runningVar, mean: stats[s.mean], variance: stats[s.variance], count });
      const steps = this.counters.get(s.counter);
      if (steps !== undefined) this.counters.set(s.counter, steps + 1n);
    }
  }

  /** Every tensor the plan's graphs read (adapters included), current values. */
  private current(): Weights {
    const out: Weights = new Map();
    for (const [k, t] of this.plan.initial) {
      const count = this.counters.get(k);
      if (this.tensors.get(k)) out.set(k, this.tensors.value(k));
      else if (count !== undefined) out.set(k, makeTensor('int64', [...t.shape], BigInt64Array.of(count)));
      else out.set(k, t);
    }
    return out;
  }

  /** The model's state dict (LoRA adapters merged into their weights), in state-dict order. */
  stateDict(): Weights {
    const all = this.current();
    const merged = this.plan.lora ? mergeLora(all, this.plan.lora.targets, this.plan.lora.config) : all;
    const out: Weights = new Map();
    for (const k of this.plan.stateKeys) out.set(k, merged.get(k) as Tensor);
    return out;
  }

  /** The LoRA adapter tensors (undefined for other modes). */
  adapters(): Weights | undefined {
    if (!this.plan.lora) return undefined;
    const all = this.current();
    const out: Weights = new Map();
    for (const [k, t] of all) if (k.endsWith('.lora_A') || k.endsWith('.lora_B')) out.set(k, t);
    return out;
  }

  dispose(): void {
    this.optimizer.dispose();
    this.tensors.dispose();
    // the interpreter keeps converted initializers per graph; free them with the session
    TfjsGraph.for(this.plan.trainGraph).dispose();
    TfjsGraph.for(this.plan.evalGraph).dispose();
  }
}

export interface TrainProgress {
  step: number;
  steps: number;
  loss: number;
}

export interface TrainOptions {
  onStep?: (progress: TrainProgress) => void;
  /** Yield to the event loop every this many steps (default 8), so a worker can be stopped. */
  yieldEvery?: number;
}

export interface TrainSummary {
  steps: number;
  /** Mean loss of the last (up to) 20 steps. */
  finalLoss: number;
  firstLoss: number;
}

/** Runs the configured number of steps over `data`; the session keeps the result. */
export async function runTraining(session: TrainSession, data: AnyDataset, config: TrainConfig, options: TrainOptions = {}): Promise<TrainSummary> {
  const examples = datasetSize(data);
  if (examples === 0) throw new Error(`${data.name}: no training examples`);
  const steps = totalSteps(config, examples);
  const schedule = new BatchSchedule(examples, config.batchSize, config.seed);
  const recent: number[] = [];
  let firstLoss = Number.NaN;
  const yieldEvery = options.yieldEvery ?? 8;
  for (let s = 0; s < steps; s++) {
    const batch = selectExamples(data, schedule.indices(s));
    const loss = session.step(batch);
    if (!Number.isFinite(loss)) throw new Error(`training diverged at step ${s + 1}: loss is ${loss} (lower the learning rate)`);
    if (s === 0) firstLoss = loss;
    recent.push(loss);
    if (recent.length > 20) recent.shift();
    options.onStep?.({ step: s + 1, steps, loss });
    if ((s + 1) % yieldEvery === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  const finalLoss = recent.length ? recent.reduce((a, b) => a + b, 0) / recent.length : Number.NaN;
  return { steps, finalLoss, firstLoss };
}
