/**
 * The one entry point to TensorFlow.js in this project: `await initTfjs()` loads tfjs-core with the
 * wasm backend (SIMD, single-threaded: tfjs has no wasm threads under Node), registers the
 * gradients tfjs-core's Node bundle lacks and our wasm kernel fixes, selects the backend and
 * returns the tfjs-core namespace. Idempotent; each call makes its backend the active one.
 *
 * 'cpu' (@tensorflow/tfjs-backend-cpu, a devDependency, ~0.5 GFLOP/s) is the independent reference
 * for tests: imported only when asked for, and left without our kernel fixes.
 */
import * as tf from '@tensorflow/tfjs-core';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { registerGradients } from './gradients/register.js';
import { registerKernelFixes } from './kernels/register.js';

export type Tfjs = typeof tf;
export type TfjsBackendName = 'wasm' | 'cpu';

const loading = new Map<TfjsBackendName, Promise<void>>();

export async function initTfjs(backend: TfjsBackendName = 'wasm'): Promise<Tfjs> {
  let loaded = loading.get(backend);
  if (loaded === undefined) {
    loaded = load(backend);
    loading.set(backend, loaded);
    loaded.catch(() => loading.delete(backend));
  }
  await loaded;
  if (tf.getBackend() !== backend && !(await tf.setBackend(backend))) {
    throw new Error(`tfjs: could not switch to the ${backend} backend`);
  }
  return tf;
}

async function load(backend: TfjsBackendName): Promise<void> {
  registerGradients();
  if (backend === 'cpu') {
    await import('@tensorflow/tfjs-backend-cpu');
    if (!(await tf.setBackend('cpu'))) throw new Error('tfjs: the cpu backend failed to initialize');
    return;
  }
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  // Explicit, so that it does not depend on where a bundler or test runner puts the backend's JS.
  // (Only read when the backend initializes; harmless if someone initialized it already.)
  wasm.setWasmPaths(`${wasmBinaryDir()}/`);
  if (!(await tf.setBackend('wasm'))) {
    throw new Error(`tfjs: the wasm backend failed to initialize (binaries looked up in ${wasmBinaryDir()})`);
  }
  // After initialization: the kernels we wrap must have run their setup on the live backend.
  registerKernelFixes('wasm');
}

/** node_modules/@tensorflow/tfjs-backend-wasm/dist, where the .wasm files sit next to the Node bundle. */
function wasmBinaryDir(): string {
  return dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm'));
}
