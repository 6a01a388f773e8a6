import { describe, it, expect } from 'vitest';
import type { Slot } from '../../src/lineage/detector/config.js';
import { type DetectorExample, splitByActivationBudget } from '../../src/lineage/detector/examples.js';
import type { Matrix } from '../../src/lineage/detector/inputs.js';
import type { ModelSummary } from '../../src/lineage/detector/summary.js';

function matrix(rows: number, cols: number): Matrix {
  return { rows, cols, data: new Float32Array(rows * cols) };
}

function summary(id: string): ModelSummary {
  return { id, file: `${id}.safetensors`, shapes: new Map(), checked: [], weights: [matrix(8, 4)], features: new Map([['probe', [matrix(2, 16)]]]) };
}

function example(i: number, candidates: number): DetectorExample {
  return { key: `zoo/c${i}`, child: summary(`c${i}`), candidates: Array.from({ length: candidates }, (_, k) => summary(`p${k}`)), probe: 'probe', label: 0 };
}

const SLOTS: Slot[] = [
  { modality: 'weights', layer: 0, key: 'weights.0' },
  { modality: 'features', layer: 0, key: 'features.0' },
];

describe('splitByActivationBudget', () => {
  // Per pair: (8 x 4 + 2 x 16) values x 4 channels = 256; an example of 3 candidates = 768.
  const examples = Array.from({ length: 7 }, (_, i) => example(i, 3));
  const batch = [6, 0, 5, 1, 4, 2, 3];

  it('keeps a batch that fits whole', () => {
    expect(splitByActivationBudget(examples, batch, SLOTS, 4, 7 * 768)).toEqual([batch]);
  });

  it('cuts a batch into consecutive chunks of floor(budget / example) examples', () => {
    expect(splitByActivationBudget(examples, batch, SLOTS, 4, 2 * 768 + 767)).toEqual([[6, 0], [5, 1], [4, 2], [3]]);
  });

  it('gives every example its own chunk when one alone exceeds the budget', () => {
    expect(splitByActivationBudget(examples, batch.slice(0, 3), SLOTS, 4, 100)).toEqual([[6], [0], [5]]);
    expect(splitByActivationBudget(examples, [], SLOTS, 4, 100)).toEqual([]);
  });
});
