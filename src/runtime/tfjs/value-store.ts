/**
 * The values of one interpreter run. A value may be held in NCHW, channels-last (NHWC), or both:
 * the other layout is made on first request and remembered, so a value read by several consumers is
 * transposed at most once. Values the run does not own (feeds, parameters, cached constants) are
 * never disposed.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ChannelsLast, type OpOutput, TO_NCHW, TO_NHWC } from './ops/types.js';

interface Slot {
  nchw?: tf.Tensor;
  nhwc?: tf.Tensor4D;
  /** Not owned by the run: never disposed, and copied before being handed out as an output. */
  borrowed: boolean;
}

export class ValueStore {
  private readonly slots = new Map<string, Slot>();
  /** Every tensor object held by a slot, so an op that returns one of them gets a distinct copy. */
  private readonly held = new Set<tf.Tensor>();

  constructor(private readonly keepChannelsLast: boolean) {}

  has(name: string): boolean {
    return this.slots.has(name);
  }

  borrow(name: string, tensor: tf.Tensor): void {
    this.slots.set(name, { nchw: tensor, borrowed: true });
    this.held.add(tensor);
  }

  /** Stores an op output; `isShared(t)` says whether t is owned elsewhere (a cached constant). */
  store(name: string, output: OpOutput, isShared: (t: tf.Tensor) => boolean): void {
    const own = (t: tf.Tensor) => (this.held.has(t) || isShared(t) ? tf.clone(t) : t);
    let slot: Slot;
    if (output instanceof ChannelsLast) {
      const nhwc = own(output.tensor) as tf.Tensor4D;
      slot = this.keepChannelsLast ? { nhwc, borrowed: false } : { nchw: tf.transpose(nhwc, TO_NCHW), borrowed: false };
      if (!this.keepChannelsLast) nhwc.dispose();
    } else {
      slot = { nchw: own(output), borrowed: false };
    }
    this.slots.set(name, slot);
    if (slot.nchw) this.held.add(slot.nchw);
    if (slot.nhwc) this.held.add(slot.nhwc);
  }

  private slot(name: string): Slot {
    const slot = this.slots.get(name);
    if (!slot) throw new Error(`value '${name}' has not been computed`);
    return slot;
  }

  nchw(name: string): tf.Tensor {
    const slot = this.slot(name);
    if (!slot.nchw) {
      slot.nchw = tf.transpose(slot.nhwc as tf.Tensor4D, TO_NCHW);
      this.held.add(slot.nchw);
    }
    return slot.nchw;
  }

  nhwc(name: string): tf.Tensor4D {
    const slot = this.slot(name);
    if (!slot.nhwc) {
      const x = slot.nchw as tf.Tensor;
      if (x.rank !== 4) throw new Error(`value '${name}' of shape [${x.shape.join(',')}] is not 4-D`);
      const nhwc = tf.transpose(x, TO_NHWC) as tf.Tensor4D;
      if (!this.keepChannelsLast) return nhwc;
      slot.nhwc = nhwc;
      this.held.add(nhwc);
    }
    return slot.nhwc;
  }

  /** True when the value exists channels-last only. */
  isChannelsLastOnly(name: string): boolean {
    const slot = this.slot(name);
    return slot.nchw === undefined;
  }

  shape(name: string): number[] {
    const slot = this.slot(name);
    if (slot.nchw) return [...slot.nchw.shape];
    const [n, h, w, c] = (slot.nhwc as tf.Tensor4D).shape;
    return [n, c, h, w];
  }

  /** A tensor the caller owns: the value in NCHW, copied when the run does not own it. */
  take(name: string): tf.Tensor {
    const slot = this.slot(name);
    const t = this.nchw(name);
    return slot.borrowed ? tf.clone(t) : t;
  }

  /** Frees a value the run owns once nothing reads it any more. */
  release(name: string): void {
    const slot = this.slots.get(name);
    if (!slot || slot.borrowed) return;
    for (const t of [slot.nchw, slot.nhwc]) {
      if (t) {
        this.held.delete(t);
        t.dispose();
      }
    }
    this.slots.delete(name);
  }
}
