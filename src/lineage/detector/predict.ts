/**
 * Using a trained detector: rank candidate parents of each child by the detector's softmax
 * probability, in the MethodResult shape of the learning-free methods (method 'detector').
 */
import type { Tensor } from '../../tensor.js';
import type { ChildResult, MethodResult } from '../learning-free.js';
import type { ArchOptions, ModelRef } from '../model.js';
import type { DetectorExample } from './examples.js';
import { argmax, detectorProbabilities } from './infer.js';
import { type LoadedDetector, loadDetector } from './io.js';
import { type ModelSummary, candidateCompatibility, detectorInputOptions, probeRows, summarizeModel } from './summary.js';

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
 * Scores every candidate against every child. Scores are probabilities (they sum to 1 over a
 * child's compatible candidates, or to 1 minus the "no parent" probability when the detector has
 * that candidate; the child's parent is then null when "no parent" wins).
 */
export async function detectorScores(children: ModelRef[], candidates: ModelRef[], options: DetectorScoreOptions): Promise<MethodResult> {
  const detector = typeof options.detector === 'string' ? await loadDetector(options.detector) : options.detector;
  const { config } = detector;
  const needsProbe = config.inputs.includes('features');
  if (needsProbe && !options.probe) throw new RangeError(`detector ${detector.file} uses feature inputs: give a probe batch (--probe X.npy)`);
  const probes = new Map<string, Tensor<'float32'>>();
  if (needsProbe && options.probe) {
    if (options.probe.shape.length < 2 || options.probe.shape[0] === 0) throw new RangeError(`probe must be N x C x H x W (or N x D) with N >= 1, got [${options.probe.shape.join(',')}]`);
    probes.set(PROBE, probeRows(options.probe, config.probeRows));
  }
  const inputOptions = detectorInputOptions(config, options);

  const childSummaries: ModelSummary[] = [];
  for (const ref of children) childSummaries.push(await summarizeModel(ref, inputOptions, probes));
  const candidateSummaries: ModelSummary[] = [];
  for (const ref of candidates) {
    candidateSummaries.push(await summarizeModel(ref, inputOptions, probes));
    options.onProgress?.(candidateSummaries.length, candidates.length);
  }

  const incompatible = childSummaries.map(() => [] as { parent: string; reason: string }[]);
  const examples: DetectorExample[] = [];
  const exampleOf = new Map<number, number>();
  childSummaries.forEach((child, i) => {
    const usable: ModelSummary[] = [];
    for (const c of candidateSummaries) {
      const compat = candidateCompatibility(child, c);
      if (compat.ok) usable.push(c);
      else incompatible[i].push({ parent: c.id, reason: compat.reason });
    }
    if (usable.length > 0) {
      exampleOf.set(i, examples.length);
      examples.push({ key: child.id, child, candidates: usable, probe: PROBE, label: -1 });
    }
  });

  const probabilities = await detectorProbabilities(detector, examples);

  const results: ChildResult[] = childSummaries.map((child, i) => {
    const index = exampleOf.get(i);
    if (index === undefined) return { child: child.id, parent: null, scores: [], incompatible: incompatible[i] };
    const example = examples[index];
    const probs = probabilities[index];
    const scores = example.candidates.map((c, k) => ({ parent: c.id, score: probs[k] }));
    const best = argmax(probs);
    scores.sort((a, b) => b.score - a.score);
    return { child: child.id, parent: best < example.candidates.length ? example.candidates[best].id : null, scores, incompatible: incompatible[i] };
  });
  return { method: 'detector', alpha: 0, layer: config.layers.join(','), children: results };
}
