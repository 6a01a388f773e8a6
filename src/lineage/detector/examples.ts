/**
 * Examples (a child, its candidates, the answer) and the batches the model runs on. Pair images
 * are assembled per batch from each model's pooled matrices, so memory stays proportional to the
 * number of models, not of (child, candidate) pairs.
 */
import type { DetectorConfig, InputNormalization, Modality, Slot } from './config.js';
import { inputSlots } from './config.js';
import { type Matrix, MomentAccumulator, pairImage } from './inputs.js';
import type { DetectorBatch } from './model.js';
import type { ModelSummary } from './summary.js';

export interface DetectorExample {
  /** Split key: `<zoo name>/<child id>` in training, the child id at prediction. */
  key: string;
  child: ModelSummary;
  candidates: ModelSummary[];
  /** Name of the probe the features were computed on. */
  probe: string;
  /** Index of the true parent; candidates.length for "no parent"; -1 when unknown. */
  label: number;
}

function slotMatrix(model: ModelSummary, slot: Slot, probe: string): Matrix {
  if (slot.modality === 'weights') return model.weights[slot.layer];
  const features = model.features.get(probe);
  if (!features) throw new Error(`model ${model.id} has no features on probe ${probe}`);
  return features[slot.layer];
}

/** Examples can share a batch when they have the same candidate count and image sizes. */
export function exampleSignature(example: DetectorExample, slots: readonly Slot[]): string {
  const m = (s: Slot) => slotMatrix(example.child, s, example.probe);
  return `${example.candidates.length}|${slots.map((s) => `${m(s).rows}x${m(s).cols}`).join('|')}`;
}

/**
 * Splits `order` (example indices) into batches of at most `size` examples of one signature each,
 * in order of each batch's first example; incomplete batches are kept (tiny zoos).
 */
export function groupBatches(examples: readonly DetectorExample[], order: ArrayLike<number>, size: number, slots: readonly Slot[]): number[][] {
  const open = new Map<string, number[]>();
  const batches: number[][] = [];
  for (let i = 0; i < order.length; i++) {
    const index = order[i];
    const sig = exampleSignature(examples[index], slots);
    let batch = open.get(sig);
    if (!batch) {
      batch = [];
      open.set(sig, batch);
      batches.push(batch);
    }
    batch.push(index);
    if (batch.length === size) open.delete(sig);
  }
  return batches;
}

/**
 * Encoder activation values one pass may hold per layer: 2^25 float32 = 128 MiB. A pass holds
 * several such layers plus their gradients, and the wasm backend's heap stops at 4 GiB: 16
 * children x 27 candidates x two 64 x 64 inputs x 32 channels (a fourth-generation child of a
 * 3-children-per-parent zoo) overflowed it ("memory access out of bounds").
 */
export const ACTIVATION_BUDGET = 2 ** 25;

/** Values of one (candidate, child) pair in the first E-channel encoder layer. */
function pairActivationValues(example: DetectorExample, slots: readonly Slot[], embed: number): number {
  let values = 0;
  for (const slot of slots) {
    const m = slotMatrix(example.child, slot, example.probe);
    values += m.rows * m.cols * embed;
  }
  return values;
}

/**
 * Splits one batch (indices of examples of one signature) into consecutive chunks whose pairs fit
 * the activation budget; a chunk holds at least one example whatever its size.
 */
export function splitByActivationBudget(
  examples: readonly DetectorExample[],
  batch: readonly number[],
  slots: readonly Slot[],
  embed: number,
  budget = ACTIVATION_BUDGET,
): number[][] {
  if (batch.length === 0) return [];
  const first = examples[batch[0]];
  const perExample = first.candidates.length * pairActivationValues(first, slots, embed);
  const size = Math.max(1, Math.floor(budget / Math.max(1, perExample)));
  const chunks: number[][] = [];
  for (let i = 0; i < batch.length; i += size) chunks.push(batch.slice(i, i + size));
  return chunks;
}

/** The model input for examples of one signature. */
export function assembleBatch(examples: readonly DetectorExample[], config: Pick<DetectorConfig, 'inputs' | 'layers' | 'normalization'>): DetectorBatch {
  const slots = inputSlots(config);
  const first = examples[0];
  const K = first.candidates.length;
  const images: DetectorBatch['images'] = new Map();
  for (const slot of slots) {
    const norm = normalizationOf(config.normalization, slot);
    const ref = slotMatrix(first.child, slot, first.probe);
    const per = ref.rows * ref.cols * 2;
    const data = new Float32Array(examples.length * K * per);
    examples.forEach((e, b) => {
      if (e.candidates.length !== K) throw new Error('examples of one batch must have the same candidate count');
      const child = slotMatrix(e.child, slot, e.probe);
      e.candidates.forEach((c, k) => {
        const parent = slotMatrix(c, slot, e.probe);
        try {
          pairImage(parent, child, norm, data, (b * K + k) * per);
        } catch (err) {
          throw new Error(`${slot.modality} input of layer ${slot.layer + 1}: candidate ${c.id} and child ${e.child.id} give a ${(err as Error).message}`);
        }
      });
    });
    images.set(slot.key, { shape: [examples.length * K, ref.rows, ref.cols, 2], data });
  }
  return { batch: examples.length, candidates: K, images };
}

function normalizationOf(normalization: Partial<Record<Modality, InputNormalization[]>>, slot: Slot): InputNormalization {
  const n = normalization[slot.modality]?.[slot.layer];
  if (!n) throw new Error(`no input normalisation for ${slot.modality} layer ${slot.layer + 1}`);
  return n;
}

/** Mean and standard deviation of every slot's values over the examples (children and candidates). */
export function inputNormalization(
  examples: readonly DetectorExample[],
  config: Pick<DetectorConfig, 'inputs' | 'layers'>,
): Partial<Record<Modality, InputNormalization[]>> {
  const out: Partial<Record<Modality, InputNormalization[]>> = {};
  for (const modality of config.inputs) {
    out[modality] = config.layers.map((_, layer) => {
      const slot: Slot = { modality, layer, key: `${modality}.${layer}` };
      const acc = new MomentAccumulator();
      for (const e of examples) {
        acc.add(slotMatrix(e.child, slot, e.probe));
        for (const c of e.candidates) acc.add(slotMatrix(c, slot, e.probe));
      }
      return acc.result();
    });
  }
  return out;
}
