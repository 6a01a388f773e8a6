/** Loads fixtures/train/reference.json (made by scripts/make_train_fixtures.py with PyTorch). */
import { readFileSync } from 'node:fs';
import { makeTensor, type Weights } from '../../src/tensor.js';
import type { Dataset } from '../../src/data/types.js';

export interface StateJson {
  [name: string]: { shape: number[]; data: number[] };
}

export interface TrainCaseJson {
  before: StateJson;
  after: StateJson;
  batches: { x: number[]; shape: number[]; y: number[] }[];
  losses: number[];
  eval_logits: number[];
  config: { optimizer: 'sgd' | 'adam'; lr: number; momentum?: number; weightDecay?: number };
}

export interface ReferenceJson {
  optimizers: {
    shape: number[];
    initial: number[];
    grads: number[][];
    cases: Record<string, { config: Record<string, unknown>; after: number[][] }>;
  };
  losses: {
    ce: { logits: number[]; shape: number[]; labels: number[]; loss: number; grad: number[] };
    pixel: { logits: number[]; shape: number[]; masks: number[]; loss: number; grad: number[] };
    detection: {
      outputs: number[];
      shape: number[];
      slots: number;
      boxes: number[];
      classes: number[];
      box: number;
      cls: number;
      total: number;
      grad: number[];
    };
  };
  mlp_train: TrainCaseJson;
  convnet_train: TrainCaseJson;
}

export const reference = JSON.parse(readFileSync(new URL('../../fixtures/train/reference.json', import.meta.url), 'utf8')) as ReferenceJson;

export function weightsFromJson(state: StateJson): Weights {
  const out: Weights = new Map();
  for (const [name, { shape, data }] of Object.entries(state)) {
    if (name.endsWith('num_batches_tracked')) out.set(name, makeTensor('int64', shape, BigInt64Array.from(data.map((v) => BigInt(v)))));
    else out.set(name, makeTensor('float32', shape, Float32Array.from(data)));
  }
  return out;
}

/** A fixture batch as a classification dataset; `shape` is the example shape (C,H,W). */
export function batchDataset(batch: { x: number[]; shape: number[]; y: number[] }, classes: number): Dataset {
  const [, ...rest] = batch.shape;
  const shape = (rest.length === 1 ? [rest[0], 1, 1] : rest) as [number, number, number];
  return { name: 'fixture', inputs: Float32Array.from(batch.x), shape, labels: Int32Array.from(batch.y), numClasses: classes };
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
