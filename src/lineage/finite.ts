/**
 * NaN or infinite values make every score they touch NaN, and a NaN score silently loses every
 * ranking ("parent (none)", exit 0). So a model holding them is bad input: a model under test
 * (a child, the model of `features` or `layers`) is refused with an InputError naming the file and
 * the tensor; where many models are compared with each other (tree, ancestors' candidates), such a
 * model is set aside and reported, and the rest is still compared. Candidates of `detect` are
 * checked per child in learning-free.ts (only the tensors compared with that child).
 */
import { hasNonFinite } from './compat.js';
import type { LineageModel } from './model.js';
import { InputError } from '../base/errors.js';

/** A model left out of a comparison, and why. */
export interface ExcludedModel {
  /** The model's id (the file path unless a zoo manifest names it). */
  model: string;
  file: string;
  reason: string;
}

/** Why `model` cannot be compared ("tensor X holds NaN or infinite values"), or undefined when every value is finite. */
export function nonFiniteReason(model: LineageModel): string | undefined {
  const bad = hasNonFinite(model.weights, [...model.weights.keys()]);
  return bad === undefined ? undefined : `tensor ${bad} holds NaN or infinite values`;
}

/** Throws an InputError naming the file and the first tensor holding NaN or infinite values. */
export function assertFiniteModel(model: LineageModel): void {
  const reason = nonFiniteReason(model);
  if (reason) throw new InputError(model.file, reason);
}

/** Splits `models` into those whose values are all finite (order kept) and those left out. */
export function partitionFinite(models: readonly LineageModel[]): { finite: LineageModel[]; excluded: ExcludedModel[] } {
  const finite: LineageModel[] = [];
  const excluded: ExcludedModel[] = [];
  for (const model of models) {
    const reason = nonFiniteReason(model);
    if (reason) excluded.push({ model: model.id, file: model.file, reason });
    else finite.push(model);
  }
  return { finite, excluded };
}
