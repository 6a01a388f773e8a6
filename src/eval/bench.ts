/**
 * The benchmark behind the paper's tables: parent-detection top-1 accuracy per learning setting and
 * method (with bootstrap intervals over children), the cross-generation matrix (candidates from
 * generation i, children from generation j > i, truth = the child's ancestor at i), time per pair,
 * and optionally alpha chosen on validation children, accuracies then reported on test children only.
 */
import { treeRow, type TreeRow } from './tree-row.js';
import type { SourceRef } from '../lineage/source-ref.js';
import { scoreMatrix, DEFAULT_ALPHA, type BnStats, type MethodResult } from '../lineage/learning-free.js';
import { allMethodNames, parseMethod, usesAlpha } from '../lineage/methods.js';
import { AUTO_METHOD, type Evidence } from '../lineage/auto.js';
import { readProbe } from '../lineage/probe.js';
import { detectorScores, loadDetector, type LoadedDetector } from '../lineage/detector/index.js';
import { deriveSeed } from '../base/random.js';
import type { Tensor } from '../tensor.js';
import { type Zoo, type ZooModel, readZooManifest } from '../zoo/manifest.js';
import { type MethodAtAlpha, Predictions } from './predictions.js';
import { bootstrapInterval, DEFAULT_RESAMPLES, type Interval } from './stats.js';
import { type ChildSplit, splitChildren, DEFAULT_VALIDATION_FRACTION } from './split.js';
import { ancestorAt, settingOf } from './zoo.js';

export const ALPHA_GRID: readonly number[] = [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3];
export const DETECTOR_METHOD = 'detector';

export interface BenchProgress {
  done: number;
  total: number;
  /** e.g. "G1 -> G2, task fashion (4 children, 3 candidates)" */
  step: string;
}

export interface BenchOptions {
  /** Method list (`all`: `auto` then every single method; `auto`; a comma list; or names); default `all`. */
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
  /** Recover the zoo's family tree too (default true). */
  tree?: boolean;
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
  /** When `auto` ran: the evidence that decided its prediction among the parent's generation (auto.ts). */
  evidence?: Evidence;
}

export interface BenchResult {
  zoo: { dir: string; name: string; models: number; children: number; generations: number };
  options: { methods: string[]; alpha: number | 'auto'; seed: number; resamples: number; detector: string | null };
  alpha: AlphaReport;
  settings: SettingRow[];
  crossGeneration: CrossGenerationCell[];
  timing: TimingRow[];
  children: ChildRecord[];
  /** The zoo's family tree scored against the manifest (tree-row.ts); null when not asked or not possible. */
  tree: TreeRow | null;
  notes: string[];
  seconds: number;
}

/** The run's options with their defaults filled in. */
interface RunSettings {
  seed: number;
  resamples: number;
  methods: string[];
  alpha: { mode: 'fixed'; value: number } | { mode: 'auto'; grid: number[]; validationFraction: number };
}

/** One scoreMatrix call: the children of generation `to` with one task against every model of generation `from`. */
interface Job {
  from: number;
  to: number;
  task: string;
  children: ZooModel[];
  candidates: ZooModel[];
}

interface StageTime {
  pairs: number;
  seconds: number;
}

interface Scored {
  predictions: Predictions;
  learningFree: StageTime;
  /** Absent without a detector. */
  detector?: StageTime;
  /** Child -> the evidence that decided `auto` among the parent's generation (only when `auto` ran). */
  evidence: Map<string, Evidence>;
  notes: string[];
}

/** Method names from `all`, comma lists or names; `auto` is scoreMatrix's composite method (auto.ts), not a parsed one. */
function methodNames(spec: string | readonly string[]): string[] {
  const names = (typeof spec === 'string' ? [spec] : spec)
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter(Boolean);
  if (names.length === 0) throw new RangeError('no method given');
  const expanded = names.flatMap((n) => (n === 'all' ? [AUTO_METHOD, ...allMethodNames()] : n === AUTO_METHOD ? [n] : [parseMethod(n).name]));
  return [...new Set(expanded)];
}

function settingsFrom(options: BenchOptions): RunSettings {
  const methods = methodNames(options.methods ?? 'all');
  const chosen = options.alpha ?? DEFAULT_ALPHA;
  const common = { seed: options.seed ?? 0, resamples: options.resamples ?? DEFAULT_RESAMPLES, methods };
  if (chosen !== 'auto') return { ...common, alpha: { mode: 'fixed', value: chosen } };
  const grid = [...(options.alphaGrid ?? ALPHA_GRID)];
  if (grid.length === 0) throw new RangeError('the alpha grid is empty');
  return { ...common, alpha: { mode: 'auto', grid, validationFraction: options.validationFraction ?? DEFAULT_VALIDATION_FRACTION } };
}

/** The children asked for (default: every model with a parent). */
function childrenToEvaluate(zoo: Zoo, zooDir: string, wanted: readonly string[] | undefined): ZooModel[] {
  let evaluated = zoo.models.filter((m) => m.entry.parent !== null);
  if (wanted) {
    const asked = new Set(wanted);
    const known = new Set(evaluated.map((m) => m.entry.id));
    for (const id of asked) if (!known.has(id)) throw new RangeError(`${zooDir}: ${id} is not a child in the zoo`);
    evaluated = evaluated.filter((m) => asked.has(m.entry.id));
  }
  if (evaluated.length === 0) throw new RangeError(`${zooDir}: the zoo has no child to evaluate`);
  return evaluated;
}

function plan(zoo: Zoo, evaluated: readonly ZooModel[]): Job[] {
  const byGeneration = new Map<number, ZooModel[]>();
  for (const m of zoo.models) byGeneration.set(m.depth, [...(byGeneration.get(m.depth) ?? []), m]);
  const taskOf = (m: ZooModel) => m.entry.task ?? '';
  const jobs: Job[] = [];
  const generations = [...new Set(evaluated.map((m) => m.depth))].sort((a, b) => a - b);
  for (const to of generations) {
    const tasks = [...new Set(evaluated.filter((m) => m.depth === to).map(taskOf))].sort();
    for (let from = to - 1; from >= 0; from--) {
      for (const task of tasks) {
        jobs.push({ from, to, task, children: evaluated.filter((m) => m.depth === to && taskOf(m) === task), candidates: byGeneration.get(from) ?? [] });
      }
    }
  }
  return jobs;
}

function loader(m: ZooModel): SourceRef {
  return { id: m.entry.id, path: m.path };
}

/** Runs every job: the learning-free methods, then the detector when one is given. */
async function scoreJobs(zoo: Zoo, jobs: readonly Job[], settings: RunSettings, detector: LoadedDetector | undefined, options: BenchOptions): Promise<Scored> {
  const probes = new Map<string, Tensor<'float32'>>();
  const probeFor = async (task: string): Promise<Tensor<'float32'>> => {
    const read = probes.get(task) ?? (await readProbe(zoo.probes.get(task) as string, options.probeRows));
    probes.set(task, read);
    return read;
  };
  // Tuning reads the tangent methods at every grid value; the main step is the default one, which is
  // what `auto`'s feature evidence (no alpha of its own to tune) uses, as in `lineage detect`.
  const alpha = settings.alpha.mode === 'auto' ? { alpha: DEFAULT_ALPHA, alphas: settings.alpha.grid } : { alpha: settings.alpha.value };
  const names = detector ? [...settings.methods, DETECTOR_METHOD] : settings.methods;
  const scored: Scored = {
    predictions: new Predictions(),
    learningFree: { pairs: 0, seconds: 0 },
    ...(detector ? { detector: { pairs: 0, seconds: 0 } } : {}),
    evidence: new Map(),
    notes: [],
  };
  let done = 0;
  for (const job of jobs) {
    const step = `G${job.from + 1} -> G${job.to + 1}, task ${job.task} (${job.children.length} children, ${job.candidates.length} candidates)`;
    options.onProgress?.({ done, total: jobs.length, step });
    const probe = await probeFor(job.task);
    const pairs = job.children.length * job.candidates.length;
    let t = performance.now();
    const results = await scoreMatrix(job.children.map(loader), job.candidates.map(loader), {
      probe,
      methods: settings.methods,
      // Accuracy and time per pair of the scoring methods only: p-values are not what is measured.
      independence: false,
      ...alpha,
      ...(options.bnStats ? { bnStats: options.bnStats } : {}),
    });
    addTime(scored.learningFree, pairs, t);
    scored.predictions.record(job.from, results, names);
    if (job.from === job.to - 1) recordEvidence(scored.evidence, results);
    if (detector && scored.detector) {
      t = performance.now();
      try {
        scored.predictions.record(job.from, [await detectorScores(job.children.map(loader), job.candidates.map(loader), { detector, probe })], names);
        addTime(scored.detector, pairs, t);
      } catch (err) {
        scored.notes.push(`detector skipped for ${step}: ${(err as Error).message}`);
      }
    }
    done++;
  }
  options.onProgress?.({ done, total: jobs.length, step: 'done' });
  return scored;
}

function recordEvidence(into: Map<string, Evidence>, results: readonly MethodResult[]): void {
  for (const c of results.find((r) => r.method === AUTO_METHOD)?.children ?? []) if (c.evidence) into.set(c.child, c.evidence);
}

/** How often each evidence decided `auto` among the parent's generation, over `children`. */
function evidenceNote(evidence: ReadonlyMap<string, Evidence>, children: readonly ZooModel[]): string | undefined {
  if (evidence.size === 0) return undefined;
  const count = (e: Evidence) => children.filter((m) => evidence.get(m.entry.id) === e).length;
  return `auto decided by weights alone for ${count('weights')}, by features breaking a weight tie for ${count('combined')}, by features alone for ${count('features')} of ${children.length} reported children (parent generation)`;
}

function addTime(stage: StageTime, pairs: number, started: number): void {
  stage.seconds += (performance.now() - started) / 1000;
  stage.pairs += pairs;
}

/** Whether the prediction for `child` among generation `from`, by one method at one alpha, is its true ancestor there. */
type HitTest = (child: ZooModel, from: number, at: MethodAtAlpha) => boolean;

interface AlphaChoices {
  /** Method -> alpha chosen on validation children (auto mode only). */
  chosen: Map<string, number>;
  report: AlphaReport;
}

/** Alpha per tangent method, chosen on validation children only. */
function chooseAlphas(settings: RunSettings, evaluated: readonly ZooModel[], split: ChildSplit | undefined, hit: HitTest): AlphaChoices {
  const alpha = settings.alpha;
  if (alpha.mode === 'fixed') return { chosen: new Map(), report: { mode: 'fixed', value: alpha.value } };
  if (!split) throw new Error('choosing alpha needs a validation split');
  const validation = new Set(split.validation);
  const validationChildren = evaluated.filter((m) => validation.has(m.entry.id));
  const choices = settings.methods
    .filter(usesAlpha)
    .map((method) => chooseAlpha(method, alpha.grid, (a) => validationChildren.map((m) => hit(m, m.depth - 1, { method, alpha: a }))));
  return {
    chosen: new Map(choices.map((c) => [c.method, c.alpha])),
    report: { mode: 'auto', grid: alpha.grid, validationFraction: alpha.validationFraction, validation: split.validation, test: split.test, choices },
  };
}

/** What the report tables need: the methods reported, the alpha each is read at, and the hit test. */
interface Reporting {
  methods: string[];
  alphaOf: (method: string) => number | undefined;
  hit: HitTest;
  seed: number;
  resamples: number;
}

function reportedAt(r: Reporting, method: string): MethodAtAlpha {
  const alpha = r.alphaOf(method);
  return alpha === undefined ? { method } : { method, alpha };
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

/** One accuracy cell per method over `children`, each judged against its ancestor at generation `from(child)`. */
function accuracyRow(r: Reporting, name: string, children: readonly ZooModel[], from: (m: ZooModel) => number): AccuracyCell[] {
  return r.methods.map((method) =>
    cell(
      method,
      children.map((m) => r.hit(m, from(m), reportedAt(r, method))),
      deriveSeed(r.seed, name),
      r.resamples,
      r.alphaOf(method),
    ),
  );
}

function settingRows(r: Reporting, reported: readonly ZooModel[]): SettingRow[] {
  const parentGeneration = (m: ZooModel) => m.depth - 1;
  const rows: SettingRow[] = [{ setting: 'all', children: reported.length, methods: accuracyRow(r, 'setting:all', reported, parentGeneration) }];
  const groups = [...new Set(reported.map(settingOf))].sort();
  if (groups.length > 1) {
    for (const g of groups) {
      const members = reported.filter((m) => settingOf(m) === g);
      rows.push({ setting: g, children: members.length, methods: accuracyRow(r, `setting:${g}`, members, parentGeneration) });
    }
  }
  return rows;
}

function crossGenerationCells(r: Reporting, reported: readonly ZooModel[]): CrossGenerationCell[] {
  const cells: CrossGenerationCell[] = [];
  const generations = [...new Set(reported.map((m) => m.depth))].sort((a, b) => a - b);
  for (const to of generations) {
    const members = reported.filter((m) => m.depth === to);
    for (let from = 0; from < to; from++) cells.push({ candidates: from, children: to, methods: accuracyRow(r, `cross:${from}:${to}`, members, () => from) });
  }
  return cells;
}

function childRecords(r: Reporting, evaluated: readonly ZooModel[], scored: Scored, testSet: ReadonlySet<string> | undefined): ChildRecord[] {
  return evaluated.map((m) => {
    const evidence = scored.evidence.get(m.entry.id);
    return {
      id: m.entry.id,
      parent: m.entry.parent as string,
      generation: m.depth,
      setting: settingOf(m),
      split: testSet ? (testSet.has(m.entry.id) ? 'test' : 'validation') : 'all',
      predictions: Object.fromEntries(r.methods.map((method) => [method, scored.predictions.get(m.depth - 1, m.entry.id, reportedAt(r, method)) ?? null])),
      ...(evidence ? { evidence } : {}),
    };
  });
}

function timingRows(methods: string[], scored: Scored): TimingRow[] {
  const lf = scored.learningFree;
  const rows: TimingRow[] = [{ stage: 'learning-free', methods, pairs: lf.pairs, seconds: lf.seconds, secondsPerPair: lf.seconds / Math.max(1, lf.pairs) }];
  const det = scored.detector;
  if (det && det.pairs > 0)
    rows.push({ stage: DETECTOR_METHOD, methods: [DETECTOR_METHOD], pairs: det.pairs, seconds: det.seconds, secondsPerPair: det.seconds / det.pairs });
  return rows;
}

export async function benchmarkZoo(zooDir: string, options: BenchOptions = {}): Promise<BenchResult> {
  const started = performance.now();
  const settings = settingsFrom(options);
  const zoo = await readZooManifest(zooDir, { childProbes: true });
  const evaluated = childrenToEvaluate(zoo, zooDir, options.children);
  const split =
    settings.alpha.mode === 'auto'
      ? splitChildren(
          evaluated.map((m) => m.entry.id),
          settings.seed,
          settings.alpha.validationFraction,
        )
      : undefined;
  const detector = options.detector ? await loadDetector(options.detector) : undefined;
  const scored = await scoreJobs(zoo, plan(zoo, evaluated), settings, detector, options);

  const hit: HitTest = (m, from, at) => scored.predictions.get(from, m.entry.id, at) === ancestorAt(zoo, m.entry.id, from);
  const alpha = chooseAlphas(settings, evaluated, split, hit);
  const fixedAlpha = settings.alpha.mode === 'fixed' ? settings.alpha.value : settings.alpha.grid[0];
  const reporting: Reporting = {
    methods: scored.detector && scored.detector.pairs > 0 ? [...settings.methods, DETECTOR_METHOD] : settings.methods,
    alphaOf: (method) => (usesAlpha(method) ? (alpha.chosen.get(method) ?? fixedAlpha) : undefined),
    hit,
    seed: settings.seed,
    resamples: settings.resamples,
  };
  const testSet = split ? new Set(split.test) : undefined;
  const reported = testSet ? evaluated.filter((m) => testSet.has(m.entry.id)) : evaluated;
  const notes = [...scored.notes];
  if (split)
    notes.push(`alpha chosen per method on ${split.validation.length} validation children; accuracies are on the ${split.test.length} test children only`);
  const autoNote = evidenceNote(scored.evidence, reported);
  if (autoNote) notes.push(autoNote);
  const tree = options.tree === false ? undefined : await treeRow(zoo);
  if (tree && 'note' in tree) notes.push(tree.note);

  return {
    zoo: { dir: zooDir, name: zoo.name, models: zoo.models.length, children: evaluated.length, generations: Math.max(...zoo.models.map((m) => m.depth)) + 1 },
    options: {
      methods: reporting.methods,
      alpha: settings.alpha.mode === 'auto' ? 'auto' : settings.alpha.value,
      seed: settings.seed,
      resamples: settings.resamples,
      detector: options.detector ?? null,
    },
    alpha: alpha.report,
    settings: settingRows(reporting, reported),
    crossGeneration: crossGenerationCells(reporting, reported),
    timing: timingRows(settings.methods, scored),
    children: childRecords(reporting, evaluated, scored, testSet),
    tree: tree && 'row' in tree ? tree.row : null,
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
