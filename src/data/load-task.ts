/** From a task id string to normalised train/test splits, ready for training or probing. */
import { applySteps } from './apply-task.js';
import { isKnownBaseDataset, KNOWN_BASE_DATASETS, type KnownBaseDataset } from './base-datasets.js';
import { loadFashionMini } from './fashion-mini.js';
import { loadFashionMnist } from './fashion-mnist.js';
import { loadMnist } from './mnist.js';
import { computeNormalization, normalize } from './normalize.js';
import { parseTaskSpec, TaskSpecError } from './task-spec.js';
import { type AnyDataset, type Dataset, type DatasetSplits, type Normalization, type TaskKind, taskKind } from './types.js';

export type DatasetSource = DatasetSplits<Dataset> | (() => Promise<DatasetSplits<Dataset>>);

export interface LoadTaskOptions {
  /** Folder of the full Fashion-MNIST, base `fashion` (default /usr/share/datasets/fashion-mnist); `fashion-mini` always uses the shipped subset. */
  dataDir?: string;
  /** Further base datasets by name, e.g. { mine: () => loadUserFolder('mine', dir) }. */
  datasets?: Record<string, DatasetSource>;
  /** Normalise both splits with training statistics (default true). */
  normalize?: boolean;
}

export interface LoadedTask {
  /** Canonical task id. */
  id: string;
  kind: TaskKind;
  train: AnyDataset;
  test: AnyDataset;
  /** Statistics of the raw training split; applied to both splits unless normalize: false. */
  normalization: Normalization;
}

/** One loader per known base dataset: a name added to KNOWN_BASE_DATASETS without one does not compile. */
const BASE_LOADERS: Record<KnownBaseDataset, (options: Pick<LoadTaskOptions, 'dataDir'>) => Promise<DatasetSplits<Dataset>>> = {
  mnist: () => loadMnist(),
  fashion: (options) => loadFashionMnist({ dataDir: options.dataDir }),
  'fashion-mini': () => loadFashionMini(),
};

/** A known base dataset's train/test splits, unnormalised. */
export function loadBaseDataset(name: KnownBaseDataset, options: Pick<LoadTaskOptions, 'dataDir'> = {}): Promise<DatasetSplits<Dataset>> {
  return BASE_LOADERS[name](options);
}

async function loadBase(name: string, options: LoadTaskOptions, spec: string): Promise<DatasetSplits<Dataset>> {
  const custom = options.datasets?.[name];
  if (custom) return typeof custom === 'function' ? custom() : custom;
  if (isKnownBaseDataset(name)) return BASE_LOADERS[name](options);
  const known = [...new Set([...KNOWN_BASE_DATASETS, ...Object.keys(options.datasets ?? {})])];
  throw new TaskSpecError(spec, `unknown base dataset '${name}' (known: ${known.join(', ')})`);
}

export async function loadTask(spec: string, options: LoadTaskOptions = {}): Promise<LoadedTask> {
  const parsed = parseTaskSpec(spec);
  const base = await loadBase(parsed.base, options, spec);
  const named = { train: { ...base.train, name: parsed.base }, test: { ...base.test, name: parsed.base } };
  const { train, test } = applySteps(named, parsed.steps);
  const normalization = computeNormalization(train);
  const done = options.normalize === false ? { train, test } : { train: normalize(train, normalization), test: normalize(test, normalization) };
  return { id: parsed.id, kind: taskKind(train), ...done, normalization };
}
