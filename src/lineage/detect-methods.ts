/**
 * Any mix of `lineage detect` methods, learning-free (scoreMatrix) and the learned detector,
 * reading each model once. The children are read once and kept, as scoreMatrix keeps them anyway;
 * candidates stream through scoreMatrix one at a time and the detector takes its summary of each
 * (shapes and pooled matrices, small) from that same read, so memory still holds one candidate.
 */
import type { LoadedDetector } from './detector/io.js';
import { DetectorRanker, detectorScores } from './detector/predict.js';
import type { ModelSummary } from './detector/summary.js';
import { type DetectOptions, type MethodResult, scoreMatrix } from './learning-free.js';
import type { Method } from './methods.js';
import type { LineageModel } from './model.js';
import { loadRef, type SourceRef } from './source-ref.js';

export interface DetectMethodsOptions extends Omit<DetectOptions, 'methods' | 'onCandidate'> {
  /** Learning-free methods (`auto` included); may be empty when only the detector is asked for. */
  methods: (string | Method)[];
  /** The learned detector (a file or one loaded), when it is asked for. */
  detector?: string | LoadedDetector;
}

export interface DetectMethodsResult {
  /** One result per learning-free method (and extra alpha), in scoreMatrix's order. */
  learningFree: MethodResult[];
  detector?: MethodResult;
}

export async function detectWithMethods(children: SourceRef[], candidates: SourceRef[], options: DetectMethodsOptions): Promise<DetectMethodsResult> {
  const { detector, ...rest } = options;
  const detectorOptions = { probe: options.probe, arch: options.arch, heads: options.heads };
  if (options.methods.length === 0) {
    return {
      learningFree: [],
      detector: detector ? await detectorScores(children, candidates, { ...detectorOptions, detector, onProgress: options.onProgress }) : undefined,
    };
  }
  if (!detector) return { learningFree: await scoreMatrix(children, candidates, rest) };
  const ranker = await DetectorRanker.load({ ...detectorOptions, detector });
  const resolved: LineageModel[] = [];
  for (const ref of children) resolved.push(await loadRef(ref));
  const candidateSummaries: ModelSummary[] = [];
  const onCandidate = async (candidate: LineageModel) => {
    candidateSummaries.push(await ranker.summarize(candidate));
  };
  const learningFree = await scoreMatrix(resolved, candidates, { ...rest, onCandidate });
  const childSummaries: ModelSummary[] = [];
  for (const child of resolved) childSummaries.push(await ranker.summarize(child));
  return { learningFree, detector: await ranker.rank(childSummaries, candidateSummaries) };
}
