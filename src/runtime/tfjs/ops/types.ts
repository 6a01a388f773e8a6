/**
 * What an op implementation sees: its node, its inputs (in either memory layout) and a cache for
 * constants it derives from shapes. Ops return their outputs in node order.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { GraphNode } from '../../../graph/ir.js';

/**
 * An output kept channels-last ([N,H,W,C]) for a value that is logically NCHW. Conv and pool ops
 * work channels-last in tfjs; handing their results on in that layout lets a conv -> bn -> relu ->
 * pool chain run without a transpose between every two ops.
 */
export class ChannelsLast {
  constructor(readonly tensor: tf.Tensor4D) {}
}

export type OpOutput = tf.Tensor | ChannelsLast;

export interface OpContext {
  readonly node: GraphNode;
  /** ONNX opset of the default domain (some ops moved attributes to inputs). */
  readonly opset: number;
  /** True when input `index` is given (not omitted with '' and not past the end). */
  has(index: number): boolean;
  /** Input `index` in ONNX (NCHW) layout; throws naming the node when it is missing. */
  input(index: number): tf.Tensor;
  optional(index: number): tf.Tensor | undefined;
  /** The logical (ONNX) shape of input `index`, without converting its layout. */
  shape(index: number): number[];
  /** Values of a small input (shape, axes, starts, scales) read synchronously. */
  numbers(index: number): number[];
  /** A rank-4 input in NHWC layout. */
  channelsLast(index: number): tf.Tensor4D;
  /** True when input `index` is held channels-last only, so layout-agnostic ops should stay so. */
  isChannelsLast(index: number): boolean;
  /** A tensor derived from shapes and attributes only, made once per graph and kept. */
  constant(key: string, make: () => tf.Tensor): tf.Tensor;
  /** Throws an error naming the node and its op. */
  fail(problem: string): never;
}

export type OpKernel = (ctx: OpContext) => OpOutput | OpOutput[];

/** Maps NCHW axis i to its position in NHWC. */
export const NCHW_AXIS_IN_NHWC = [0, 3, 1, 2] as const;
/** transpose(nhwc, TO_NCHW) is the NCHW tensor and vice versa. */
export const TO_NCHW = [0, 3, 1, 2];
export const TO_NHWC = [0, 2, 3, 1];

/** Normalizes a possibly negative axis against `rank`; throws via ctx when out of range. */
export function normalizeAxis(ctx: OpContext, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) ctx.fail(`axis ${axis} is out of range for rank ${rank}`);
  return a;
}

export function product(values: readonly number[]): number {
  return values.reduce((a, b) => a * b, 1);
}
