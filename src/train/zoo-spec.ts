/**
 * Zoo specs: a JSON file describing root models and generations of fine-tuned children, and the
 * plan (one job per model, parents first) it expands to. See zoos/*.json and the README section
 * "Building a zoo" for the format; `checkZooSpec` names the file and the field on every error.
 */
import { FormatError } from '../formats/errors.js';
import { deriveSeed } from '../data/random.js';
import { parseTaskSpec } from '../data/task-spec.js';
import { formatMode, type FinetuneMode } from './finetune.js';
import type { OptimizerName } from './optimizers.js';
import { parseSetting, withSettingSteps } from './settings.js';
import type { TrainConfig } from './trainer.js';

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

const ARCHES = ['mlp', 'convnet', 'resnet18', 'resnet34', 'resnet50'];
const TRAIN_KEYS = ['optimizer', 'lr', 'momentum', 'nesterov', 'betas', 'eps', 'weightDecay', 'steps', 'epochs', 'batch', 'lrStep', 'lrGamma'];

type Fail = (path: string, problem: string) => never;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function unknownKeys(v: Record<string, unknown>, allowed: readonly string[], path: string, fail: Fail): void {
  for (const k of Object.keys(v)) if (!allowed.includes(k)) fail(path, `unknown field '${k}' (expected ${allowed.join(', ')})`);
}

function positiveInt(v: unknown, path: string, fail: Fail, min = 1): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) fail(path, `must be an integer >= ${min}, got ${JSON.stringify(v)}`);
  return v as number;
}

function checkTrain(v: unknown, path: string, fail: Fail): TrainSpec {
  if (!isObject(v)) return fail(path, 'must be an object such as {"optimizer": "sgd", "lr": 0.05, "steps": 300, "batch": 64}');
  unknownKeys(v, TRAIN_KEYS, path, fail);
  const num = (k: string, min: number, strict = false) => {
    const x = v[k];
    if (x === undefined) return;
    if (typeof x !== 'number' || !Number.isFinite(x) || x < min || (strict && x === min)) fail(`${path}.${k}`, `must be a number ${strict ? '>' : '>='} ${min}, got ${JSON.stringify(x)}`);
  };
  if (v.optimizer !== undefined && v.optimizer !== 'sgd' && v.optimizer !== 'adam') fail(`${path}.optimizer`, `must be "sgd" or "adam", got ${JSON.stringify(v.optimizer)}`);
  num('lr', 0, true);
  num('momentum', 0);
  num('weightDecay', 0);
  num('eps', 0, true);
  num('epochs', 0, true);
  num('lrGamma', 0, true);
  if (typeof v.momentum === 'number' && v.momentum >= 1) fail(`${path}.momentum`, 'must be below 1');
  if (v.steps !== undefined) positiveInt(v.steps, `${path}.steps`, fail);
  if (v.batch !== undefined) positiveInt(v.batch, `${path}.batch`, fail);
  if (v.lrStep !== undefined) positiveInt(v.lrStep, `${path}.lrStep`, fail, 0);
  if (v.nesterov !== undefined && typeof v.nesterov !== 'boolean') fail(`${path}.nesterov`, 'must be true or false');
  if (v.betas !== undefined && !(Array.isArray(v.betas) && v.betas.length === 2 && v.betas.every((b) => typeof b === 'number' && b >= 0 && b < 1))) {
    fail(`${path}.betas`, 'must be two numbers in [0, 1)');
  }
  if ((v.steps === undefined) === (v.epochs === undefined)) fail(path, 'give exactly one of steps and epochs');
  return v as TrainSpec;
}

function checkTask(v: unknown, path: string, fail: Fail): string {
  if (typeof v !== 'string') return fail(path, `must be a task id string such as "mnist" or "fashion:subset=0-4", got ${JSON.stringify(v)}`);
  try {
    return parseTaskSpec(v).id;
  } catch (err) {
    return fail(path, (err as Error).message.split('\n')[0]);
  }
}

function intList(v: unknown, path: string, fail: Fail): number[] {
  if (!Array.isArray(v) || v.length === 0) return fail(path, 'must be a non-empty list of positive integers');
  v.forEach((x, i) => positiveInt(x, `${path}[${i}]`, fail));
  return v as number[];
}

/** Validates parsed JSON as a zoo spec; `file` names it in errors. */
export function checkZooSpec(value: unknown, file: string): ZooSpec {
  const fail: Fail = (path, problem) => {
    throw new FormatError(file, `${path}: ${problem}`);
  };
  if (!isObject(value)) return fail('spec', 'must be a JSON object with "roots" (and usually "generations")');
  unknownKeys(value, ['name', 'description', 'seed', 'probes', 'evalLimit', 'roots', 'generations', '$schema', 'comment'], 'spec', fail);
  if (value.seed !== undefined) positiveInt(value.seed, 'seed', fail, 0);
  if (value.probes !== undefined) positiveInt(value.probes, 'probes', fail);
  if (value.evalLimit !== undefined) positiveInt(value.evalLimit, 'evalLimit', fail);
  if (!Array.isArray(value.roots) || value.roots.length === 0) fail('roots', 'must be a non-empty list');
  const names = new Set<string>();
  (value.roots as unknown[]).forEach((r, i) => {
    const path = `roots[${i}]`;
    if (!isObject(r)) fail(path, 'must be an object');
    const root = r as Record<string, unknown>;
    unknownKeys(root, ['name', 'count', 'arch', 'hyper', 'task', 'seed', 'train', 'comment'], path, fail);
    if (typeof root.arch !== 'string' || !ARCHES.includes(root.arch)) fail(`${path}.arch`, `must be one of ${ARCHES.join(', ')}, got ${JSON.stringify(root.arch)}`);
    const name = root.name ?? root.arch;
    if (typeof name !== 'string' || !/^[A-Za-z][A-Za-z0-9_]*$/.test(name)) fail(`${path}.name`, 'must be letters, digits and _ (it prefixes model ids)');
    if (names.has(name as string)) fail(`${path}.name`, `'${String(name)}' is used by another root entry`);
    names.add(name as string);
    if (root.count !== undefined) positiveInt(root.count, `${path}.count`, fail);
    if (root.seed !== undefined) positiveInt(root.seed, `${path}.seed`, fail, 0);
    checkTask(root.task, `${path}.task`, fail);
    checkTrain(root.train, `${path}.train`, fail);
    if (root.hyper !== undefined) {
      if (!isObject(root.hyper)) fail(`${path}.hyper`, 'must be an object');
      const h = root.hyper as Record<string, unknown>;
      unknownKeys(h, ['sizes', 'hidden', 'widths', 'stem', 'baseWidth'], `${path}.hyper`, fail);
      if (h.sizes !== undefined) intList(h.sizes, `${path}.hyper.sizes`, fail);
      if (h.hidden !== undefined) intList(h.hidden, `${path}.hyper.hidden`, fail);
      if (h.widths !== undefined) intList(h.widths, `${path}.hyper.widths`, fail);
      if (h.baseWidth !== undefined) positiveInt(h.baseWidth, `${path}.hyper.baseWidth`, fail);
      if (h.stem !== undefined && h.stem !== 'cifar' && h.stem !== 'imagenet') fail(`${path}.hyper.stem`, 'must be "cifar" or "imagenet"');
    }
  });
  if (value.generations !== undefined && !Array.isArray(value.generations)) fail('generations', 'must be a list');
  ((value.generations ?? []) as unknown[]).forEach((g, i) => {
    const path = `generations[${i}]`;
    if (!isObject(g)) fail(path, 'must be an object');
    const gen = g as Record<string, unknown>;
    unknownKeys(gen, ['children', 'tasks', 'settings', 'pairs', 'train', 'head', 'comment'], path, fail);
    positiveInt(gen.children, `${path}.children`, fail);
    const setting = (s: unknown, at: string) => {
      if (typeof s !== 'string') fail(at, 'must be a string such as "full" or "lora:4"');
      try {
        parseSetting(s as string);
      } catch (err) {
        fail(at, (err as Error).message);
      }
    };
    if ((gen.pairs === undefined) === (gen.tasks === undefined)) fail(path, 'give either "tasks" (with optional "settings") or "pairs"');
    if (gen.pairs !== undefined) {
      if (gen.settings !== undefined) fail(`${path}.settings`, 'not allowed with "pairs" (each pair names its setting)');
      if (!Array.isArray(gen.pairs) || gen.pairs.length === 0) fail(`${path}.pairs`, 'must be a non-empty list of {"task", "setting"}');
      (gen.pairs as unknown[]).forEach((p, j) => {
        if (!isObject(p)) return fail(`${path}.pairs[${j}]`, 'must be an object {"task": ..., "setting": ...}');
        unknownKeys(p, ['task', 'setting'], `${path}.pairs[${j}]`, fail);
        checkTask(p.task, `${path}.pairs[${j}].task`, fail);
        if (p.setting !== undefined) setting(p.setting, `${path}.pairs[${j}].setting`);
      });
    } else {
      if (!Array.isArray(gen.tasks) || gen.tasks.length === 0) fail(`${path}.tasks`, 'must be a non-empty list of task ids');
      (gen.tasks as unknown[]).forEach((t, j) => checkTask(t, `${path}.tasks[${j}]`, fail));
      if (gen.settings !== undefined) {
        if (!Array.isArray(gen.settings) || gen.settings.length === 0) fail(`${path}.settings`, 'must be a non-empty list of settings');
        (gen.settings as unknown[]).forEach((s, j) => setting(s, `${path}.settings[${j}]`));
      }
    }
    if (gen.head !== undefined && !['auto', 'replace', 'keep'].includes(gen.head as string)) fail(`${path}.head`, 'must be "auto", "replace" or "keep"');
    checkTrain(gen.train, `${path}.train`, fail);
  });
  return value as unknown as ZooSpec;
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

/**
 * Every model of the zoo as a job, parents before children. `scale` multiplies the children per
 * parent of every generation and the training length (steps or epochs, and lrStep) of every model,
 * rounding counts and steps to at least 1; root counts, tasks, settings and probes are unchanged.
 */
export function planZoo(spec: ZooSpec, scale = 1): ZooJob[] {
  if (!(scale > 0 && Number.isFinite(scale))) throw new Error(`--scale must be a positive number, got ${scale}`);
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
