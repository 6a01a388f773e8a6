/**
 * The learned lineage detector (paper section "Learning-based lineage detector"), in tfjs-core ops.
 *
 * Per candidate k of a child, per input slot (modality x layer), a pair image [H, W, 2] (NHWC) goes
 * through its own encoder
 *   Conv(2->3, 1x1, no bias) -> ReLU -> Conv(3->E, 3x3, pad 1, no bias) -> BN -> ReLU -> mean over H, W
 * giving one token. Tokens [CLS, slot tokens + type embedding (+ layer embedding when several
 * layers)] pass `depth` pre-LayerNorm transformer blocks (multi-head self-attention, optional FFN);
 * the CLS outputs of the K candidates are z-scored per sample across candidates (per channel) and
 * Linear(E -> 1) gives one logit per candidate. With `noParent`, a learned vector joins the K CLS
 * outputs before the z-scoring as candidate K+1.
 *
 * DESIGN (the paper is silent): pre-LN residual blocks; encoders are not shared between slots;
 * the z-score uses the biased variance with eps 1e-5; LayerNorm and BatchNorm eps 1e-5, BatchNorm
 * momentum 0.1 with the unbiased variance in the running estimate (PyTorch).
 *
 * Tensor layouts (also those of the detector file): conv kernels HWIO [kh, kw, in, out], linear
 * weights [in, out]; see `parameterSpecs` for every name. The tensors are declared, initialised,
 * held and trained with src/nn, as the zoo trainer's are.
 */
import * as tf from '@tensorflow/tfjs-core';
import { updateRunningStatistics } from '../../nn/batchnorm.js';
import type { ValueInit } from '../../nn/init-values.js';
import { ParameterSet } from '../../nn/parameter-set.js';
import { type ParamSpec, initialWeights } from '../../nn/params.js';
import type { Tensor, Weights } from '../../tensor.js';
import { type DetectorArchitecture, type Slot, inputSlots } from './config.js';

export const ENCODER_MID_CHANNELS = 3;
export const NORM_EPS = 1e-5;
/** The seed stream of the detector's initial weights. */
const INIT_STREAM = 'detector:init';

function encoderPrefix(slot: Slot): string {
  return `encoders.${slot.key}`;
}

/** Every tensor of a detector with this architecture, in file order. */
export function parameterSpecs(arch: DetectorArchitecture): ParamSpec[] {
  const E = arch.embed;
  const C = ENCODER_MID_CHANNELS;
  const specs: ParamSpec[] = [];
  const param = (name: string, shape: number[], init: ValueInit) => specs.push({ name, shape, buffer: false, init });
  const buffer = (name: string, shape: number[], init: ValueInit) => specs.push({ name, shape, buffer: true, init });
  const linear = (prefix: string, inDim: number, outDim: number) => {
    param(`${prefix}.weight`, [inDim, outDim], { kind: 'uniform', fanIn: inDim });
    param(`${prefix}.bias`, [outDim], { kind: 'uniform', fanIn: inDim });
  };
  const layerNorm = (prefix: string) => {
    param(`${prefix}.weight`, [E], { kind: 'ones' });
    param(`${prefix}.bias`, [E], { kind: 'zeros' });
  };
  for (const slot of inputSlots(arch)) {
    const p = encoderPrefix(slot);
    param(`${p}.conv1.weight`, [1, 1, 2, C], { kind: 'uniform', fanIn: 2 });
    param(`${p}.conv2.weight`, [3, 3, C, E], { kind: 'uniform', fanIn: 9 * C });
    param(`${p}.bn.weight`, [E], { kind: 'ones' });
    param(`${p}.bn.bias`, [E], { kind: 'zeros' });
    buffer(`${p}.bn.running_mean`, [E], { kind: 'zeros' });
    buffer(`${p}.bn.running_var`, [E], { kind: 'ones' });
  }
  param('tokens.cls', [E], { kind: 'normal', std: 0.02 });
  for (const m of arch.inputs) param(`tokens.type.${m}`, [E], { kind: 'normal', std: 0.02 });
  if (arch.layers.length > 1) arch.layers.forEach((_, l) => param(`tokens.layer.${l}`, [E], { kind: 'normal', std: 0.02 }));
  for (let b = 0; b < arch.depth; b++) {
    layerNorm(`blocks.${b}.norm1`);
    linear(`blocks.${b}.attn.qkv`, E, 3 * E);
    linear(`blocks.${b}.attn.proj`, E, E);
    if (arch.ffn > 0) {
      layerNorm(`blocks.${b}.norm2`);
      linear(`blocks.${b}.ffn.fc1`, E, arch.ffn);
      linear(`blocks.${b}.ffn.fc2`, arch.ffn, E);
    }
  }
  if (arch.noParent) param('none', [E], { kind: 'normal', std: 0.02 });
  linear('head', E, 1);
  return specs;
}

/**
 * Seeded initial weights, PyTorch's defaults (Linear/Conv: U(+-1/sqrt(fan_in)); norms: 1, 0;
 * embeddings N(0, 0.02^2)); each tensor draws from its own stream. `differenceInit` sets the first
 * two 1x1 filters of every encoder to parent - child and child - parent (the reference code's
 * difference detector), leaving the third random.
 */
export function initDetectorWeights(arch: DetectorArchitecture, seed: number, differenceInit: boolean): Weights {
  const out = initialWeights(parameterSpecs(arch), seed, INIT_STREAM);
  if (!differenceInit) return out;
  for (const [name, t] of out) {
    if (!name.endsWith('.conv1.weight')) continue;
    // HWIO [1, 1, 2, 3]: data[in * 3 + out]; input 0 = parent, 1 = child
    const data = t.data as Float32Array;
    const C = ENCODER_MID_CHANNELS;
    data[0 * C + 0] = 1;
    data[1 * C + 0] = -1;
    data[0 * C + 1] = -1;
    data[1 * C + 1] = 1;
  }
  return out;
}

/** One batch of examples with the same candidate count and image sizes. */
export interface DetectorBatch {
  /** Examples B. */
  batch: number;
  /** Candidates per example K (the no-parent candidate not counted). */
  candidates: number;
  /** Per slot key: [B*K, H, W, 2] NHWC, example-major. */
  images: Map<string, { shape: [number, number, number, number]; data: Float32Array }>;
}

export interface BatchNormStatistics {
  prefix: string;
  mean: tf.Tensor1D;
  variance: tf.Tensor1D;
  /** Values per channel behind the statistics. */
  count: number;
}

/**
 * A detector's tensors as tfjs values (trainable variables and BatchNorm buffers, an nn
 * ParameterSet) and its forward pass. The owner calls dispose().
 */
export class DetectorModel {
  readonly slots: Slot[];
  readonly parameters: ParameterSet;

  constructor(
    readonly arch: DetectorArchitecture,
    weights: ReadonlyMap<string, Tensor>,
  ) {
    this.slots = inputSlots(arch);
    this.parameters = new ParameterSet(weights, parameterSpecs(arch), 'detector weights');
  }

  private p(name: string): tf.Tensor {
    const v = this.parameters.variables.get(name);
    if (!v) throw new Error(`detector has no parameter ${name}`);
    return v;
  }

  /** Values of every tensor (parameters and buffers) in file order. */
  weights(): Weights {
    return new Map(parameterSpecs(this.arch).map((spec) => [spec.name, this.parameters.value(spec.name)]));
  }

  /**
   * Logits [B, K (+1)]. In training mode BatchNorm uses the batch's statistics and returns them in
   * `stats` (kept tensors: pass them to updateRunningStats, which disposes them).
   */
  forward(batch: DetectorBatch, training: boolean, stats?: BatchNormStatistics[]): tf.Tensor2D {
    const { arch } = this;
    const E = arch.embed;
    const n = batch.batch * batch.candidates;
    const tokens: tf.Tensor[] = [tf.add(tf.zeros([n, 1, E]), tf.reshape(this.p('tokens.cls'), [1, 1, E]))];
    for (const slot of this.slots) {
      const image = batch.images.get(slot.key);
      if (!image) throw new Error(`batch lacks the ${slot.key} input`);
      if (image.shape[0] !== n) throw new Error(`batch input ${slot.key} has ${image.shape[0]} images, expected ${n}`);
      let token = this.encode(slot, tf.tensor4d(image.data, image.shape), training, stats);
      token = tf.add(token, this.p(`tokens.type.${slot.modality}`));
      if (arch.layers.length > 1) token = tf.add(token, this.p(`tokens.layer.${slot.layer}`));
      tokens.push(tf.reshape(token, [n, 1, E]));
    }
    let x = tf.concat(tokens, 1) as tf.Tensor3D;
    for (let b = 0; b < arch.depth; b++) x = this.block(b, x);
    let cls = tf.reshape(tf.slice(x, [0, 0, 0], [n, 1, E]), [batch.batch, batch.candidates, E]);
    if (arch.noParent) {
      const none = tf.add(tf.zeros([batch.batch, 1, E]), tf.reshape(this.p('none'), [1, 1, E]));
      cls = tf.concat([cls, none], 1);
    }
    const k = batch.candidates + (arch.noParent ? 1 : 0);
    const mean = tf.mean(cls, 1, true);
    const centered = tf.sub(cls, mean);
    const variance = tf.mean(tf.square(centered), 1, true);
    const z = tf.mul(centered, tf.rsqrt(tf.add(variance, NORM_EPS)));
    const logits = tf.add(tf.matMul(tf.reshape(z, [batch.batch * k, E]), this.p('head.weight')), this.p('head.bias'));
    return tf.reshape(logits, [batch.batch, k]);
  }

  private encode(slot: Slot, images: tf.Tensor4D, training: boolean, stats?: BatchNormStatistics[]): tf.Tensor2D {
    const p = `encoders.${slot.key}`;
    const mid = tf.relu(tf.conv2d(images, this.p(`${p}.conv1.weight`) as tf.Tensor4D, 1, 'valid'));
    const h: tf.Tensor4D = tf.conv2d(mid, this.p(`${p}.conv2.weight`) as tf.Tensor4D, 1, 'same');
    const gamma = this.p(`${p}.bn.weight`) as tf.Tensor1D;
    const beta = this.p(`${p}.bn.bias`) as tf.Tensor1D;
    if (training) {
      return batchNormReluPool(h, gamma, beta, (mean, variance) => {
        const [n, height, width] = h.shape;
        stats?.push({
          prefix: `${p}.bn`,
          mean: tf.keep(tf.reshape(mean, [-1])) as tf.Tensor1D,
          variance: tf.keep(tf.reshape(variance, [-1])) as tf.Tensor1D,
          count: n * height * width,
        });
      });
    }
    const scale = tf.mul(tf.rsqrt(tf.add(this.parameters.buffer(`${p}.bn.running_var`), NORM_EPS)), gamma);
    const shift = tf.sub(beta, tf.mul(this.parameters.buffer(`${p}.bn.running_mean`), scale));
    return spatialMean(tf.relu(tf.add(tf.mul(h, scale), shift)) as tf.Tensor4D);
  }

  private layerNorm(prefix: string, x: tf.Tensor): tf.Tensor {
    const mean = tf.mean(x, -1, true);
    const centered = tf.sub(x, mean);
    const variance = tf.mean(tf.square(centered), -1, true);
    return tf.add(tf.mul(tf.mul(centered, tf.rsqrt(tf.add(variance, NORM_EPS))), this.p(`${prefix}.weight`)), this.p(`${prefix}.bias`));
  }

  private linear(prefix: string, x2d: tf.Tensor): tf.Tensor2D {
    return tf.add(tf.matMul(x2d as tf.Tensor2D, this.p(`${prefix}.weight`) as tf.Tensor2D), this.p(`${prefix}.bias`)) as tf.Tensor2D;
  }

  private block(b: number, x: tf.Tensor3D): tf.Tensor3D {
    const [n, T, E] = x.shape;
    const H = this.arch.heads;
    const d = E / H;
    const prefix = `blocks.${b}`;
    const normed = tf.reshape(this.layerNorm(`${prefix}.norm1`, x), [n * T, E]);
    const qkv = tf.reshape(this.linear(`${prefix}.attn.qkv`, normed), [n, T, 3 * E]);
    // q, k, v: [n, T, E] -> [n, H, T, d] -> [n * H, T, d]
    const part = (i: number) =>
      tf.reshape(tf.transpose(tf.reshape(tf.slice(qkv, [0, 0, i * E], [n, T, E]), [n, T, H, d]), [0, 2, 1, 3]), [n * H, T, d]) as tf.Tensor3D;
    const q = part(0);
    const k = part(1);
    const v = part(2);
    const attention = tf.softmax(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(d)));
    const mixed = tf.reshape(tf.transpose(tf.reshape(tf.matMul(attention, v), [n, H, T, d]), [0, 2, 1, 3]), [n * T, E]);
    let y = tf.add(x, tf.reshape(this.linear(`${prefix}.attn.proj`, mixed), [n, T, E])) as tf.Tensor3D;
    if (this.arch.ffn > 0) {
      const h = tf.relu(this.linear(`${prefix}.ffn.fc1`, tf.reshape(this.layerNorm(`${prefix}.norm2`, y), [n * T, E])));
      y = tf.add(y, tf.reshape(this.linear(`${prefix}.ffn.fc2`, h), [n, T, E])) as tf.Tensor3D;
    }
    return y;
  }

  /** Moves the running statistics towards these batch statistics (nn/batchnorm.ts), in order; disposes them. */
  updateRunningStats(stats: BatchNormStatistics[]): void {
    for (const s of stats) {
      updateRunningStatistics(this.parameters, {
        runningMean: `${s.prefix}.running_mean`,
        runningVar: `${s.prefix}.running_var`,
        mean: s.mean,
        variance: s.variance,
        count: s.count,
      });
      s.mean.dispose();
      s.variance.dispose();
    }
  }

  dispose(): void {
    this.parameters.dispose();
  }
}

/** Per-image, per-channel mean over H and W: [N, H, W, C] -> [N, C] (wasm's AvgPool beats Mean over middle axes ~10x). */
export function spatialMean(x: tf.Tensor4D): tf.Tensor2D {
  const [n, h, w, c] = x.shape;
  return tf.reshape(tf.avgPool(x, [h, w], 1, 'valid'), [n, c]);
}

/**
 * Training-mode BatchNorm (batch statistics over N, H, W) -> ReLU -> mean over H, W, as one op
 * with a hand-written gradient. Autodiff of the plain ops reduces [N, H, W, E] tensors over their
 * leading axes, which tfjs-wasm does by transposing (~10x slower than the spatial average pooling
 * used here for every reduction); this keeps the encoder's step time dominated by its convolutions.
 *   c = x - mean, r = 1 / sqrt(var + eps), z = gamma r c + beta, y = relu(z), out = mean_hw y
 *   dz = [z > 0] dout / (H W);  dbeta = sum dz;  dgamma = r sum dz c
 *   dx = gamma r (dz - dbeta / M - c r^2 sum(dz c) / M),  M = N H W
 */
export function batchNormReluPool(
  x: tf.Tensor4D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  onStatistics: (mean: tf.Tensor, variance: tf.Tensor) => void,
): tf.Tensor2D {
  const [n, h, w, e] = x.shape;
  const pixels = h * w;
  const rows = n * pixels;
  /** Sum over N, H, W as [E]. */
  const total = (t: tf.Tensor4D) => tf.mul(tf.sum(spatialMean(t), 0), pixels);
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [input, g, b] = args as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D];
    const save = args[3] as tf.GradSaveFunc;
    const mean = tf.mean(spatialMean(input), 0);
    const centered = tf.sub(input, mean) as tf.Tensor4D;
    const variance = tf.mean(spatialMean(tf.square(centered)), 0);
    const rstd = tf.rsqrt(tf.add(variance, NORM_EPS));
    const y = tf.relu(tf.add(tf.mul(centered, tf.mul(g, rstd)), b)) as tf.Tensor4D;
    onStatistics(mean, variance);
    save([centered, y, rstd, g]);
    return {
      value: spatialMean(y),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [c, out, r, gam] = saved as [tf.Tensor4D, tf.Tensor4D, tf.Tensor1D, tf.Tensor1D];
        const dz = tf.mul(tf.step(out), tf.reshape(tf.div(dy, pixels), [n, 1, 1, e])) as tf.Tensor4D;
        const dbeta = total(dz);
        const dzc = total(tf.mul(dz, c) as tf.Tensor4D);
        const dgamma = tf.mul(dzc, r);
        const shift = tf.div(dbeta, rows);
        const slope = tf.div(tf.mul(dzc, tf.square(r)), rows);
        const dx = tf.mul(tf.sub(tf.sub(dz, shift), tf.mul(c, slope)), tf.mul(gam, r));
        return [dx, dgamma, dbeta];
      },
    };
  });
  return op(x, gamma, beta) as tf.Tensor2D;
}
