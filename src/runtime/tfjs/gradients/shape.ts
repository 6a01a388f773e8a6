/**
 * Gradients of layout kernels (ported from tfjs-core 4.22). Fixes: Tile works for any rank with
 * one reduction (tfjs summed slices in nested loops, rank <= 4); MirrorPad folds the mirrored
 * borders back (tfjs dropped them).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { GradConfig, Tensor } from '@tensorflow/tfjs-core';
import { attrNumbers, gradient, multiOutputGradient } from './grad-util.js';
import type { InputGrads } from './grad-util.js';

function tileGrad(dy: Tensor, xShape: readonly number[], reps: number[]): Tensor {
  // Tile output index = rep * size + i on every axis, so [rep, size] pairs are a plain reshape.
  const split = xShape.flatMap((size, axis) => [reps[axis], size]);
  const repAxes = xShape.map((_, axis) => 2 * axis);
  return tf.reshape(tf.sum(tf.reshape(dy, split), repAxes), [...xShape]);
}

/** One axis of a mirror pad undone: the padded borders, reversed, are added onto the edges they copied. */
function unmirrorAxis(dy: Tensor, axis: number, before: number, after: number, size: number, offset: number): Tensor {
  const take = (start: number, length: number): Tensor => {
    const begin = dy.shape.map((_, i) => (i === axis ? start : 0));
    const extent = dy.shape.map((d, i) => (i === axis ? length : d));
    return tf.slice(dy, begin, extent);
  };
  const placeAt = (t: Tensor, start: number): Tensor => {
    const paddings = dy.shape.map((_, i): [number, number] => (i === axis ? [start, size - start - t.shape[axis]] : [0, 0]));
    return tf.pad(t, paddings);
  };
  let grad = take(before, size);
  if (before > 0) grad = tf.add(grad, placeAt(tf.reverse(take(0, before), axis), offset));
  if (after > 0) grad = tf.add(grad, placeAt(tf.reverse(take(before + size, after), axis), size - offset - after));
  return grad;
}

function mirrorPadGrad(dy: Tensor, xShape: readonly number[], paddings: Array<[number, number]>, mode: string): Tensor {
  // 'reflect' mirrors around the edge element (skips it), 'symmetric' includes it.
  const offset = mode === 'reflect' ? 1 : 0;
  let grad = dy;
  paddings.forEach(([before, after], axis) => {
    if (before > 0 || after > 0) grad = unmirrorAxis(grad, axis, before, after, xShape[axis], offset);
  });
  return grad;
}

function gatherGrad(x: Tensor, indices: Tensor, dy: Tensor, axis: number): Tensor {
  const outer = x.shape.slice(0, axis);
  const inner = x.shape.slice(axis + 1);
  const values = tf.reshape(dy, [...outer, indices.size, ...inner]);
  const flatIndices = tf.reshape(indices, [indices.size]);
  // Move the gathered axis first, sum rows per index, move it back.
  const perm = [outer.length, ...outer.map((_, i) => i), ...inner.map((_, i) => outer.length + 1 + i)];
  const summed = tf.unsortedSegmentSum(tf.transpose(values, perm), flatIndices as tf.Tensor1D, x.shape[axis]);
  return tf.transpose(summed, tf.backend_util.getUndoAxesPermutation(perm));
}

function gatherDropNegatives(x: Tensor, indices: Tensor): Tensor {
  const gathered = tf.gather(x, tf.maximum(indices, tf.zerosLike(indices)));
  let valid = tf.greaterEqual(indices, tf.scalar(0, 'int32'));
  while (valid.rank < gathered.rank) valid = tf.expandDims(valid, valid.rank);
  return tf.where(tf.logicalAnd(valid, tf.ones(gathered.shape, 'bool')), gathered, tf.zerosLike(gathered));
}

export const shapeGradients: GradConfig[] = [
  gradient('Reshape', { inputs: ['x'] }, (dy, [x]) => ({ x: () => tf.reshape(dy, x.shape) })),
  gradient('ExpandDims', { inputs: ['input'] }, (dy, [input]) => ({ input: () => tf.reshape(dy, input.shape) })),
  gradient('Transpose', {}, (dy, _saved, attrs) => ({
    x: () => tf.transpose(dy, tf.backend_util.getUndoAxesPermutation(attrs['perm'] as number[])),
  })),
  gradient('Concat', { allInputs: true }, (dy, saved, attrs) => {
    const axis = tf.util.parseAxisParam(attrs['axis'] as number, saved[0].shape)[0];
    const parts = tf.split(
      dy,
      saved.map((t) => t.shape[axis]),
      axis,
    );
    const grads: InputGrads = {};
    parts.forEach((part, i) => (grads[String(i)] = () => part));
    return grads;
  }),
  gradient('Pack', { allInputs: true }, (dy, _saved, attrs) => {
    const grads: InputGrads = {};
    tf.unstack(dy, attrs['axis'] as number).forEach((part, i) => (grads[String(i)] = () => part));
    return grads;
  }),
  multiOutputGradient('Unpack', (dys, attrs) => ({ value: () => tf.stack(dys, attrs['axis'] as number) })),
  multiOutputGradient('SplitV', (dys, attrs) => ({ x: () => tf.concat(dys, attrs['axis'] as number) })),
  gradient('Slice', { inputs: ['x'] }, (dy, [x], attrs) => {
    const [begin, size] = tf.slice_util.parseSliceParams(x, attrs['begin'] as number[], attrs['size'] as number[]);
    const paddings = x.shape.map((d, i): [number, number] => [begin[i], d - begin[i] - size[i]]);
    return { x: () => tf.pad(dy, paddings) };
  }),
  gradient('PadV2', { inputs: ['x'] }, (dy, [x], attrs) => {
    const begin = (attrs['paddings'] as Array<[number, number]>).map((p) => p[0]);
    return { x: () => tf.slice(dy, begin, x.shape) };
  }),
  gradient('MirrorPad', { inputs: ['x'] }, (dy, [x], attrs) => ({
    x: () => mirrorPadGrad(dy, x.shape, attrs['paddings'] as Array<[number, number]>, attrs['mode'] as string),
  })),
  gradient('Tile', { inputs: ['x'] }, (dy, [x], attrs) => ({ x: () => tileGrad(dy, x.shape, attrs['reps'] as number[]) })),
  gradient('BroadcastTo', {}, (dy, _saved, attrs) => {
    const inputShape = attrs['inputShape'] as number[];
    const padded = [...new Array<number>(dy.rank - inputShape.length).fill(1), ...inputShape];
    const axes = dy.shape.map((d, i) => (padded[i] === 1 && d !== 1 ? i : -1)).filter((i) => i >= 0);
    return { x: () => tf.reshape(tf.sum(dy, axes, true), inputShape) };
  }),
  gradient('Reverse', {}, (dy, _saved, attrs) => ({
    x: () => tf.reverse(dy, tf.util.parseAxisParam(attrs['dims'] as number | number[], dy.shape)),
  })),
  gradient('GatherV2', { inputs: ['x', 'indices'] }, (dy, [x, indices], attrs) => {
    const axis = tf.util.parseAxisParam(attrs['axis'] as number, x.shape)[0];
    const batchDims = (attrs['batchDims'] as number | undefined) ?? 0;
    if (batchDims === 0) return { x: () => gatherGrad(x, indices, dy, axis), indices: () => indices };
    if (batchDims !== 1) throw new Error(`gradient of gather: batchDims ${batchDims} is not supported (0 or 1)`);
    return {
      x: () => {
        const rows = tf.unstack(x).map((xi, i) => gatherGrad(xi, tf.squeeze(tf.slice(indices, i, 1), [0]), tf.squeeze(tf.slice(dy, i, 1), [0]), axis - 1));
        return tf.stack(rows);
      },
      indices: () => indices,
    };
  }),
  gradient('UnsortedSegmentSum', { inputs: ['segmentIds'] }, (dy, [segmentIds]) => ({
    x: () => gatherDropNegatives(dy, segmentIds),
  })),
  gradient('OneHot', { inputs: ['indices'] }, (_dy, [indices]) => ({ indices: () => tf.zeros(indices.shape, 'float32') })),
  gradient('SpaceToBatchND', {}, (dy, _saved, attrs) => ({
    x: () => tf.batchToSpaceND(dy, attrNumbers(attrs['blockShape']), attrs['paddings'] as number[][]),
  })),
  gradient('BatchToSpaceND', {}, (dy, _saved, attrs) => ({
    x: () => tf.spaceToBatchND(dy, attrNumbers(attrs['blockShape']), attrs['crops'] as number[][]),
  })),
];
