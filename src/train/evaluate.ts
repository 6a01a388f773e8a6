/**
 * Test metrics of a model under training (eval mode: BatchNorm on running statistics).
 *   classification  accuracy: share of examples whose argmax logit is the label
 *   segmentation    accuracy: pixel accuracy; meanIoU: mean over classes present in target or
 *                   prediction of |pred = c and target = c| / |pred = c or target = c|
 *   detection       accuracy: class accuracy over filled slots; meanIoU: mean box IoU over them
 */
import * as tf from '@tensorflow/tfjs-core';
import { selectExamples } from '../data/select.js';
import { type AnyDataset, datasetSize } from '../data/types.js';
import { interpretGraph } from '../runtime/tfjs/interpreter.js';
import type { TrainPlan } from './finetune.js';
import { splitDetection } from '../nn/losses.js';
import { inputBatch } from './trainer.js';
import type { Metrics } from '../zoo/manifest.js';

function argmaxRows(values: Float32Array, rows: number, k: number, out: Int32Array, offset: number): void {
  for (let r = 0; r < rows; r++) {
    let best = 0;
    let bestValue = -Infinity;
    for (let c = 0; c < k; c++) {
      const v = values[r * k + c];
      if (v > bestValue) {
        bestValue = v;
        best = c;
      }
    }
    out[offset + r] = best;
  }
}

function boxIoU(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const w = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]));
  const h = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
  const inter = w * h;
  const area = (x: ArrayLike<number>) => Math.max(0, x[2] - x[0]) * Math.max(0, x[3] - x[1]);
  const union = area(a) + area(b) - inter;
  return union > 0 ? inter / union : 0;
}

/**
 * Metrics on the first `limit` examples of `data` (all when absent), run in batches of `batchSize`
 * with `params` (a TrainSession's variables and statistics) in place of the initializers.
 */
export function evaluatePlan(
  plan: TrainPlan,
  params: ReadonlyMap<string, tf.Tensor>,
  data: AnyDataset,
  options: { limit?: number; batchSize?: number } = {},
): Metrics {
  const n = Math.min(datasetSize(data), options.limit ?? Infinity);
  const size = options.batchSize ?? 256;
  let correct = 0;
  let counted = 0;
  let iouSum = 0;
  const intersections = new Float64Array(data.numClasses);
  const unions = new Float64Array(data.numClasses);
  for (let start = 0; start < n; start += size) {
    const idx = Int32Array.from({ length: Math.min(size, n - start) }, (_, i) => start + i);
    const batch = selectExamples(data, idx);
    const rows = idx.length;
    // tensors out of tidy, typed arrays after it: tidy walks every element of a returned array
    const [main, boxTensor] = tf.tidy(() => {
      const out = interpretGraph(plan.evalGraph, { [plan.input]: inputBatch(batch) }, [plan.output], params)[plan.output];
      if (batch.kind === 'detection') {
        const { boxes, logits } = splitDetection(tf, out, batch.maxObjects);
        return [logits, boxes];
      }
      return [batch.kind === 'segmentation' ? tf.transpose(out, [0, 2, 3, 1]) : out];
    });
    const values = {
      main: main.dataSync() as Float32Array,
      width: main.shape[main.rank - 1] as number,
      boxes: boxTensor?.dataSync() as Float32Array | undefined,
    };
    tf.dispose([main, ...(boxTensor ? [boxTensor] : [])]);
    if (batch.kind === 'segmentation') {
      const pred = new Int32Array(batch.masks.length);
      argmaxRows(values.main, pred.length, values.width, pred, 0);
      for (let i = 0; i < pred.length; i++) {
        const p = pred[i];
        const t = batch.masks[i];
        unions[p]++;
        if (p === t) {
          correct++;
          intersections[p]++;
        } else {
          unions[t]++;
        }
      }
      counted += pred.length;
    } else if (batch.kind === 'detection') {
      const slots = batch.maxObjects;
      const pred = new Int32Array(rows * slots);
      argmaxRows(values.main, pred.length, values.width, pred, 0);
      const boxes = values.boxes as Float32Array;
      for (let i = 0; i < pred.length; i++) {
        const c = batch.classes[i];
        if (c < 0) continue;
        counted++;
        if (pred[i] === c) correct++;
        iouSum += boxIoU(boxes.subarray(i * 4, i * 4 + 4), batch.boxes.subarray(i * 4, i * 4 + 4));
      }
    } else {
      const pred = new Int32Array(rows);
      argmaxRows(values.main, rows, values.width, pred, 0);
      for (let i = 0; i < rows; i++) if (pred[i] === batch.labels[i]) correct++;
      counted += rows;
    }
  }
  const accuracy = counted > 0 ? correct / counted : 0;
  if (data.kind === 'segmentation') {
    const ious: number[] = [];
    unions.forEach((u, c) => {
      if (u > 0) ious.push(intersections[c] / u);
    });
    return { accuracy, meanIoU: ious.length ? ious.reduce((a, b) => a + b, 0) / ious.length : 0, examples: n };
  }
  if (data.kind === 'detection') return { accuracy, meanIoU: counted > 0 ? iouSum / counted : 0, examples: n };
  return { accuracy, examples: n };
}
