/**
 * Training losses, all means over the valid targets (PyTorch's reduction='mean'):
 *   crossEntropy:     logits [N, K], labels [N]; label -1 is ignored (F.cross_entropy, ignore_index=-1)
 *   pixelCrossEntropy: logits [N, K, H, W] (NCHW), masks [N, H, W]; the same per pixel
 *   detectionLoss:    outputs [N, S * (4 + K)], per slot 4 box coordinates then K class logits;
 *                     smooth L1 (beta 1) on the boxes of filled slots + cross-entropy on their classes
 */
import type * as tf from '@tensorflow/tfjs-core';

/** Mean cross-entropy over the rows whose label is not -1. */
export function crossEntropy(t: typeof tf, logits: tf.Tensor, labels: Int32Array): tf.Scalar {
  const [n, k] = logits.shape;
  if (logits.rank !== 2 || n !== labels.length) {
    throw new Error(`cross-entropy: logits have shape [${logits.shape.join(',')}], expected [${labels.length}, classes]`);
  }
  let valid = 0;
  for (const label of labels) {
    if (label >= k) throw new Error(`cross-entropy: label ${label} out of range for ${k} logits`);
    if (label >= 0) valid++;
  }
  if (valid === 0) return t.scalar(0);
  // oneHot of -1 is an all-zero row: ignored rows add nothing to the sum
  const target = t.oneHot(t.tensor1d(labels, 'int32'), k);
  const logProbs = t.logSoftmax(logits as tf.Tensor2D);
  return t.div(t.neg(t.sum(t.mul(target, logProbs))), valid) as tf.Scalar;
}

/** Per-pixel cross-entropy of NCHW logits against masks N x H x W. */
export function pixelCrossEntropy(t: typeof tf, logits: tf.Tensor, masks: Int32Array): tf.Scalar {
  if (logits.rank !== 4) throw new Error(`pixel cross-entropy: logits have shape [${logits.shape.join(',')}], expected [N, classes, H, W]`);
  const [n, k, h, w] = logits.shape;
  if (masks.length !== n * h * w) throw new Error(`pixel cross-entropy: ${masks.length} mask pixels for logits [${logits.shape.join(',')}]`);
  const rows = t.reshape(t.transpose(logits, [0, 2, 3, 1]), [n * h * w, k]);
  return crossEntropy(t, rows, masks);
}

/** Smooth L1 with beta 1: 0.5 d^2 where |d| < 1, else |d| - 0.5. */
function smoothL1(t: typeof tf, d: tf.Tensor): tf.Tensor {
  const a = t.abs(d);
  return t.where(t.less(a, 1), t.mul(t.square(d), 0.5), t.sub(a, 0.5));
}

export interface DetectionTargets {
  /** N x S x 4 boxes (x0, y0, x1, y1) in [0, 1]. */
  boxes: Float32Array;
  /** N x S classes, -1 for an empty slot. */
  classes: Int32Array;
  slots: number;
}

export interface DetectionLossParts {
  total: tf.Scalar;
  box: tf.Scalar;
  cls: tf.Scalar;
}

/** Splits [N, S*(4+K)] outputs into boxes [N, S, 4] and class logits [N*S, K]. */
export function splitDetection(t: typeof tf, outputs: tf.Tensor, slots: number): { boxes: tf.Tensor3D; logits: tf.Tensor2D } {
  const [n, width] = outputs.shape;
  if (outputs.rank !== 2 || width % slots !== 0 || width / slots <= 4) {
    throw new Error(`detection: outputs have shape [${outputs.shape.join(',')}], expected [N, ${slots} x (4 + classes)]`);
  }
  const per = width / slots;
  const bySlot = t.reshape(outputs, [n, slots, per]);
  const boxes = t.slice(bySlot, [0, 0, 0], [n, slots, 4]) as tf.Tensor3D;
  const logits = t.reshape(t.slice(bySlot, [0, 0, 4], [n, slots, per - 4]), [n * slots, per - 4]) as tf.Tensor2D;
  return { boxes, logits };
}

export function detectionLoss(t: typeof tf, outputs: tf.Tensor, targets: DetectionTargets): DetectionLossParts {
  const n = outputs.shape[0];
  const { boxes, logits } = splitDetection(t, outputs, targets.slots);
  if (targets.classes.length !== n * targets.slots || targets.boxes.length !== n * targets.slots * 4) {
    throw new Error(`detection: targets do not match ${n} images x ${targets.slots} slots`);
  }
  const filled = new Float32Array(n * targets.slots * 4);
  let count = 0;
  targets.classes.forEach((c, i) => {
    if (c >= 0) {
      filled.fill(1, i * 4, i * 4 + 4);
      count++;
    }
  });
  const cls = crossEntropy(t, logits, targets.classes);
  if (count === 0) return { total: cls, box: t.scalar(0), cls };
  const target = t.tensor3d(targets.boxes, [n, targets.slots, 4]);
  const mask = t.tensor3d(filled, [n, targets.slots, 4]);
  const box = t.div(t.sum(t.mul(smoothL1(t, t.sub(boxes, target)), mask)), count * 4) as tf.Scalar;
  return { total: t.add(box, cls) as tf.Scalar, box, cls };
}
