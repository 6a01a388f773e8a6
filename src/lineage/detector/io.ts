/**
 * Detector files: safetensors with every tensor of `parameterSpecs` (float32, layouts of model.ts)
 * and string metadata {"format": "lineage-detector", "config": JSON of DetectorConfig}. Loading
 * checks the configuration, every tensor's presence, dtype and shape and that values are finite, so
 * a wrong or damaged file is refused with an InputError naming it, never run.
 */
import { isFiniteNumber, isIntegerAtLeast, isJsonObject, isStringList } from '../../base/validate.js';
import { readSafetensorsFile, writeSafetensors } from '../../formats/safetensors.js';
import type { Weights } from '../../tensor.js';
import { type DetectorConfig, type InputNormalization, type Modality, type TrainingRecord, MODALITIES, checkArchitecture } from './config.js';
import { parameterSpecs } from './model.js';
import { InputError } from '../../base/errors.js';

export const DETECTOR_FORMAT = 'lineage-detector';

export interface LoadedDetector {
  file: string;
  config: DetectorConfig;
  weights: Weights;
}

export async function saveDetector(path: string, config: DetectorConfig, weights: Weights): Promise<void> {
  const ordered: Weights = new Map();
  for (const spec of parameterSpecs(config)) {
    const t = weights.get(spec.name);
    if (!t) throw new Error(`detector weights lack ${spec.name}`);
    ordered.set(spec.name, t);
  }
  await writeSafetensors(path, ordered, { format: DETECTOR_FORMAT, config: JSON.stringify(config) });
}

export async function loadDetector(path: string): Promise<LoadedDetector> {
  const file = await readSafetensorsFile(path);
  const config = checkConfig(file.metadata, path);
  checkTensors(file.weights, config, path);
  return { file: path, config, weights: file.weights };
}

/** Validates the metadata of a detector file and returns its configuration. */
export function checkConfig(metadata: Record<string, string>, file: string): DetectorConfig {
  if (metadata.format !== DETECTOR_FORMAT) {
    throw new InputError(
      file,
      `not a lineage detector (metadata format is ${metadata.format === undefined ? 'missing' : `'${metadata.format}'`}, expected '${DETECTOR_FORMAT}'; train one with \`lineage detector train\`)`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(metadata.config ?? '');
  } catch (err) {
    throw new InputError(file, `detector configuration is not valid JSON (${(err as Error).message})`);
  }
  const fail = (problem: string): never => {
    throw new InputError(file, `detector configuration: ${problem}`);
  };
  if (!isJsonObject(raw)) return fail('must be a JSON object');
  if (raw.version !== 1) fail(`version ${JSON.stringify(raw.version)} is not supported (this build reads version 1)`);
  const strings = (v: unknown, what: string): string[] => {
    if (!isStringList(v)) return fail(`${what} must be a list of strings`);
    return v;
  };
  const inputs = strings(raw.inputs, 'inputs');
  for (const m of inputs) if (!(MODALITIES as readonly string[]).includes(m)) fail(`unknown input '${m}'`);
  const layers = strings(raw.layers, 'layers');
  const int = (v: unknown, what: string, min: number): number => {
    if (!isIntegerAtLeast(v, min)) return fail(`${what} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
    return v;
  };
  const arch = {
    inputs: inputs as Modality[],
    layers,
    embed: int(raw.embed, 'embed', 1),
    depth: int(raw.depth, 'depth', 0),
    heads: int(raw.heads, 'heads', 1),
    ffn: int(raw.ffn, 'ffn', 0),
    noParent: raw.noParent === true,
  };
  if (typeof raw.noParent !== 'boolean') fail('noParent must be true or false');
  if (arch.embed > 4096 || arch.depth > 64 || arch.ffn > 65536) fail('embed, depth or ffn is implausibly large');
  try {
    checkArchitecture(arch);
  } catch (err) {
    fail((err as Error).message);
  }
  const maxSize = int(raw.maxSize, 'maxSize', 1);
  const probeRows = int(raw.probeRows, 'probeRows', 1);
  if (!isJsonObject(raw.normalization)) fail('normalization must be an object');
  const normalization: Partial<Record<Modality, InputNormalization[]>> = {};
  for (const m of arch.inputs) {
    const list = (raw.normalization as Record<string, unknown>)[m];
    if (!Array.isArray(list) || list.length !== layers.length) fail(`normalization.${m} must list ${layers.length} {mean, std}`);
    normalization[m] = (list as unknown[]).map((n, i) => {
      const ok = isJsonObject(n) && isFiniteNumber(n.mean) && isFiniteNumber(n.std) && n.std > 0;
      if (!ok) fail(`normalization.${m}[${i}] must be {mean, std} with finite numbers and std > 0`);
      return { mean: (n as InputNormalization).mean, std: (n as InputNormalization).std };
    });
  }
  const c = raw.candidates;
  if (!isJsonObject(c)) return fail('candidates must be an object {min, max, variable}');
  const candidates = { min: int(c.min, 'candidates.min', 1), max: int(c.max, 'candidates.max', 1), variable: true as const };
  const config: DetectorConfig = { format: DETECTOR_FORMAT, version: 1, ...arch, maxSize, probeRows, normalization, candidates };
  const training = checkTraining(raw.training);
  if (training) config.training = training;
  return config;
}

/** The training record is informational; only its splits are used (by eval), so a damaged one is dropped. */
function checkTraining(v: unknown): TrainingRecord | undefined {
  if (!isJsonObject(v) || !isJsonObject(v.splits)) return undefined;
  const s = v.splits;
  if (!isStringList(s.train) || !isStringList(s.val) || !isStringList(s.test)) return undefined;
  return v as unknown as TrainingRecord;
}

function checkTensors(weights: Weights, config: DetectorConfig, file: string): void {
  const specs = parameterSpecs(config);
  const expected = new Set(specs.map((s) => s.name));
  for (const name of weights.keys()) {
    if (!expected.has(name)) throw new InputError(file, `unexpected tensor ${name} for a detector with this configuration`);
  }
  for (const spec of specs) {
    const t = weights.get(spec.name);
    if (!t) throw new InputError(file, `detector tensor ${spec.name} is missing`);
    if (t.dtype !== 'float32') throw new InputError(file, `detector tensor ${spec.name} is ${t.dtype}, expected float32`);
    if (t.shape.length !== spec.shape.length || t.shape.some((d, i) => d !== spec.shape[i])) {
      throw new InputError(file, `detector tensor ${spec.name} has shape [${t.shape.join(',')}], expected [${spec.shape.join(',')}]`);
    }
    const data = t.data as Float32Array;
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i])) throw new InputError(file, `detector tensor ${spec.name} holds NaN or infinite values`);
    }
  }
}
