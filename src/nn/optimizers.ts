/**
 * SGD (momentum, Nesterov) and Adam with PyTorch's update rules, including its weight decay: the
 * L2 term `weightDecay * param` is added to the gradient before the update (torch.optim.SGD/Adam
 * `weight_decay`, the paper's "regularised" setting; not AdamW's decoupled decay). A StepLR
 * schedule multiplies the rate by `gamma` every `stepSize` optimizer steps.
 */
import type * as tf from '@tensorflow/tfjs-core';

export type OptimizerName = 'sgd' | 'adam';

export interface OptimizerConfig {
  optimizer: OptimizerName;
  lr: number;
  /** SGD momentum (PyTorch default 0; our zoos use 0.9). */
  momentum?: number;
  nesterov?: boolean;
  /** Adam betas, default [0.9, 0.999]. */
  betas?: [number, number];
  /** Adam epsilon, default 1e-8. */
  eps?: number;
  /** L2 penalty added to the gradient, default 0. */
  weightDecay?: number;
}

export interface StepLr {
  /** Decay every this many steps; 0 or absent = constant rate. */
  stepSize?: number;
  /** Multiplier per decay, default 0.1. */
  gamma?: number;
}

/** The learning rate of optimizer step `step` (0-based) under StepLR. */
export function learningRate(base: number, schedule: StepLr, step: number): number {
  const size = schedule.stepSize ?? 0;
  if (size <= 0) return base;
  return base * (schedule.gamma ?? 0.1) ** Math.floor(step / size);
}

export interface Optimizer {
  /** Updates every variable that has a gradient in `grads`, at rate `lr`. */
  step(params: ReadonlyMap<string, tf.Variable>, grads: ReadonlyMap<string, tf.Tensor>, lr: number): void;
  dispose(): void;
}

export function checkOptimizerConfig(config: OptimizerConfig, where: string): void {
  const bad = (problem: string): never => {
    throw new Error(`${where}: ${problem}`);
  };
  if (config.optimizer !== 'sgd' && config.optimizer !== 'adam') bad(`optimizer must be "sgd" or "adam", got ${JSON.stringify(config.optimizer)}`);
  if (!(config.lr > 0 && Number.isFinite(config.lr))) bad(`lr must be a positive number, got ${config.lr}`);
  const m = config.momentum ?? 0;
  if (!(m >= 0 && m < 1)) bad(`momentum must be in [0, 1), got ${m}`);
  if (!((config.weightDecay ?? 0) >= 0)) bad(`weightDecay must be >= 0, got ${config.weightDecay}`);
  const [b1, b2] = config.betas ?? [0.9, 0.999];
  if (!(b1 >= 0 && b1 < 1 && b2 >= 0 && b2 < 1)) bad(`betas must lie in [0, 1), got [${b1}, ${b2}]`);
}

export function createOptimizer(tfjs: typeof tf, config: OptimizerConfig): Optimizer {
  checkOptimizerConfig(config, 'optimizer');
  return config.optimizer === 'sgd' ? new Sgd(tfjs, config) : new Adam(tfjs, config);
}

/** Slot tensors (momentum buffers, moments) kept across steps, one per parameter name. */
class Slots {
  private readonly slots = new Map<string, tf.Tensor>();
  constructor(private readonly tfjs: typeof tf) {}
  get(name: string): tf.Tensor | undefined {
    return this.slots.get(name);
  }
  set(name: string, value: tf.Tensor): void {
    this.slots.get(name)?.dispose();
    this.slots.set(name, this.tfjs.keep(value));
  }
  dispose(): void {
    for (const t of this.slots.values()) t.dispose();
    this.slots.clear();
  }
}

function withDecay(tfjs: typeof tf, grad: tf.Tensor, param: tf.Tensor, decay: number): tf.Tensor {
  return decay === 0 ? grad : tfjs.add(grad, tfjs.mul(param, decay));
}

class Sgd implements Optimizer {
  private readonly buffers: Slots;
  constructor(
    private readonly tfjs: typeof tf,
    private readonly config: OptimizerConfig,
  ) {
    this.buffers = new Slots(tfjs);
  }

  step(params: ReadonlyMap<string, tf.Variable>, grads: ReadonlyMap<string, tf.Tensor>, lr: number): void {
    const t = this.tfjs;
    const momentum = this.config.momentum ?? 0;
    const decay = this.config.weightDecay ?? 0;
    for (const [name, param] of params) {
      const grad = grads.get(name);
      if (!grad) continue;
      t.tidy(() => {
        let d = withDecay(t, grad, param, decay);
        if (momentum !== 0) {
          const previous = this.buffers.get(name);
          // PyTorch starts the buffer at the first gradient (dampening 0)
          const buf = previous ? t.add(t.mul(previous, momentum), d) : t.clone(d);
          this.buffers.set(name, buf);
          d = this.config.nesterov ? t.add(d, t.mul(buf, momentum)) : buf;
        }
        param.assign(t.sub(param, t.mul(d, lr)));
      });
    }
  }

  dispose(): void {
    this.buffers.dispose();
  }
}

class Adam implements Optimizer {
  private readonly first: Slots;
  private readonly second: Slots;
  private readonly steps = new Map<string, number>();
  constructor(
    private readonly tfjs: typeof tf,
    private readonly config: OptimizerConfig,
  ) {
    this.first = new Slots(tfjs);
    this.second = new Slots(tfjs);
  }

  step(params: ReadonlyMap<string, tf.Variable>, grads: ReadonlyMap<string, tf.Tensor>, lr: number): void {
    const t = this.tfjs;
    const [beta1, beta2] = this.config.betas ?? [0.9, 0.999];
    const eps = this.config.eps ?? 1e-8;
    const decay = this.config.weightDecay ?? 0;
    for (const [name, param] of params) {
      const grad = grads.get(name);
      if (!grad) continue;
      const step = (this.steps.get(name) ?? 0) + 1;
      this.steps.set(name, step);
      t.tidy(() => {
        const g = withDecay(t, grad, param, decay);
        const m0 = this.first.get(name) ?? t.zerosLike(param);
        const v0 = this.second.get(name) ?? t.zerosLike(param);
        const m = t.add(t.mul(m0, beta1), t.mul(g, 1 - beta1));
        const v = t.add(t.mul(v0, beta2), t.mul(t.mul(g, g), 1 - beta2));
        this.first.set(name, m);
        this.second.set(name, v);
        const stepSize = lr / (1 - beta1 ** step);
        const denom = t.add(t.div(t.sqrt(v), Math.sqrt(1 - beta2 ** step)), eps);
        param.assign(t.sub(param, t.mul(t.div(m, denom), stepSize)));
      });
    }
  }

  dispose(): void {
    this.first.dispose();
    this.second.dispose();
  }
}
