// Speed of tfjs-core + wasm backend with our kernel fixes: matmul GFLOP/s and one SGD step of a
// small CNN. Plain Node on the compiled library (no vitest, no tsx):
//   npm run build && node bench/tfjs-kernels.mjs
import { initTfjs } from '../dist/runtime/tfjs/backend.js';

const tf = await initTfjs('wasm');

/** Median seconds per call of fn (whose result is read back, then disposed). */
function time(fn, reps) {
  const once = () => {
    const t0 = performance.now();
    const out = fn();
    (Array.isArray(out) ? out : [out]).forEach((t) => {
      t.dataSync();
      t.dispose();
    });
    return (performance.now() - t0) / 1000;
  };
  once();
  const samples = Array.from({ length: reps }, once).sort((a, b) => a - b);
  return samples[Math.floor(reps / 2)];
}

function matmulReport() {
  const n = 1024;
  const a = tf.randomNormal([n, n], 0, 1, 'float32', 1);
  const b = tf.randomNormal([n, n], 0, 1, 'float32', 2);
  const flops = 2 * n * n * n;
  const rows = [
    ['1024^3', () => tf.matMul(a, b), flops],
    ['1024^3 transposeA', () => tf.matMul(a, b, true, false), flops],
    ['1024^3 transposeB', () => tf.matMul(a, b, false, true), flops],
  ];
  const a3 = tf.randomNormal([8, 256, 512], 0, 1, 'float32', 3);
  const b2 = tf.randomNormal([512, 256], 0, 1, 'float32', 4);
  const b3 = tf.randomNormal([8, 512, 256], 0, 1, 'float32', 5);
  rows.push(['[8,256,512] x [512,256]', () => tf.matMul(a3, b2), 2 * 8 * 256 * 512 * 256]);
  rows.push(['[8,256,512] x [8,512,256]', () => tf.matMul(a3, b3), 2 * 8 * 256 * 512 * 256]);
  const q = tf.randomNormal([192, 197, 64], 0, 1, 'float32', 6);
  rows.push(['attention QK^T [192,197,64] x [192,197,64]^T', () => tf.matMul(q, q, false, true), 2 * 192 * 197 * 197 * 64]);
  for (const [name, fn, f] of rows) {
    const s = time(fn, 5);
    console.log(`matmul ${name}: ${(s * 1000).toFixed(1)} ms, ${(f / s / 1e9).toFixed(1)} GFLOP/s`);
  }
  tf.dispose([a, b, a3, b2, b3, q]);
}

function cnnReport() {
  const batch = 64;
  const init = (shape, fanIn, seed) => tf.variable(tf.randomNormal(shape, 0, Math.sqrt(2 / fanIn), 'float32', seed));
  const w1 = init([3, 3, 1, 32], 9, 11);
  const w2 = init([3, 3, 32, 64], 9 * 32, 12);
  const w3 = init([14 * 14 * 64, 10], 14 * 14 * 64, 13);
  const x = tf.randomUniform([batch, 28, 28, 1], 0, 1, 'float32', 14);
  const labels = tf.oneHot(tf.randomUniform([batch], 0, 10, 'int32', 15), 10);
  const forward = () => {
    const h1 = tf.relu(tf.conv2d(x, w1, 1, 'same'));
    const h2 = tf.relu(tf.conv2d(h1, w2, 2, 'same'));
    return tf.matMul(tf.reshape(h2, [batch, -1]), w3);
  };
  const loss = () => tf.losses.softmaxCrossEntropy(labels, forward());
  const optimizer = tf.train.sgd(0.01);
  const forwardSeconds = time(() => tf.tidy(forward), 5);
  const stepSeconds = time(() => tf.tidy(() => optimizer.minimize(loss, true)), 5);
  console.log(
    `small CNN (conv 1->32 3x3, conv 32->64 3x3 s2, fc 12544->10), batch ${batch}, 28x28: ` +
      `forward ${forwardSeconds.toFixed(3)} s, SGD train step ${stepSeconds.toFixed(3)} s`,
  );
}

console.log(`tfjs ${tf.version_core}, backend ${tf.getBackend()}, SIMD ${await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')}, 1 thread`);
matmulReport();
cnnReport();
