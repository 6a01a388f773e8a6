/** Benchmarking lineage methods on built zoos. */
export {
  type AccuracyCell,
  type AlphaChoice,
  type AlphaReport,
  type BenchOptions,
  type BenchProgress,
  type BenchResult,
  type ChildRecord,
  type CrossGenerationCell,
  type SettingRow,
  type TimingRow,
  ALPHA_GRID,
  DETECTOR_METHOD,
  benchmarkZoo,
  chooseAlpha,
} from './bench.js';
export { type Interval, type BootstrapOptions, bootstrapInterval, DEFAULT_RESAMPLES } from './stats.js';
export { type ChildSplit, splitChildren, DEFAULT_VALIDATION_FRACTION } from './split.js';
export { settingGroup, settingOf, ancestorAt } from './zoo.js';
export { benchTables, formatCell, generationLabel } from './format.js';
