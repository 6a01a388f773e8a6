/**
 * A network's tensors on the tfjs backend while it trains or runs: trainable variables and
 * buffers (BatchNorm running statistics), by name. The zoo trainer and the learned detector keep
 * their state in one of these, so trainStep and the running-statistics update serve both.
 */
import * as tf from '@tensorflow/tfjs-core';
import { type Tensor, makeTensor, toFloat32 } from '../tensor.js';
import type { ParamSpec } from './params.js';

// tfjs variable names must be unique across the engine
let sets = 0;

export class ParameterSet {
  readonly variables = new Map<string, tf.Variable>();
  readonly buffers = new Map<string, tf.Tensor>();
  private readonly id = sets++;

  /**
   * Loads each tensor `roles` names from `initial` (as float32) as a variable, or as a buffer when
   * its role says so. `owner` names the model in errors. The caller disposes the set.
   */
  constructor(initial: ReadonlyMap<string, Tensor>, roles: Iterable<Pick<ParamSpec, 'name' | 'buffer'>>, owner: string) {
    for (const { name, buffer } of roles) {
      const t = initial.get(name);
      if (!t) throw new Error(`${owner} has no tensor ${name}`);
      const value = tf.tensor(toFloat32(t), [...t.shape], 'float32');
      if (buffer) {
        this.buffers.set(name, value);
        continue;
      }
      this.variables.set(name, tf.variable(value, true, `nn${this.id}/${name}`));
      value.dispose();
    }
  }

  /** The live tensor of a variable or buffer, or undefined when the set does not hold `name`. */
  get(name: string): tf.Tensor | undefined {
    return this.variables.get(name) ?? this.buffers.get(name);
  }

  /** Variables and buffers by name, e.g. as the interpreter's `params`. */
  all(): Map<string, tf.Tensor> {
    return new Map<string, tf.Tensor>([...this.variables, ...this.buffers]);
  }

  buffer(name: string): tf.Tensor {
    const t = this.buffers.get(name);
    if (!t) throw new Error(`no buffer ${name}`);
    return t;
  }

  /** Replaces a buffer's value (disposing the old one); the set owns `value` from now on. */
  setBuffer(name: string, value: tf.Tensor): void {
    this.buffer(name).dispose();
    this.buffers.set(name, value);
  }

  /** A host copy of the current value of `name`. */
  value(name: string): Tensor<'float32'> {
    const live = this.get(name);
    if (!live) throw new Error(`no parameter or buffer ${name}`);
    return makeTensor('float32', [...live.shape], Float32Array.from(live.dataSync() as Float32Array));
  }

  dispose(): void {
    for (const v of this.variables.values()) v.dispose();
    for (const t of this.buffers.values()) t.dispose();
    this.variables.clear();
    this.buffers.clear();
  }
}
