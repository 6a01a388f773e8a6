/** The learned lineage detector: train on zoos, save, load, score candidates, evaluate. */
export type { DetectorArchitecture, DetectorConfig, EpochRecord, InputNormalization, Modality, TrainingRecord } from './config.js';
export { DEFAULT_ARCHITECTURE, DEFAULT_MAX_SIZE, DEFAULT_PROBE_ROWS, MODALITIES, parseModalities } from './config.js';
export { ACTIVATION_BUDGET } from './examples.js';
export { type TrainDetectorOptions, type TrainDetectorResult, trainDetector, splitKeys, defaultEpochs } from './train.js';
export { type LoadedDetector, DETECTOR_FORMAT, loadDetector, saveDetector } from './io.js';
export { type DetectorScoreOptions, detectorScores } from './predict.js';
export { type DetectorEvaluation, type SplitAccuracy, evaluateDetector } from './evaluate.js';
export { type Matrix, poolMatrix, parseLayerSpec, resolveWeightKey } from './inputs.js';
