/**
 * Calls other kernels of one backend directly, below the engine.
 *
 * Composite kernels (a backprop written as transposes + one conv2d) must not go through tf ops:
 * those would be taped and tracked by the engine while a kernel is running. Every TensorInfo made
 * here belongs to the caller, who releases it with `release` unless it is the kernel's output.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { DataType, KernelBackend, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';

export type ExplicitPads = [[number, number], [number, number], [number, number], [number, number]];

export class BackendKernels {
  readonly backend: KernelBackend;

  /** `backend` is what a kernel function receives (typed `{}` by tfjs). */
  constructor(
    backend: object,
    readonly backendName: string,
  ) {
    this.backend = backend as KernelBackend;
  }

  run(kernelName: string, inputs: Record<string, TensorInfo>, attrs: NamedAttrMap = {}): TensorInfo {
    const config = tf.getKernel(kernelName, this.backendName);
    if (config === undefined) {
      throw new Error(`kernel ${kernelName} is not registered for backend ${this.backendName}`);
    }
    return single(config.kernelFunc({ inputs, backend: this.backend, attrs }), kernelName);
  }

  /** Runs a kernel function captured before it was overridden (the override calls the original). */
  runFunc(kernelFunc: KernelFunc, inputs: Record<string, TensorInfo>, attrs: NamedAttrMap = {}): TensorInfo {
    return single(kernelFunc({ inputs, backend: this.backend, attrs }), 'kernel');
  }

  release(...infos: TensorInfo[]): void {
    for (const info of infos) this.backend.disposeData(info.dataId);
  }

  fromValues(values: Float32Array | Int32Array, shape: number[], dtype: DataType): TensorInfo {
    return { dataId: this.backend.write(values, shape, dtype), shape, dtype };
  }

  reshape(x: TensorInfo, shape: number[]): TensorInfo {
    return this.run('Reshape', { x }, { shape });
  }

  transpose(x: TensorInfo, perm: number[]): TensorInfo {
    return this.run('Transpose', { x }, { perm });
  }

  /** Zero padding; every entry must be >= 0. */
  pad(x: TensorInfo, paddings: Array<[number, number]>): TensorInfo {
    return this.run('PadV2', { x }, { paddings, constantValue: 0 });
  }

  slice(x: TensorInfo, begin: number[], size: number[]): TensorInfo {
    return this.run('Slice', { x }, { begin, size });
  }

  reverse(x: TensorInfo, dims: number[]): TensorInfo {
    return this.run('Reverse', { x }, { dims });
  }

  sum(x: TensorInfo, axis: number[]): TensorInfo {
    return this.run('Sum', { x }, { axis, keepDims: false });
  }

  concat(values: TensorInfo[], axis: number): TensorInfo {
    const inputs: Record<string, TensorInfo> = {};
    values.forEach((v, i) => (inputs[String(i)] = v));
    return this.run('Concat', inputs, { axis });
  }

  /** NHWC conv2d with explicit padding. */
  conv2d(x: TensorInfo, filter: TensorInfo, strides: [number, number], dilations: [number, number], pads: ExplicitPads): TensorInfo {
    return this.run('Conv2D', { x, filter }, { strides, dilations, pad: pads, dataFormat: 'NHWC' });
  }

  /** NHWC depthwise conv2d with explicit padding. */
  depthwiseConv2d(x: TensorInfo, filter: TensorInfo, strides: [number, number], dilations: [number, number], pads: ExplicitPads): TensorInfo {
    return this.run('DepthwiseConv2dNative', { x, filter }, { strides, dilations, pad: pads, dataFormat: 'NHWC' });
  }
}

function single(out: TensorInfo | TensorInfo[], kernelName: string): TensorInfo {
  if (Array.isArray(out)) {
    if (out.length !== 1) throw new Error(`kernel ${kernelName} returned ${out.length} outputs, expected 1`);
    return out[0];
  }
  return out;
}

/** Releases every intermediate made by `body` except its result, even when it throws. */
export function withScratch<T extends TensorInfo>(k: BackendKernels, body: (keep: (t: TensorInfo) => TensorInfo) => T): T {
  const scratch: TensorInfo[] = [];
  const keep = (t: TensorInfo): TensorInfo => {
    scratch.push(t);
    return t;
  };
  let result: T | undefined;
  try {
    result = body(keep);
    return result;
  } finally {
    for (const t of scratch) if (t !== result) k.release(t);
  }
}
