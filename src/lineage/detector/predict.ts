/**
 * Using a trained detector: rank candidate parents of each child by the detector's softmax
 * probability, in the MethodResult shape of the learning-free methods (method 'detector').
 */
import type { Tensor } from '../../tensor.js';
import type { ChildResult, MethodResult } from '../learning-free.js';
import type { ArchOptions } from '../model.js';
import type { SourceRef } from '../source-ref.js';
import type { DetectorExample } from './examples.js';
import { argmax, detectorProbabilities } from './infer.js';
import { type LoadedDetector, loadDetector } from './io.js';
import { type InputOptions, type ModelSummary, candidateCompatibility, detectorInputOptions, probeRows, summarizeModel } from './summary.js';

export interface DetectorScoreOptions extends ArchOptions {
  /** Detector file, or one already loaded. */
  detector: string | LoadedDetector;
  /** Probe inputs (N x C x H x W float32, normalised); the first `probeRows` of the detector are used. Needed for feature inputs. */
  probe?: Tensor<'float32'>;
  /** Called after each candidate is read. */
  onProgress?: (done: number, total: number) => void;
}

const PROBE = 'probe';

/**
 * A loaded detector and what it asks of each model: summarise the children and the candidates with
 * `summarize` (each model read once, by the caller or here), then `rank` them.
 */
export class DetectorRanker {
  private constructor(
    readonly detector: LoadedDetector,
    private readonly inputOptions: InputOptions,
    private readonly probes: ReadonlyMap<string, Tensor<'float32'>>,
  ) {}

  static async load(options: DetectorScoreOptions): Promise<DetectorRanker> {
    const detector = typeof options.detector === 'string' ? await loadDetector(options.detector) : options.detector;
    const { config } = detector;
    const needsProbe = config.inputs.includes('features');
    if (needsProbe && !options.probe) throw new RangeError(`detector ${detector.file} uses feature inputs: give a probe batch (--probe X.npy)`);
    const probes = new Map<string, Tensor<'float32'>>();
    if (needsProbe && options.probe) {
      if (options.probe.shape.length < 2 || options.probe.shape[0] === 0)
        throw new RangeError(`probe must be N x C x H x W (or N x D) with N >= 1, got [${options.probe.shape.join(',')}]`);
      probes.set(PROBE, probeRows(options.probe, config.probeRows));
    }
    return new DetectorRanker(detector, detectorInputOptions(config, options), probes);
  }

  /** What the detector needs from one model (a path is read here; a model already read is used as is). */
  summarize(ref: SourceRef): Promise<ModelSummary> {
    return summarizeModel(ref, this.inputOptions, this.probes);
  }

  /**
   * Scores every candidate against every child. Scores are probabilities (they sum to 1 over a
   * child's compatible candidates, or to 1 minus the "no parent" probability when the detector has
   * that candidate; the child's parent is then null when "no parent" wins).
   */
  async rank(children: readonly ModelSummary[], candidates: readonly ModelSummary[]): Promise<MethodResult> {
    const { examples, exampleOf, incompatible } = compatibleExamples(children, candidates);
    const probabilities = await detectorProbabilities(this.detector, examples);
    const results: ChildResult[] = children.map((child, i) => {
      const index = exampleOf.get(i);
      if (index === undefined) return { child: child.id, parent: null, scores: [], incompatible: incompatible[i] };
      const example = examples[index];
      const probs = probabilities[index];
      const scores = example.candidates.map((c, k) => ({ parent: c.id, score: probs[k] }));
      const best = argmax(probs);
      scores.sort((a, b) => b.score - a.score);
      return { child: child.id, parent: best < example.candidates.length ? example.candidates[best].id : null, scores, incompatible: incompatible[i] };
    });
    return { method: 'detector', alpha: 0, layer: this.detector.config.layers.join(','), children: results };
  }
}

/** One example per child with at least one compatible candidate, and why the others are not. */
function compatibleExamples(children: readonly ModelSummary[], candidates: readonly ModelSummary[]) {
  const incompatible = children.map(() => [] as { parent: string; reason: string }[]);
  const examples: DetectorExample[] = [];
  const exampleOf = new Map<number, number>();
  children.forEach((child, i) => {
    const usable: ModelSummary[] = [];
    for (const c of candidates) {
      const compat = candidateCompatibility(child, c);
      if (compat.ok) usable.push(c);
      else incompatible[i].push({ parent: c.id, reason: compat.reason });
    }
    if (usable.length > 0) {
      exampleOf.set(i, examples.length);
      examples.push({ key: child.id, child, candidates: usable, probe: PROBE, label: -1 });
    }
  });
  return { examples, exampleOf, incompatible };
}

/** Scores every candidate against every child with the detector (see DetectorRanker.rank); each model is read once. */
export async function detectorScores(children: SourceRef[], candidates: SourceRef[], options: DetectorScoreOptions): Promise<MethodResult> {
  const ranker = await DetectorRanker.load(options);
  const childSummaries: ModelSummary[] = [];
  for (const ref of children) childSummaries.push(await ranker.summarize(ref));
  const candidateSummaries: ModelSummary[] = [];
  for (const ref of candidates) {
    candidateSummaries.push(await ranker.summarize(ref));
    options.onProgress?.(candidateSummaries.length, candidates.length);
  }
  return ranker.rank(childSummaries, candidateSummaries);
}
