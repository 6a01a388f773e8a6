/** From a task id string to normalised train/test splits, ready for training or probing. */
import { applySteps } from './apply-task.js';
import { loadFashionMnist } from './fashion-mnist.js';
import { loadMnist } from './mnist.js';
import { computeNormalization, normalize } from './normalize.js';
import { parseTaskSpec, TaskSpecError } from './task-spec.js';
import { type AnyDataset, type Dataset, type DatasetSplits, type Normalization, type TaskKind, taskKind } from './types.js';

export type DatasetSource = DatasetSplits<Dataset> | (() => Promise<DatasetSplits<Dataset>>);

export interface LoadTaskOptions {
  /** Fashion-MNIST folder (default /usr/share/datasets/fashion-mnist). */
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

async function loadBase(name: string, options: LoadTaskOptions, spec: string): Promise<DatasetSplits<Dataset>> {
  const custom = options.datasets?.[name];
  if (custom) return typeof custom === 'function' ? custom() : custom;
  if (name === 'mnist') return loadMnist();
  if (name === 'fashion') return loadFashionMnist({ dataDir: options.dataDir });
  const known = ['mnist', 'fashion', ...Object.keys(options.datasets ?? {})];
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
