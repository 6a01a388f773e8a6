/**
 * Learning-free lineage detection: scores every (candidate parent, child) pair with every requested
 * method and names the best candidate per child.
 *
 * Cost model: each child's features are computed once; candidates are streamed one at a time (so
 * memory does not grow with their number); per candidate, one forward pass gives its features, and
 * per (candidate, child) pair one forward-mode pass gives the tangent T = J_p Delta, from which every
 * metric's Taylor and linearised scores follow without another model pass. One ONNX Runtime
 * session per architecture serves every candidate: weights and tangents are fed as inputs.
 */
import type { Tensor } from '../tensor.js';
import { type Graph, resolveLayer, truncateGraph } from '../graph/ir.js';
import { jvpGraph, type JvpGraph } from '../graph/transforms/jvp.js';
import { CompiledGraph } from '../runtime/ort.js';
import { isBufferName } from '../formats/index.js';
import { type LineageModel, type ModelRef, resolveModel, buildModelGraph, type ArchOptions } from './model.js';
import { checkCompatible, comparedParameters, hasNonFinite } from './compat.js';
import { assertFiniteModel } from './finite.js';
import { type Method, parseMethodList } from './methods.js';
import { getMetric } from './similarity/index.js';
import { directScore, fittedScore, linearizedScore, taylorScore } from './similarity/scores.js';
import type { MetricParams, SimilarityMetric } from './similarity/types.js';
import { weightsCosine, weightsL2 } from './weight-baselines.js';

export interface DetectOptions extends ArchOptions {
  /** Probe inputs, N x C x H x W float32 (already normalised). Needed by feature methods. */
  probe?: Tensor<'float32'>;
  /** Feature layer: a tap name (`penultimate`, `layer3`, ...) or a value name. */
  layer?: string;
  /** Method names or parsed methods; default ['taylor-l1']. */
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
}

export interface CandidateScore {
  parent: string;
  score: number;
}

export interface ChildResult {
  child: string;
  parent: string | null;
  scores: CandidateScore[];
  incompatible: { parent: string; reason: string }[];
}

export interface MethodResult {
  method: string;
  alpha: number;
  layer: string;
  children: ChildResult[];
}

export const DEFAULT_ALPHA = 0.01;
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

interface ChildState {
  model: LineageModel;
  graph: Graph;
  /** Tensors that must match a candidate's (everything but the head). */
  checked: string[];
  /** Parameters the weight baselines compare (no head, no buffers). */
  compared: string[];
  features?: Float32Array;
  /** method name -> candidate scores */
  scores: Map<string, CandidateScore[]>;
  incompatible: { parent: string; reason: string }[];
}

function delta(child: ReadonlyMap<string, Tensor>, parent: ReadonlyMap<string, Tensor>, name: string): Tensor<'float32'> {
  const c = child.get(name)!.data as Float32Array;
  const p = parent.get(name)!.data as Float32Array;
  const out = new Float32Array(c.length);
  for (let i = 0; i < c.length; i++) out[i] = c[i] - p[i];
  return { dtype: 'float32', shape: [...child.get(name)!.shape], data: out };
}

/** One chunked pass over the probe in a session built for it (weights bound as constants), then released. */
async function passOnce(graph: Graph, outputs: string[], probe: Tensor<'float32'>, rows: number, bind?: ReadonlyMap<string, Tensor>): Promise<Record<string, Float32Array>> {
  const session = await CompiledGraph.create(graph, outputs, bind ? { bind } : {});
  try {
    return await session.runChunked(graph.inputs[0].name, probe, rows);
  } finally {
    await session.release();
  }
}

/** Scores every candidate against every child with every method. */
export async function scoreMatrix(children: ModelRef[], parents: ModelRef[], options: DetectOptions = {}): Promise<MethodResult[]> {
  const methods = (options.methods ?? ['taylor-l1']).flatMap((m) => (typeof m === 'string' ? parseMethodList(m) : [m]));
  const alpha = options.alpha ?? DEFAULT_ALPHA;
  const extraAlphas = options.alphas ?? [];
  for (const a of [alpha, ...extraAlphas]) if (!Number.isFinite(a)) throw new RangeError(`alpha must be a finite number, got ${a}`);
  const outputs = methods.flatMap((m) => [
    { name: m.name, method: m, alpha },
    ...(m.kind === 'feature' && (m.mode === 'taylor' || m.mode === 'linearized') ? extraAlphas.map((a) => ({ name: `${m.name}@${a}`, method: m, alpha: a })) : []),
  ]);
  const layer = options.layer ?? DEFAULT_LAYER;
  const batchRows = options.batchRows ?? DEFAULT_BATCH_ROWS;
  const bnStats = options.bnStats ?? DEFAULT_BN_STATS;
  if (!Number.isInteger(batchRows) || batchRows < 1) throw new RangeError(`batchRows must be a positive integer, got ${batchRows}`);
  const needFeatures = methods.some((m) => m.kind === 'feature');
  const needTangent = methods.some((m) => m.kind === 'feature' && m.mode !== 'direct');
  if (needFeatures && !options.probe) throw new RangeError('feature methods need a probe batch (--probe X.npy)');
  const probe = options.probe as Tensor<'float32'>;

  const states: ChildState[] = [];
  for (const ref of children) {
    const model = await resolveModel(ref);
    assertFiniteModel(model);
    const built = await buildModelGraph(model, options);
    const head = new Set(built.headParams);
    states.push({
      model,
      graph: built.graph,
      checked: [...model.weights.keys()].filter((k) => !head.has(k)),
      compared: comparedParameters(model.weights, built.headParams),
      scores: new Map(outputs.map((o) => [o.name, []])),
      incompatible: [],
    });
  }

  // Sessions embed their weights as constants: ONNX Runtime then prepacks convolutions, which is
  // ~6x faster per pass than feeding weights as inputs, and far more than the session creation
  // costs (one pass per pair is the common case). The JVP graph is built once per child.
  const prepared = new Map<ChildState, { featureValue?: string; jvp?: JvpGraph; fed: string[] }>();
  for (const state of states) {
    const featureValue = needFeatures ? resolveLayer(state.graph, layer) : undefined;
    const sub = featureValue ? truncateGraph(state.graph, [featureValue]) : undefined;
    const fed = sub ? [...sub.initializers.keys()].filter((k) => state.model.weights.has(k)) : [];
    // `fed` holds what the graph reads, so its buffers are BatchNorm means and variances (never the
    // batch counter): they move with Delta in 'delta' mode only.
    const params = fed.filter((k) => (bnStats === 'delta' || !isBufferName(k)) && state.model.weights.get(k)!.dtype === 'float32');
    const entry: { featureValue?: string; jvp?: JvpGraph; fed: string[] } = { featureValue, fed };
    if (featureValue) {
      state.features = (await passOnce(state.graph, [featureValue], probe, batchRows))[featureValue];
      if (needTangent) entry.jvp = jvpGraph(state.graph, featureValue, params);
    }
    prepared.set(state, entry);
  }

  let done = 0;
  for (const ref of parents) {
    const parent = await resolveModel(ref);
    for (const state of states) {
      const compat = checkCompatible(state.model.weights, parent.weights, state.checked);
      if (!compat.ok) {
        state.incompatible.push({ parent: parent.id, reason: compat.reason });
        continue;
      }
      const bad = hasNonFinite(parent.weights, state.checked);
      if (bad) {
        state.incompatible.push({ parent: parent.id, reason: `candidate has NaN or infinite values in tensor ${bad}` });
        continue;
      }
      const record = (method: string, score: number) => state.scores.get(method)!.push({ parent: parent.id, score });
      for (const m of methods) {
        if (m.kind === 'weights') {
          record(m.name, m.name === 'weights-l2' ? weightsL2(state.model.weights, parent.weights, state.compared) : weightsCosine(state.model.weights, parent.weights, state.compared));
        }
      }
      if (!needFeatures) continue;
      const c = prepared.get(state)!;
      // BatchNorm statistics are buffers, outside Delta: with bnStats 'child' the candidate runs with
      // the child's statistics, so a changed normalisation is not mistaken for a changed network.
      const statsFrom = (k: string) => (bnStats === 'child' && isBufferName(k) ? state.model.weights : parent.weights);
      const parentWeights = new Map(c.fed.map((k) => [k, statsFrom(k).get(k) as Tensor]));
      let fp: Float32Array;
      let tangent: Float32Array | undefined;
      if (c.jvp) {
        const bound = new Map(parentWeights);
        for (const [param, input] of c.jvp.tangentInputs) bound.set(input, delta(state.model.weights, parent.weights, param));
        const out = await passOnce(c.jvp.graph, [c.jvp.output, c.jvp.tangent], probe, batchRows, bound);
        fp = out[c.jvp.output];
        tangent = out[c.jvp.tangent];
      } else {
        const featureValue = c.featureValue as string;
        fp = (await passOnce(state.graph, [featureValue], probe, batchRows, parentWeights))[featureValue];
      }
      const n = probe.shape[0];
      const d = n === 0 ? 0 : fp.length / n;
      const fc = state.features as Float32Array;
      // Within one pair, raw s and its directional derivative do not depend on alpha: computed once,
      // they serve the direct score and the Taylor score at every alpha.
      const pairMetrics = new Map<string, SimilarityMetric>();
      for (const { name, method: m, alpha: step } of outputs) {
        if (m.kind !== 'feature') continue;
        let metric = pairMetrics.get(m.metric);
        if (!metric) pairMetrics.set(m.metric, (metric = memoizedMetric(getMetric(m.metric))));
        // Linearised and fitted scores evaluate raw at moved features: they must not see the memoized value.
        if (m.mode === 'linearized' || m.mode === 'fitted') metric = getMetric(m.metric);
        let score: number;
        if (m.mode === 'direct') score = directScore(metric, fp, fc, n, d, options.metricParams);
        else if (m.mode === 'taylor') score = taylorScore(metric, fp, fc, tangent as Float32Array, step, n, d, options.metricParams).score;
        else if (m.mode === 'fitted') score = fittedScore(metric, fp, fc, tangent as Float32Array, n, d, options.metricParams).score;
        else score = linearizedScore(metric, fp, fc, tangent as Float32Array, step, n, d, options.metricParams).score;
        record(name, score);
      }
    }
    done++;
    options.onProgress?.(done, parents.length);
  }
  return outputs.map((o) => ({
    method: o.name,
    alpha: o.alpha,
    layer,
    children: states.map((s) => {
      const scores = [...s.scores.get(o.name)!].sort((a, b) => rankValue(b.score) - rankValue(a.score));
      return { child: s.model.id, parent: scores.length > 0 && Number.isFinite(scores[0].score) ? scores[0].parent : null, scores, incompatible: s.incompatible };
    }),
  }));
}

/** The metric with `raw` and `directional` evaluated once: valid for one (parent, child, tangent) triple only. */
function memoizedMetric(base: SimilarityMetric): SimilarityMetric {
  let raw: number | undefined;
  let directional: number | undefined;
  return {
    ...base,
    raw: (...args) => (raw ??= base.raw(...args)),
    directional: (...args) => (directional ??= base.directional(...args)),
  };
}

/** NaN scores rank last. */
function rankValue(score: number): number {
  return Number.isNaN(score) ? Number.NEGATIVE_INFINITY : score;
}

/** Ranks the candidates for one child; one result per method. */
export async function detectParent(child: ModelRef, parents: ModelRef[], options: DetectOptions = {}): Promise<{ method: string; result: ChildResult }[]> {
  const results = await scoreMatrix([child], parents, options);
  return results.map((r) => ({ method: r.method, result: r.children[0] }));
}
