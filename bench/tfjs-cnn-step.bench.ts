/**
 * Forward + backward of a small CNN (batch 64, 1x28x28) through the tfjs interpreter on wasm, with
 * channels-last hand-over between ops on and off. Run: npx vitest bench --run bench/tfjs-cnn-step.bench.ts
 * (PROFILE=1 also prints the time spent per kernel).
 */
import { bench, describe } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { GraphBuilder } from '../src/graph/builder.js';
import { initTfjs } from '../src/runtime/tfjs/backend.js';
import { toTf } from '../src/runtime/tfjs/convert.js';
import { TfjsGraph } from '../src/runtime/tfjs/interpreter.js';
import { makeTensor, type Tensor } from '../src/tensor.js';

await initTfjs('wasm');

let seed = 1;
function random(shape: number[], scale: number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return makeTensor(
    'float32',
    shape,
    Float32Array.from({ length: n }, () => ((seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5) * scale),
  );
}

const weights = new Map<string, Tensor>([
  ['conv1.weight', random([32, 1, 3, 3], 0.6)],
  ['conv1.bias', random([32], 0.1)],
  ['conv2.weight', random([64, 32, 3, 3], 0.1)],
  ['conv2.bias', random([64], 0.1)],
  ['fc1.weight', random([128, 3136], 0.03)],
  ['fc1.bias', random([128], 0.1)],
  ['fc2.weight', random([10, 128], 0.2)],
  ['fc2.bias', random([10], 0.1)],
]);
const g = new GraphBuilder('cnn', weights);
let y = g.maxPool(g.relu(g.conv(g.input('x', [64, 1, 28, 28]), 'conv1', { pad: 1 })), 2, 2, 0);
y = g.maxPool(g.relu(g.conv(y, 'conv2', { pad: 1 })), 2, 2, 0);
const logits = g.linear(g.relu(g.linear(g.flatten(y), 'fc1')), 'fc2');
const graph = g.build([{ name: logits }]);
const program = new TfjsGraph(graph);
const params = new Map([...weights].map(([k, t]) => [k, tf.variable(toTf(t), true, k)]));
const x = toTf(random([64, 1, 28, 28], 2));
const labels = tf.oneHot(
  tf.tensor1d(
    Array.from({ length: 64 }, (_, i) => i % 10),
    'int32',
  ),
  10,
);

function step(channelsLast: boolean): void {
  const { value, grads } = tf.variableGrads(() => {
    const out = program.run({ x }, [logits], { params, channelsLast })[logits];
    return tf.mean(tf.neg(tf.sum(tf.mul(labels, tf.logSoftmax(out)), 1))) as tf.Scalar;
  }, [...params.values()]);
  value.dataSync();
  tf.dispose([value, ...Object.values(grads)]);
}

describe('small CNN forward + backward, batch 64', () => {
  bench('channels-last hand-over', () => step(true), { iterations: 8, warmupIterations: 2, time: 0 });
  bench('transpose around every conv/pool', () => step(false), { iterations: 8, warmupIterations: 2, time: 0 });
});

if (process.env.PROFILE) {
  step(true);
  const info = await tf.profile(() => step(true));
  const byKernel = new Map<string, number>();
  for (const k of info.kernels) byKernel.set(k.name, (byKernel.get(k.name) ?? 0) + (k.kernelTimeMs as number));
  console.log(
    [...byKernel]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 15)
      .map(([n, t]) => `${n} ${t.toFixed(1)}ms`)
      .join('\n'),
  );
}
