/**
 * Learning-free lineage detection: scores every (candidate parent, child) pair with every requested
 * method and names the best candidate per child.
 *
 * Cost model: each child is read once and kept (weights, graph, its features on the probe, its JVP
 * graph); candidates are streamed, each read once, scored against every child and dropped, so
 * memory holds the children and one candidate whatever their number. Per (candidate, child) pair,
 * one pass over the probe gives the candidate's features and, when a method needs it, the tangent
 * T = J_p Delta (the child's JVP graph computes both); every metric's direct, Taylor and linearised
 * scores at every alpha follow from them without another pass. Each pass builds an ONNX Runtime
 * session with the candidate's weights (and Delta) bound as constants and releases it after: ORT
 * then prepacks convolutions, ~6x faster per pass than weights fed as inputs and more than the
 * session costs to build. The probe goes through in chunks of `batchRows` rows, so activation
 * memory follows the chunk, not the probe.
 */
import type { Tensor } from '../tensor.js';
import { type Graph, resolveLayer, truncateGraph } from '../graph/ir.js';
import { jvpGraph, type JvpGraph } from '../graph/transforms/jvp.js';
import { CompiledGraph } from '../runtime/ort.js';
import { FormatError } from '../formats/errors.js';
import { type LineageModel, buildModelGraph, type ArchOptions } from './model.js';
import { checkCompatible, foldedBatchNormReason, hasNonFinite } from './compat.js';
import { BatchScorer, type FeatureBatch } from './feature-batch.js';
import { assertFiniteModel } from './finite.js';
import { type Method, parseMethodList } from './methods.js';
import type { MetricParams } from './similarity/types.js';
import { isBatchCounterName, isBufferName } from '../base/naming.js';
import { type CandidateScore, type ChildResult, type MethodResult, rankCandidates } from './results.js';
import { memorySource } from '../source/memory.js';
import { compareModels } from './weights/compare.js';
import { type ChildComparisons, scoreWeightMatrix, type WeightOutput, weightScoresOfChild } from './weight-detect.js';
import { loadRef, type SourceRef } from './source-ref.js';
import { pairPValue, type PValueOptions } from './independence/pair-p-value.js';
import { compareAligned } from './align/index.js';
import { isAlignedMethod } from './weights/scores.js';
import { AUTO_FEATURE_METHOD, AUTO_METHOD, AUTO_WEIGHT_METHOD, autoComponents, autoResult } from './auto.js';

export type { CandidateScore, ChildResult, MethodResult } from './results.js';

export interface DetectOptions extends ArchOptions {
  /** Probe inputs, N x C x H x W float32 (already normalised). Needed by feature methods. */
  probe?: Tensor<'float32'>;
  /** Feature layer: a tap name (`penultimate`, `layer3`, ...) or a value name. */
  layer?: string;
  /** Method names or parsed methods, `auto` included; default ['auto']. */
  methods?: (string | Method)[];
  /** Step along the tangent for taylor/linearized scores. */
  alpha?: number;
  /**
   * Extra steps: each taylor/linearized method also yields a result named `<method>@<alpha>` per
   * value here, from the same tangent pass (alpha tuning costs no extra model pass).
   */
  alphas?: number[];
  metricParams?: MetricParams;
  /**
   * Whose BatchNorm running statistics the candidate's passes use. Default 'child': fine-tuning
   * replaces them and they are buffers outside Delta, so the parent's own statistics make the true
   * parent look farther than it is (bench/results/paper.md: direct-l1 44.8 -> 65.5%, fitted-l1
   * 55.2 -> 89.7% on the generations zoo). 'parent' is the paper's choice. 'delta' runs the
   * candidate with its own statistics and makes their change to the child's part of Delta: the
   * tangent then carries the first-order effect of the new statistics (direct scores are those of
   * 'parent'). No effect without BatchNorm.
   */
  bnStats?: BnStats;
  /** Probe rows per model pass (default 64): bounds activation memory, whatever the probe size. */
  batchRows?: number;
  /** Called after each candidate is scored against every child. */
  onProgress?: (done: number, total: number) => void;
  /** Weight methods: score children related to no candidate as stored after alignment (set for `auto`). */
  alignWhenUnrelated?: boolean;
  /** p-values of "trained independently" per pair (independence/unit-test.ts); false: none. Default: B = 999, seed 0. */
  independence?: PValueOptions | false;
  /**
   * Called with each candidate once it is read, before it is scored: a caller that needs more from
   * the candidates (the learned detector's inputs) takes it from this read instead of a second one.
   */
  onCandidate?: (candidate: LineageModel) => Promise<void> | void;
}

export const DEFAULT_ALPHA = 0.01;
/** What `detect` computes when no method is named. */
export const DEFAULT_METHOD = AUTO_METHOD;
export const BN_STATS = ['parent', 'child', 'delta'] as const;
export type BnStats = (typeof BN_STATS)[number];
export const DEFAULT_BN_STATS: BnStats = 'child';

/** A BnStats from user text, or a RangeError naming the choices. */
export function parseBnStats(value: string): BnStats {
  const found = BN_STATS.find((b) => b === value);
  if (!found) throw new RangeError(`--bn-stats must be one of ${BN_STATS.join(', ')}, got '${value}'`);
  return found;
}
export const DEFAULT_LAYER = 'penultimate';
/**
 * Probe rows per pass. Measured (bench/results/detect.md, ResNet-18 taylor-l1): 64 rows keep the
 * working memory at 486 MiB against 715 MiB for 256 rows on 1x28x28 inputs (632 vs 1835 MiB on
 * 3x64x64) for at most a third more time.
 */
export const DEFAULT_BATCH_ROWS = 64;

/** One requested result: a method at one step alpha, named `<method>` or `<method>@<alpha>`. */
interface ScoreOutput {
  name: string;
  method: Method;
  alpha: number;
}

/** scoreMatrix's options, checked, with defaults applied. */
interface ScoringPlan {
  outputs: ScoreOutput[];
  layer: string;
  batchRows: number;
  bnStats: BnStats;
  /** Present when some method compares features. */
  probe?: Tensor<'float32'>;
  /** Some method moves features along the tangent. */
  needTangent: boolean;
  metricParams?: MetricParams;
}

/** What a child keeps for every candidate: the child's own features, JVP graph and the scores so far. */
interface ChildState {
  model: LineageModel;
  graph: Graph;
  /** Tensors that must match a candidate's (everything but the head). */
  checked: string[];
  features?: ChildFeatures;
  /** method name -> candidate scores */
  scores: Map<string, CandidateScore[]>;
  incompatible: { parent: string; reason: string }[];
  /** Weight methods are scored once every candidate is compared (weight-detect.ts): the comparisons so far. */
  weightComparisons: ChildComparisons;
}

interface ChildFeatures {
  /** The graph value of the feature layer. */
  value: string;
  /** F_c on the probe. */
  values: Float32Array;
  /** Present when a method needs the tangent: built once per child. */
  jvp?: JvpGraph;
  /** Initializers the feature sub-graph reads: what a candidate's pass binds. */
  read: string[];
}

function delta(child: ReadonlyMap<string, Tensor>, parent: ReadonlyMap<string, Tensor>, name: string): Tensor<'float32'> {
  const c = child.get(name)!.data as Float32Array;
  const p = parent.get(name)!.data as Float32Array;
  const out = new Float32Array(c.length);
  for (let i = 0; i < c.length; i++) out[i] = c[i] - p[i];
  return { dtype: 'float32', shape: [...child.get(name)!.shape], data: out };
}

/** One chunked pass over the probe in a session built for it (weights bound as constants), then released. */
async function passOnce(
  graph: Graph,
  outputs: string[],
  probe: Tensor<'float32'>,
  rows: number,
  bind?: ReadonlyMap<string, Tensor>,
): Promise<Record<string, Float32Array>> {
  const session = await CompiledGraph.create(graph, outputs, bind ? { bind } : {});
  try {
    return await session.runChunked(graph.inputs[0].name, probe, rows);
  } finally {
    await session.release();
  }
}

function planScoring(options: DetectOptions): ScoringPlan {
  const methods = (options.methods ?? [DEFAULT_METHOD]).flatMap((m) => (typeof m === 'string' ? parseMethodList(m) : [m]));
  const alpha = options.alpha ?? DEFAULT_ALPHA;
  const extraAlphas = options.alphas ?? [];
  for (const a of [alpha, ...extraAlphas]) if (!Number.isFinite(a)) throw new RangeError(`alpha must be a finite number, got ${a}`);
  const outputs = methods.flatMap((m) => [
    { name: m.name, method: m, alpha },
    ...(m.kind === 'feature' && (m.mode === 'taylor' || m.mode === 'linearized')
      ? extraAlphas.map((a) => ({ name: `${m.name}@${a}`, method: m, alpha: a }))
      : []),
  ]);
  const batchRows = options.batchRows ?? DEFAULT_BATCH_ROWS;
  if (!Number.isInteger(batchRows) || batchRows < 1) throw new RangeError(`batchRows must be a positive integer, got ${batchRows}`);
  const needFeatures = methods.some((m) => m.kind === 'feature');
  if (needFeatures && !options.probe) throw new RangeError('feature methods need a probe batch (--probe X.npy)');
  return {
    outputs,
    layer: options.layer ?? DEFAULT_LAYER,
    batchRows,
    bnStats: options.bnStats ?? DEFAULT_BN_STATS,
    probe: needFeatures ? options.probe : undefined,
    needTangent: methods.some((m) => m.kind === 'feature' && m.mode !== 'direct'),
    metricParams: options.metricParams,
  };
}

/** Reads a child, builds its graph and, for feature methods, computes its features and JVP graph. */
async function prepareChild(ref: SourceRef, plan: ScoringPlan, options: ArchOptions): Promise<ChildState> {
  const model = await loadRef(ref);
  assertFiniteModel(model);
  const built = await buildModelGraph(model, options);
  const head = new Set(built.headParams);
  const state: ChildState = {
    model,
    graph: built.graph,
    // A candidate exported to ONNX lacks the batch counter, which no pass reads: not worth refusing it over.
    checked: [...model.weights.keys()].filter((k) => !head.has(k) && !isBatchCounterName(k)),
    scores: new Map(plan.outputs.map((o) => [o.name, []])),
    incompatible: [],
    weightComparisons: { child: model.id, compared: [], incompatible: [] },
  };
  if (plan.probe) state.features = await childFeatures(state, plan, plan.probe);
  return state;
}

async function childFeatures(state: ChildState, plan: ScoringPlan, probe: Tensor<'float32'>): Promise<ChildFeatures> {
  const value = resolveLayerIn(state.model, state.graph, plan.layer);
  const read = [...truncateGraph(state.graph, [value]).initializers.keys()].filter((k) => state.model.weights.has(k));
  const values = (await passOnce(state.graph, [value], probe, plan.batchRows))[value];
  if (!plan.needTangent) return { value, values, read };
  // `read` holds what the graph reads, so its buffers are BatchNorm means and variances (never the
  // batch counter): they move with Delta in 'delta' mode only.
  const params = read.filter((k) => (plan.bnStats === 'delta' || !isBufferName(k)) && state.model.weights.get(k)!.dtype === 'float32');
  return { value, values, read, jvp: jvpGraph(state.graph, value, params) };
}

/** The feature layer's value, or a FormatError naming the model's file (an ONNX graph is the user's). */
function resolveLayerIn(model: LineageModel, graph: Graph, layer: string): string {
  try {
    return resolveLayer(graph, layer);
  } catch (err) {
    if (!model.graph) throw err;
    throw new FormatError(model.file, (err as Error).message);
  }
}

/** Why `parent` cannot be `state`'s parent, or undefined when it can. */
function incompatibility(state: ChildState, parent: LineageModel): string | undefined {
  const compat = checkCompatible(state.model.weights, parent.weights, state.checked);
  if (!compat.ok) return foldedBatchNormReason(state.model, parent) ?? compat.reason;
  const bad = hasNonFinite(parent.weights, state.checked);
  return bad ? `candidate has NaN or infinite values in tensor ${bad}` : undefined;
}

/** Scores one compatible (candidate, child) pair with every method and records the scores. */
async function scorePair(state: ChildState, parent: LineageModel, plan: ScoringPlan, independence: PValueOptions | false): Promise<void> {
  const child = state.model;
  const [a, b] = [memorySource(parent.weights, parent.file), memorySource(child.weights, child.file)];
  const pValue = independence === false ? undefined : await pairPValue(a, b, { candidate: parent.id, child: child.id }, independence);
  const record = (method: string, score: number) =>
    state.scores.get(method)!.push({ parent: parent.id, score, ...(pValue !== undefined ? { p_value: pValue } : {}) });
  if (weightOutputsOf(plan).length > 0) {
    // The same comparison as for models streamed from files, so a method's score never depends on how the model was given.
    const comparison = await compareModels(a, b);
    const align = weightOutputsOf(plan).some((o) => isAlignedMethod(o.method));
    const aligned = align ? (await compareAligned(a, b)).comparison : undefined;
    state.weightComparisons.compared.push({ candidate: parent.id, comparison, ...(aligned ? { aligned } : {}), pValue });
  }
  if (!state.features || !plan.probe) return;
  const scorer = new BatchScorer(await featureBatch(state, state.features, parent, plan, plan.probe), plan.metricParams);
  for (const { name, method, alpha } of plan.outputs) {
    if (method.kind === 'feature') record(name, scorer.score(method.mode, method.metric, alpha));
  }
}

/** The candidate's features on the probe (and the tangent when needed), beside the child's. */
async function featureBatch(state: ChildState, child: ChildFeatures, parent: LineageModel, plan: ScoringPlan, probe: Tensor<'float32'>): Promise<FeatureBatch> {
  // BatchNorm statistics are buffers, outside Delta: with bnStats 'child' the candidate runs with
  // the child's statistics, so a changed normalisation is not mistaken for a changed network.
  const statsFrom = (k: string) => (plan.bnStats === 'child' && isBufferName(k) ? state.model.weights : parent.weights);
  const bound = new Map(child.read.map((k) => [k, statsFrom(k).get(k) as Tensor]));
  const n = probe.shape[0];
  const batch = (fp: Float32Array, tangent?: Float32Array): FeatureBatch => ({ fp, fc: child.values, tangent, n, d: n === 0 ? 0 : fp.length / n });
  if (!child.jvp) return batch((await passOnce(state.graph, [child.value], probe, plan.batchRows, bound))[child.value]);
  for (const [param, input] of child.jvp.tangentInputs) bound.set(input, delta(state.model.weights, parent.weights, param));
  const out = await passOnce(child.jvp.graph, [child.jvp.output, child.jvp.tangent], probe, plan.batchRows, bound);
  return batch(out[child.jvp.output], out[child.jvp.tangent]);
}

/**
 * Scores every candidate against every child with every method. `auto` (auto.ts) is computed from
 * its component methods, which are reported only when asked for too.
 */
export async function scoreMatrix(children: SourceRef[], parents: SourceRef[], options: DetectOptions = {}): Promise<MethodResult[]> {
  const asked: (string | Method)[] = [];
  for (const m of options.methods ?? [DEFAULT_METHOD]) asked.push(...(typeof m === 'string' ? m.split(',').map((x) => x.trim()) : [m]));
  if (!asked.includes(AUTO_METHOD)) return scoreMethods(children, parents, { ...options, methods: asked });
  const nameOf = (m: string | Method) => (typeof m === 'string' ? m : m.name);
  const named = asked.map(nameOf);
  const extra = autoComponents(options.probe !== undefined).filter((c) => !named.includes(c));
  const rest = asked.filter((m) => m !== AUTO_METHOD);
  const results = await scoreMethods(children, parents, { ...options, methods: [...rest, ...extra], alignWhenUnrelated: rest.length === 0 });
  const find = (name: string) => results.find((r) => r.method === name);
  const auto = autoResult(find(AUTO_WEIGHT_METHOD)!, find(AUTO_FEATURE_METHOD));
  // A component added for `auto` alone is not reported, nor are its extra alphas (`taylor-l1@0.3`).
  const reported = results.filter((r) => !extra.some((c) => r.method === c || r.method.startsWith(`${c}@`)));
  reported.splice(named.indexOf(AUTO_METHOD), 0, auto);
  return reported;
}

async function scoreMethods(children: SourceRef[], parents: SourceRef[], options: DetectOptions): Promise<MethodResult[]> {
  const plan = planScoring(options);
  // Weight methods alone need no graph and no model in memory: any architecture, streamed from its files.
  if (!options.onCandidate && plan.outputs.every((o) => o.method.kind === 'weights')) {
    return scoreWeightMatrix(children, parents, {
      outputs: weightOutputsOf(plan),
      layer: plan.layer,
      onProgress: options.onProgress,
      independence: options.independence ?? {},
      alignWhenUnrelated: options.alignWhenUnrelated === true,
    });
  }
  const states: ChildState[] = [];
  for (const ref of children) states.push(await prepareChild(ref, plan, options));
  let done = 0;
  for (const ref of parents) {
    const parent = await loadRef(ref);
    await options.onCandidate?.(parent);
    for (const state of states) {
      const reason = incompatibility(state, parent);
      if (reason) state.incompatible.push({ parent: parent.id, reason });
      else await scorePair(state, parent, plan, options.independence ?? {});
    }
    done++;
    options.onProgress?.(done, parents.length);
  }
  for (const state of states) {
    for (const [name, scores] of weightScoresOfChild(state.weightComparisons, weightOutputsOf(plan))) state.scores.get(name)!.push(...scores);
  }
  return plan.outputs.map((o) => ({ method: o.name, alpha: o.alpha, layer: plan.layer, children: states.map((s) => rankedChild(s, o.name)) }));
}

function weightOutputsOf(plan: ScoringPlan): WeightOutput[] {
  return plan.outputs.flatMap((o) => (o.method.kind === 'weights' ? [{ name: o.name, method: o.method.name, alpha: o.alpha }] : []));
}

function rankedChild(state: ChildState, method: string): ChildResult {
  return rankCandidates(state.model.id, state.scores.get(method)!, state.incompatible);
}

/** Ranks the candidates for one child; one result per method. */
export async function detectParent(child: SourceRef, parents: SourceRef[], options: DetectOptions = {}): Promise<{ method: string; result: ChildResult }[]> {
  const results = await scoreMatrix([child], parents, options);
  return results.map((r) => ({ method: r.method, result: r.children[0] }));
}
