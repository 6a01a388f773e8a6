/**
 * What a lineage detector is: its architecture (inputs, layers, width, depth, heads), how its
 * inputs are made (pooling cap, probe rows, normalisation) and how it was trained. Saved as JSON in
 * the detector file's metadata, so a file alone is enough to rebuild and run the model.
 */

export const MODALITIES = ['weights', 'features'] as const;
export type Modality = (typeof MODALITIES)[number];

export interface DetectorArchitecture {
  /** Input modalities, in token order. */
  inputs: Modality[];
  /**
   * Layer specs `FEATURE[:WEIGHT]`, one token per layer per modality. FEATURE is a named layer
   * (`penultimate`, `fc2`, `layer3`) or graph value; WEIGHT a state-dict key or module prefix,
   * inferred from FEATURE when absent (see resolveWeightKey in inputs.ts).
   */
  layers: string[];
  /** Token width E. */
  embed: number;
  /** Transformer blocks. */
  depth: number;
  heads: number;
  /** Hidden width of each block's feed-forward layer; 0 = no FFN (the reference). */
  ffn: number;
  /** A learnable "no parent" candidate appended after the real ones. */
  noParent: boolean;
}

export interface InputNormalization {
  mean: number;
  std: number;
}

export interface EpochRecord {
  epoch: number;
  /** Mean training loss over the epoch's batches. */
  loss: number;
  /** Top-1 accuracy on each split after the epoch, with BatchNorm in eval mode; null when the split is empty. */
  train: number | null;
  val: number | null;
  test: number | null;
  seconds: number;
}

export interface TrainingRecord {
  zoos: { name: string; dir: string }[];
  seed: number;
  epochs: number;
  batch: number;
  lr: number;
  gamma: number;
  /** StepLR period in epochs. */
  lrStepEpochs: number;
  differenceInit: boolean;
  /** Example keys `<zoo name>/<child id>` of each split. */
  splits: { train: string[]; val: string[]; test: string[] };
  history: EpochRecord[];
  seconds: number;
}

export interface DetectorConfig extends DetectorArchitecture {
  format: 'lineage-detector';
  version: 1;
  /** Weight and feature matrices larger than this are average-pooled down to at most maxSize x maxSize. */
  maxSize: number;
  /** Probe rows behind each feature pair. */
  probeRows: number;
  /** Per modality, per layer: the scalar standardisation applied to both channels of a pair. */
  normalization: Partial<Record<Modality, InputNormalization[]>>;
  /** Candidate counts seen in training; any count works at prediction (the model is candidate-count agnostic). */
  candidates: { min: number; max: number; variable: true };
  training?: TrainingRecord;
}

export const DEFAULT_ARCHITECTURE: DetectorArchitecture = {
  inputs: ['weights', 'features'],
  layers: ['penultimate'],
  embed: 32,
  depth: 1,
  heads: 1,
  ffn: 0,
  noParent: false,
};

export const DEFAULT_MAX_SIZE = 64;
/**
 * Probe rows behind each feature pair of a new detector; the count is saved in the detector file
 * and passed to readProbe explicitly (whose own default, lineage/probe.ts, is 1024).
 */
export const DEFAULT_PROBE_ROWS = 64;

/** Input slots in token order: modality-major, then layer. */
export interface Slot {
  modality: Modality;
  layer: number;
  /** `weights.0`, `features.1`, ... */
  key: string;
}

export function inputSlots(arch: Pick<DetectorArchitecture, 'inputs' | 'layers'>): Slot[] {
  return arch.inputs.flatMap((modality) => arch.layers.map((_, layer) => ({ modality, layer, key: `${modality}.${layer}` })));
}

/** Parses `weights`, `features` or `weights,features` (any order, no repeats). */
export function parseModalities(text: string): Modality[] {
  const names = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (names.length === 0) throw new RangeError(`no input modality given (use weights, features or weights,features)`);
  for (const n of names) {
    if (!(MODALITIES as readonly string[]).includes(n)) throw new RangeError(`unknown input modality '${n}' (use weights, features or weights,features)`);
  }
  if (new Set(names).size !== names.length) throw new RangeError(`input modality repeated in '${text}'`);
  return names as Modality[];
}

/** Checks the architecture numbers; throws RangeError naming the first bad one. */
export function checkArchitecture(arch: DetectorArchitecture): void {
  const int = (name: string, v: number, min: number) => {
    if (!Number.isSafeInteger(v) || v < min) throw new RangeError(`${name} must be an integer >= ${min}, got ${v}`);
  };
  if (arch.inputs.length === 0) throw new RangeError('a detector needs at least one input modality');
  if (arch.layers.length === 0) throw new RangeError('a detector needs at least one layer');
  if (arch.layers.some((l) => l.trim() === '')) throw new RangeError('empty layer name');
  if (new Set(arch.layers).size !== arch.layers.length) throw new RangeError(`layer repeated in ${arch.layers.join(',')}`);
  int('embed', arch.embed, 1);
  int('depth', arch.depth, 0);
  int('heads', arch.heads, 1);
  int('ffn', arch.ffn, 0);
  if (arch.embed % arch.heads !== 0) throw new RangeError(`embed (${arch.embed}) must be a multiple of heads (${arch.heads})`);
}
