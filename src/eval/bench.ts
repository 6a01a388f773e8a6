/**
 * The benchmark behind the paper's tables: parent-detection top-1 accuracy per learning setting and
 * method (with bootstrap intervals over children), the cross-generation matrix (candidates from
 * generation i, children from generation j > i, truth = the child's ancestor at i), time per pair,
 * and optionally alpha chosen on validation children, accuracies then reported on test children only.
 */
import { resolveModel, type ModelRef } from '../lineage/model.js';
import { scoreMatrix, DEFAULT_ALPHA, type BnStats, type MethodResult } from '../lineage/learning-free.js';
import { parseMethodList, usesAlpha } from '../lineage/methods.js';
import { readProbe } from '../lineage/probe.js';
import { detectorScores, loadDetector, type LoadedDetector } from '../lineage/detector/index.js';
import { deriveSeed } from '../data/random.js';
import type { Tensor } from '../tensor.js';
import { bootstrapInterval, DEFAULT_RESAMPLES, type Interval } from './stats.js';
import { splitChildren, DEFAULT_VALIDATION_FRACTION } from './split.js';
import { ancestorAt, readBenchZoo, type BenchModel, type BenchZoo } from './zoo.js';

export const ALPHA_GRID: readonly number[] = [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3];
export const DETECTOR_METHOD = 'detector';

export interface BenchProgress {
  done: number;
  total: number;
  /** e.g. "G1 -> G2, task fashion (4 children, 3 candidates)" */
  step: string;
}

export interface BenchOptions {
  /** Method list (`all`, a comma list, or names); default `all`. */
  methods?: string | string[];
  /** Learned detector file: adds a `detector` row. */
  detector?: string;
  /** A fixed alpha, or `auto` (chosen per taylor/linearized method on validation children). Default 0.01. */
  alpha?: number | 'auto';
  alphaGrid?: readonly number[];
  validationFraction?: number;
  seed?: number;
  resamples?: number;
  /** Evaluate only these children (ids); default every non-root model. */
  children?: readonly string[];
  /** Probe rows (default 1024). */
  probeRows?: number;
  /** Whose BatchNorm statistics candidates run with (see DetectOptions.bnStats); default child. */
  bnStats?: BnStats;
  onProgress?: (progress: BenchProgress) => void;
}

export interface AccuracyCell {
  method: string;
  /** Step used for taylor/linearized methods. */
  alpha?: number;
  correct: number;
  total: number;
  accuracy: number;
  interval: Interval;
}

export interface SettingRow {
  /** `all`, a setting (full, fewshot:10, ...) or a task kind (segmentation, detection). */
  setting: string;
  children: number;
  methods: AccuracyCell[];
}

export interface CrossGenerationCell {
  /** Generation of the candidates (0 = roots, the paper's G1). */
  candidates: number;
  /** Generation of the children. */
  children: number;
  methods: AccuracyCell[];
}

export interface AlphaChoice {
  method: string;
  alpha: number;
  validationAccuracy: number;
  grid: { alpha: number; accuracy: number }[];
}

export type AlphaReport =
  | { mode: 'fixed'; value: number }
  | { mode: 'auto'; grid: number[]; validationFraction: number; validation: string[]; test: string[]; choices: AlphaChoice[] };

export interface TimingRow {
  /** `learning-free` (every learning-free method of the run together: one call computes them all) or `detector`. */
  stage: string;
  methods: string[];
  pairs: number;
  seconds: number;
  secondsPerPair: number;
}

export interface ChildRecord {
  id: string;
  parent: string;
  generation: number;
  setting: string;
  split: 'validation' | 'test' | 'all';
  /** Best candidate per method among the parent's generation (null: no compatible candidate). */
  predictions: Record<string, string | null>;
}

export interface BenchResult {
  zoo: { dir: string; name: string; models: number; children: number; generations: number };
  options: { methods: string[]; alpha: number | 'auto'; seed: number; resamples: number; detector: string | null };
  alpha: AlphaReport;
  settings: SettingRow[];
  crossGeneration: CrossGenerationCell[];
  timing: TimingRow[];
  children: ChildRecord[];
  notes: string[];
  seconds: number;
}

interface Job {
  from: number;
  to: number;
  task: string;
  children: BenchModel[];
  candidates: BenchModel[];
}

/** predictions[from][childId][methodName] */
type Predictions = Map<number, Map<string, Map<string, string | null>>>;

function plan(zoo: BenchZoo, evaluated: readonly BenchModel[]): Job[] {
  const byGeneration = new Map<number, BenchModel[]>();
  for (const m of zoo.models) byGeneration.set(m.generation, [...(byGeneration.get(m.generation) ?? []), m]);
  const jobs: Job[] = [];
  const generations = [...new Set(evaluated.map((m) => m.generation))].sort((a, b) => a - b);
  for (const to of generations) {
    const tasks = [...new Set(evaluated.filter((m) => m.generation === to).map((m) => m.task))].sort();
    for (let from = to - 1; from >= 0; from--) {
      for (const task of tasks) {
        jobs.push({ from, to, task, children: evaluated.filter((m) => m.generation === to && m.task === task), candidates: byGeneration.get(from) ?? [] });
      }
    }
  }
  return jobs;
}

function loader(m: BenchModel): ModelRef {
  return async () => ({ ...(await resolveModel(m.path)), id: m.id });
}

function cell(method: string, outcomes: boolean[], seed: number, resamples: number, alpha?: number): AccuracyCell {
  const correct = outcomes.filter(Boolean).length;
  return {
    method,
    ...(alpha !== undefined ? { alpha } : {}),
    correct,
    total: outcomes.length,
    accuracy: outcomes.length ? correct / outcomes.length : Number.NaN,
    interval: bootstrapInterval(outcomes, { resamples, seed: deriveSeed(seed, `bootstrap:${method}`) }),
  };
}

export async function benchmarkZoo(zooDir: string, options: BenchOptions = {}): Promise<BenchResult> {
  const started = performance.now();
  const seed = options.seed ?? 0;
  const resamples = options.resamples ?? DEFAULT_RESAMPLES;
  const alphaOption = options.alpha ?? DEFAULT_ALPHA;
  const auto = alphaOption === 'auto';
  const grid = [...(options.alphaGrid ?? ALPHA_GRID)];
  if (auto && grid.length === 0) throw new RangeError('the alpha grid is empty');
  const methodSpec = options.methods ?? 'all';
  const methods = (typeof methodSpec === 'string' ? parseMethodList(methodSpec) : methodSpec.flatMap((m) => parseMethodList(m))).map((m) => m.name);
  const zoo = await readBenchZoo(zooDir);
  const notes: string[] = [];

  let evaluated = zoo.models.filter((m) => m.parent !== null);
  if (options.children) {
    const wanted = new Set(options.children);
    const known = new Set(evaluated.map((m) => m.id));
    for (const id of wanted) if (!known.has(id)) throw new RangeError(`${zooDir}: ${id} is not a child in the zoo`);
    evaluated = evaluated.filter((m) => wanted.has(m.id));
  }
  if (evaluated.length === 0) throw new RangeError(`${zooDir}: the zoo has no child to evaluate`);
  const split = auto ? splitChildren(evaluated.map((m) => m.id), seed, options.validationFraction ?? DEFAULT_VALIDATION_FRACTION) : undefined;

  const detector: LoadedDetector | undefined = options.detector ? await loadDetector(options.detector) : undefined;
  const probes = new Map<string, Tensor<'float32'>>();
  const probeFor = async (task: string) => {
    let p = probes.get(task);
    if (!p) probes.set(task, (p = await readProbe(zoo.probes.get(task) as string, options.probeRows)));
    return p;
  };

  const predictions: Predictions = new Map();
  const record = (from: number, results: MethodResult[]) => {
    let perChild = predictions.get(from);
    if (!perChild) predictions.set(from, (perChild = new Map()));
    for (const r of results) {
      for (const c of r.children) {
        let map = perChild.get(c.child);
        if (!map) perChild.set(c.child, (map = new Map()));
        map.set(r.method, c.parent);
      }
    }
  };
  const timing = { lf: { pairs: 0, seconds: 0 }, det: { pairs: 0, seconds: 0 } };
  const jobs = plan(zoo, evaluated);
  let done = 0;
  for (const job of jobs) {
    const step = `G${job.from + 1} -> G${job.to + 1}, task ${job.task} (${job.children.length} children, ${job.candidates.length} candidates)`;
    options.onProgress?.({ done, total: jobs.length, step });
    const probe = await probeFor(job.task);
    const pairs = job.children.length * job.candidates.length;
    let t = performance.now();
    const results = await scoreMatrix(job.children.map(loader), job.candidates.map(loader), {
      probe,
      methods,
      alpha: auto ? grid[0] : alphaOption,
      ...(auto ? { alphas: grid } : {}),
      ...(options.bnStats ? { bnStats: options.bnStats } : {}),
    });
    timing.lf.seconds += (performance.now() - t) / 1000;
    timing.lf.pairs += pairs;
    record(job.from, results);
    if (detector) {
      t = performance.now();
      try {
        record(job.from, [await detectorScores(job.children.map(loader), job.candidates.map(loader), { detector, probe })]);
        timing.det.seconds += (performance.now() - t) / 1000;
        timing.det.pairs += pairs;
      } catch (err) {
        notes.push(`detector skipped for ${step}: ${(err as Error).message}`);
      }
    }
    done++;
  }
  options.onProgress?.({ done, total: jobs.length, step: 'done' });

  const predicted = (from: number, child: string, method: string): string | null | undefined => predictions.get(from)?.get(child)?.get(method);
  const hit = (m: BenchModel, from: number, method: string) => predicted(from, m.id, method) === ancestorAt(zoo, m.id, from);

  // Alpha per tangent method: chosen from validation children only.
  const chosen = new Map<string, number>();
  let alphaReport: AlphaReport = { mode: 'fixed', value: alphaOption as number };
  if (auto && split) {
    const validation = new Set(split.validation);
    const validationChildren = evaluated.filter((m) => validation.has(m.id));
    const choices = methods.filter(usesAlpha).map((method) => chooseAlpha(method, grid, (alpha) => validationChildren.map((m) => hit(m, m.generation - 1, `${method}@${alpha}`))));
    for (const c of choices) chosen.set(c.method, c.alpha);
    alphaReport = { mode: 'auto', grid, validationFraction: options.validationFraction ?? DEFAULT_VALIDATION_FRACTION, validation: split.validation, test: split.test, choices };
  }
  const allMethods = detector && timing.det.pairs > 0 ? [...methods, DETECTOR_METHOD] : methods;
  const source = (method: string) => (chosen.has(method) ? `${method}@${chosen.get(method)}` : method);
  const alphaOf = (method: string) => (usesAlpha(method) ? (chosen.get(method) ?? (alphaOption as number)) : undefined);

  const testSet = split ? new Set(split.test) : undefined;
  const reported = testSet ? evaluated.filter((m) => testSet.has(m.id)) : evaluated;
  const rowFor = (name: string, children: BenchModel[], from: (m: BenchModel) => number) =>
    allMethods.map((method) => cell(method, children.map((m) => hit(m, from(m), source(method))), deriveSeed(seed, name), resamples, alphaOf(method)));

  const groups = [...new Set(reported.map((m) => m.group))].sort();
  const settings: SettingRow[] = [{ setting: 'all', children: reported.length, methods: rowFor('setting:all', reported, (m) => m.generation - 1) }];
  if (groups.length > 1) {
    for (const g of groups) {
      const members = reported.filter((m) => m.group === g);
      settings.push({ setting: g, children: members.length, methods: rowFor(`setting:${g}`, members, (m) => m.generation - 1) });
    }
  }

  const crossGeneration: CrossGenerationCell[] = [];
  const generations = [...new Set(reported.map((m) => m.generation))].sort((a, b) => a - b);
  for (const to of generations) {
    const members = reported.filter((m) => m.generation === to);
    for (let from = 0; from < to; from++) crossGeneration.push({ candidates: from, children: to, methods: rowFor(`cross:${from}:${to}`, members, () => from) });
  }

  const children: ChildRecord[] = evaluated.map((m) => ({
    id: m.id,
    parent: m.parent as string,
    generation: m.generation,
    setting: m.group,
    split: split ? (testSet!.has(m.id) ? 'test' : 'validation') : 'all',
    predictions: Object.fromEntries(allMethods.map((method) => [method, predicted(m.generation - 1, m.id, source(method)) ?? null])),
  }));

  const timingRows: TimingRow[] = [{ stage: 'learning-free', methods, pairs: timing.lf.pairs, seconds: timing.lf.seconds, secondsPerPair: timing.lf.seconds / Math.max(1, timing.lf.pairs) }];
  if (timing.det.pairs > 0) timingRows.push({ stage: DETECTOR_METHOD, methods: [DETECTOR_METHOD], pairs: timing.det.pairs, seconds: timing.det.seconds, secondsPerPair: timing.det.seconds / timing.det.pairs });
  if (auto) notes.push(`alpha chosen per method on ${split!.validation.length} validation children; accuracies are on the ${split!.test.length} test children only`);

  return {
    zoo: { dir: zooDir, name: zoo.name, models: zoo.models.length, children: evaluated.length, generations: Math.max(...zoo.models.map((m) => m.generation)) + 1 },
    options: { methods: allMethods, alpha: alphaOption, seed, resamples, detector: options.detector ?? null },
    alpha: alphaReport,
    settings,
    crossGeneration,
    timing: timingRows,
    children,
    notes,
    seconds: (performance.now() - started) / 1000,
  };
}

/** The grid value with the best validation accuracy; ties go to the smaller alpha (closest to the direct score). */
export function chooseAlpha(method: string, grid: readonly number[], validationHits: (alpha: number) => boolean[]): AlphaChoice {
  const scored = grid.map((alpha) => {
    const hits = validationHits(alpha);
    return { alpha, accuracy: hits.length ? hits.filter(Boolean).length / hits.length : 0 };
  });
  let best = scored[0];
  for (const s of scored) if (s.accuracy > best.accuracy || (s.accuracy === best.accuracy && s.alpha < best.alpha)) best = s;
  return { method, alpha: best.alpha, validationAccuracy: best.accuracy, grid: scored };
}
