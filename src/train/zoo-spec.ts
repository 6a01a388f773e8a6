/**
 * Zoo specs: a JSON file describing root models and generations of fine-tuned children, and the
 * plan (one job per model, parents first) it expands to. See zoos/*.json and the README section
 * "Building a zoo" for the format; `checkZooSpec` (zoo-spec-check.ts) names the file and the field
 * on every error. The plan's size is computed from the counts before any job is made, and a plan
 * over MAX_ZOO_MODELS models or MAX_ZOO_TRAINING_STEPS training steps is refused.
 */
import { deriveSeed } from '../base/random.js';
import { parseTaskSpec } from '../data/task-spec.js';
import { formatMode, type FinetuneMode } from './finetune.js';
import type { OptimizerName } from '../nn/optimizers.js';
import { parseSetting, withSettingSteps } from './settings.js';
import { type TrainConfig, totalSteps } from './trainer.js';
import { InputError } from '../base/errors.js';

export interface TrainSpec {
  optimizer?: OptimizerName;
  lr?: number;
  momentum?: number;
  nesterov?: boolean;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
  steps?: number;
  epochs?: number;
  batch?: number;
  /** StepLR: decay every lrStep optimizer steps (0 = constant) by lrGamma (default 0.1). */
  lrStep?: number;
  lrGamma?: number;
}

export interface ArchHyper {
  /** MLP: all layer sizes [in, hidden..., classes] (checked against the task). */
  sizes?: number[];
  /** MLP: hidden sizes only; in and classes come from the task. */
  hidden?: number[];
  /** convnet: channels of each conv block (default [16, 32, 64]). */
  widths?: number[];
  /** ResNet: 'cifar' (3x3 stem, default) or 'imagenet'. */
  stem?: 'cifar' | 'imagenet';
  /** ResNet: conv1 channels (default 64). */
  baseWidth?: number;
}

export interface RootSpec {
  /** Id prefix: roots are <name>-0, <name>-1, ... (default: the arch). */
  name?: string;
  /** Independently initialised roots of this kind (default 1); root i uses seed + i. */
  count?: number;
  arch: 'mlp' | 'convnet' | 'resnet18' | 'resnet34' | 'resnet50';
  hyper?: ArchHyper;
  /** Task id (see src/data/task-spec.ts), e.g. "mnist". */
  task: string;
  seed?: number;
  train: TrainSpec;
}

export type HeadPolicy = 'auto' | 'replace' | 'keep';

export interface GenerationSpec {
  /** Children per parent (every model of the previous generation is a parent). */
  children: number;
  /**
   * Child tasks. Child j of the p-th parent gets pair (p + j) mod n of the n (task, setting)
   * pairs, tasks x settings in order (tasks outer), so each generation covers them evenly.
   */
  tasks?: string[];
  /** Learning settings (see settings.ts), default ["full"]. */
  settings?: string[];
  /** Explicit (task, setting) pairs instead of tasks x settings. */
  pairs?: { task: string; setting?: string }[];
  train: TrainSpec;
  /**
   * Classification head: 'auto' (default) re-initialises it when the class count or the base
   * dataset differs from the parent's task; 'replace' always; 'keep' only when the shape differs.
   */
  head?: HeadPolicy;
}

export interface ZooSpec {
  name?: string;
  description?: string;
  /** Seeds every child (default 0). */
  seed?: number;
  /** Probe rows written per task (default 1024; fewer when the training split is smaller). */
  probes?: number;
  /** Test examples behind each model's accuracy (default 2000). */
  evalLimit?: number;
  roots: RootSpec[];
  generations?: GenerationSpec[];
}

export interface ZooJob {
  id: string;
  parent: string | null;
  generation: number;
  arch: RootSpec['arch'];
  /** Architecture hyper-parameters (roots: from the spec; children: the root's). */
  archHyper: ArchHyper;
  /** Canonical task id, setting steps included. */
  task: string;
  setting: string;
  seed: number;
  mode: FinetuneMode;
  head: HeadPolicy;
  train: TrainConfig;
}

/** Rounds a scaled count, keeping it at least 1. */
function scaled(n: number, scale: number): number {
  return Math.max(1, Math.round(n * scale));
}

/** A TrainSpec with defaults filled in and its length scaled. */
export function trainConfig(spec: TrainSpec, seed: number, scale = 1): TrainConfig {
  const optimizer = spec.optimizer ?? 'sgd';
  return {
    optimizer,
    lr: spec.lr ?? (optimizer === 'adam' ? 0.001 : 0.01),
    momentum: spec.momentum ?? (optimizer === 'sgd' ? 0.9 : 0),
    ...(spec.nesterov ? { nesterov: true } : {}),
    ...(spec.betas ? { betas: spec.betas } : {}),
    ...(spec.eps !== undefined ? { eps: spec.eps } : {}),
    weightDecay: spec.weightDecay ?? 0,
    batchSize: spec.batch ?? 64,
    ...(spec.steps !== undefined ? { steps: scaled(spec.steps, scale) } : { epochs: (spec.epochs ?? 1) * scale }),
    stepSize: spec.lrStep ? scaled(spec.lrStep, scale) : 0,
    gamma: spec.lrGamma ?? 0.1,
    seed,
  };
}

/** Most models one zoo may have: 20 times the biggest shipped zoo (paper-fc, 505 models). */
export const MAX_ZOO_MODELS = 10_000;
/** Most optimizer steps, all models together: about 36 times paper-fc's 273,425. */
export const MAX_ZOO_TRAINING_STEPS = 10_000_000;
/**
 * Training examples an epoch is counted with before the data is loaded: the largest training split
 * of a known base dataset (full Fashion-MNIST), so the count bounds the steps the build will run.
 */
export const EPOCH_EXAMPLES_BOUND = 60_000;

export interface PlanSize {
  models: number;
  /** Optimizer steps of every model, epochs counted with EPOCH_EXAMPLES_BOUND examples. */
  steps: number;
}

/** The size of planZoo(spec, scale), from the counts alone (nothing is materialised). */
export function planSize(spec: ZooSpec, scale = 1): PlanSize {
  const stepsOf = (train: TrainSpec) => totalSteps(trainConfig(train, 0, scale), EPOCH_EXAMPLES_BOUND);
  let parents = 0;
  let steps = 0;
  for (const root of spec.roots) {
    const count = root.count ?? 1;
    parents += count;
    steps += count * stepsOf(root.train);
  }
  let models = parents;
  for (const gen of spec.generations ?? []) {
    // doubles: a hostile spec overflows to Infinity at worst, which still compares over the limit
    parents *= scaled(gen.children, scale);
    models += parents;
    steps += parents * stepsOf(gen.train);
  }
  return { models, steps };
}

/** planSize, or an InputError naming `file` when the plan is over a limit. */
export function checkPlanSize(spec: ZooSpec, scale: number, file: string): PlanSize {
  if (!(scale > 0 && Number.isFinite(scale))) throw new Error(`--scale must be a positive number, got ${scale}`);
  const size = planSize(spec, scale);
  const count = (n: number) => (Number.isFinite(n) && n < 1e15 ? n.toLocaleString('en-US') : n.toExponential(2));
  const at = scale === 1 ? '' : ` at --scale ${scale}`;
  if (size.models > MAX_ZOO_MODELS) {
    throw new InputError(
      file,
      `the zoo has ${count(size.models)} models${at}, over the limit of ${count(MAX_ZOO_MODELS)}: use fewer roots or children, or split it into several zoos`,
    );
  }
  if (size.steps > MAX_ZOO_TRAINING_STEPS) {
    throw new InputError(
      file,
      `the zoo trains ${count(size.steps)} steps in all${at} (an epoch counted as ${count(EPOCH_EXAMPLES_BOUND)} examples / batch), over the limit of ${count(MAX_ZOO_TRAINING_STEPS)}: train shorter, or split it into several zoos`,
    );
  }
  return size;
}

/**
 * Every model of the zoo as a job, parents before children. `scale` multiplies the children per
 * parent of every generation and the training length (steps or epochs, and lrStep) of every model,
 * rounding counts and steps to at least 1; root counts, tasks, settings and probes are unchanged.
 * A plan over the limits (checkPlanSize) is an InputError naming `file`, raised before any job is made.
 */
export function planZoo(spec: ZooSpec, scale = 1, file = 'zoo spec'): ZooJob[] {
  checkPlanSize(spec, scale, file);
  const zooSeed = spec.seed ?? 0;
  const jobs: ZooJob[] = [];
  let previous: ZooJob[] = [];
  for (const root of spec.roots) {
    const name = root.name ?? root.arch;
    for (let i = 0; i < (root.count ?? 1); i++) {
      const seed = (root.seed ?? 0) + i;
      const job: ZooJob = {
        id: `${name}-${i}`,
        parent: null,
        generation: 0,
        arch: root.arch,
        archHyper: root.hyper ?? {},
        task: parseTaskSpec(root.task).id,
        setting: 'full',
        seed,
        mode: { kind: 'full' },
        head: 'keep',
        train: trainConfig(root.train, seed, scale),
      };
      jobs.push(job);
      previous.push(job);
    }
  }
  (spec.generations ?? []).forEach((gen, g) => {
    const settings = gen.settings ?? ['full'];
    const combos = gen.pairs
      ? gen.pairs.map((p) => ({ task: p.task, setting: p.setting ?? 'full' }))
      : (gen.tasks ?? []).flatMap((task) => settings.map((setting) => ({ task, setting })));
    const children = scaled(gen.children, scale);
    const next: ZooJob[] = [];
    previous.forEach((parent, p) => {
      for (let j = 0; j < children; j++) {
        // depends on (parent, j) only, so a scaled plan gives the same child the same task
        const { task, setting } = combos[(p + j) % combos.length];
        const id = `${parent.id}.${j}`;
        const seed = deriveSeed(zooSeed, `child:${id}`);
        const parsed = parseSetting(setting);
        const train = trainConfig(gen.train, seed, scale);
        if (parsed.weightDecay !== undefined) train.weightDecay = parsed.weightDecay;
        const job: ZooJob = {
          id,
          parent: parent.id,
          generation: g + 1,
          arch: parent.arch,
          archHyper: parent.archHyper,
          task: withSettingSteps(task, parsed, seed % 10000),
          setting,
          seed,
          mode: parsed.mode,
          head: gen.head ?? 'auto',
          train,
        };
        jobs.push(job);
        next.push(job);
      }
    });
    previous = next;
  });
  return jobs;
}

/** The hyper-parameters a manifest records for a job. */
export function jobHyper(job: ZooJob): Record<string, unknown> {
  const t = job.train;
  return {
    ...job.archHyper,
    mode: formatMode(job.mode),
    optimizer: t.optimizer,
    lr: t.lr,
    ...(t.optimizer === 'sgd' ? { momentum: t.momentum } : {}),
    weightDecay: t.weightDecay,
    batch: t.batchSize,
    ...(t.steps !== undefined ? { steps: t.steps } : { epochs: t.epochs }),
    ...(t.stepSize ? { lrStep: t.stepSize, lrGamma: t.gamma } : {}),
  };
}
