/**
 * Names of the task heads that dense children (segmentation, detection) carry beside a built-in
 * backbone; see src/train/heads.ts for their layout. Kept here, free of training code, so that
 * lineage code can set them aside without loading the trainer.
 */
import type { Weights } from '../tensor.js';

export const SEG_HEAD = 'seg_head';
export const DET_HEAD = 'det_head';
const DENSE_PREFIXES = [`${SEG_HEAD}.`, `${DET_HEAD}.`];

export function isDenseHeadKey(name: string): boolean {
  return DENSE_PREFIXES.some((p) => name.startsWith(p));
}

/** The state dict without dense-head tensors (what buildGraph understands) and those tensors. */
export function splitDenseHeads(weights: Weights): { core: Weights; dense: Weights } {
  const core: Weights = new Map();
  const dense: Weights = new Map();
  for (const [k, t] of weights) (isDenseHeadKey(k) ? dense : core).set(k, t);
  return { core, dense };
}
