/**
 * Accuracy of a detector on zoo folders, overall and per split of its own training (children of
 * a zoo it was trained on fall in train / val / test; others are "unseen").
 */
import type { ArchOptions } from '../model.js';
import { accuracy, argmax, detectorProbabilities } from './infer.js';
import { type LoadedDetector, loadDetector } from './io.js';
import { detectorInputOptions } from './summary.js';
import { readZoo } from './zoo.js';
import { distinctZooNames, zooExamples } from './zoo-examples.js';

export interface SplitAccuracy {
  examples: number;
  accuracy: number | null;
}

export interface DetectorEvaluation {
  detector: string;
  zoos: string[];
  all: SplitAccuracy;
  train: SplitAccuracy;
  val: SplitAccuracy;
  test: SplitAccuracy;
  unseen: SplitAccuracy;
  /** One row per example: key, true answer, predicted answer (candidate ids; null = no parent). */
  predictions: { key: string; truth: string | null; predicted: string | null; probability: number }[];
  skipped: { key: string; reason: string }[];
}

export interface EvaluateOptions extends ArchOptions {
  onPrepare?: (done: number, total: number) => void;
}

export async function evaluateDetector(detectorRef: string | LoadedDetector, zooDirs: string[], options: EvaluateOptions = {}): Promise<DetectorEvaluation> {
  const detector = typeof detectorRef === 'string' ? await loadDetector(detectorRef) : detectorRef;
  const { config } = detector;
  const zoos = distinctZooNames(await Promise.all(zooDirs.map(readZoo)));
  const { examples, skipped } = await zooExamples(zoos, { ...detectorInputOptions(config, options), noParent: config.noParent, onProgress: options.onPrepare });
  const probabilities = await detectorProbabilities(detector, examples);
  const splits = config.training?.splits;
  const member = (name: 'train' | 'val' | 'test') => new Set(splits?.[name] ?? []);
  const sets = { train: member('train'), val: member('val'), test: member('test') };
  const pick = (keep: (key: string) => boolean): SplitAccuracy => {
    const idx = examples.map((e, i) => (keep(e.key) ? i : -1)).filter((i) => i >= 0);
    return {
      examples: idx.length,
      accuracy: accuracy(
        idx.map((i) => examples[i]),
        idx.map((i) => probabilities[i]),
      ),
    };
  };
  const name = (candidates: { id: string }[], index: number) => (index < candidates.length ? candidates[index].id : null);
  return {
    detector: detector.file,
    zoos: zooDirs,
    all: pick(() => true),
    train: pick((k) => sets.train.has(k)),
    val: pick((k) => sets.val.has(k)),
    test: pick((k) => sets.test.has(k)),
    unseen: pick((k) => !sets.train.has(k) && !sets.val.has(k) && !sets.test.has(k)),
    predictions: examples.map((e, i) => {
      const best = argmax(probabilities[i]);
      return { key: e.key, truth: name(e.candidates, e.label), predicted: name(e.candidates, best), probability: probabilities[i][best] };
    }),
    skipped,
  };
}
