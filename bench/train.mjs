// npm run bench:train: training steps per second of the zoo models (MLP 784-1024-256-128-10 and
// convnet 16-32-64, batch 64, 1x28x28, SGD momentum 0.9, cross-entropy, BatchNorm in train mode)
// with our trainer (tfjs-wasm interpreter, single-threaded) vs PyTorch CPU on the same machine.
// Writes bench/results/train.{md,json}.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem, loadavg } from 'node:os';
import { initTfjs } from '../dist/runtime/tfjs/backend.js';
import { mlpSpec } from '../dist/archs/mlp.js';
import { initWeights } from '../dist/train/init.js';
import { prepareFinetune } from '../dist/train/finetune.js';
import { TrainSession } from '../dist/train/trainer.js';
import { Rng } from '../dist/base/random.js';

const here = new URL('.', import.meta.url).pathname;
const started = Date.now();
const BATCH = 64;
const torch = JSON.parse(
  execFileSync('/usr/bin/python3', [`${here}train_torch.py`], { encoding: 'utf8', env: { ...process.env, THREADS: '1,2' } })
    .trim()
    .split('\n')
    .pop(),
);

await initTfjs('wasm');
const rng = new Rng(0);
const batch = {
  name: 'random',
  inputs: Float32Array.from({ length: BATCH * 784 }, () => rng.normal()),
  shape: [1, 28, 28],
  labels: Int32Array.from({ length: BATCH }, () => rng.int(10)),
  numClasses: 10,
};
const models = [
  { model: 'mlp', label: 'MLP 784-1024-256-128-10', weights: () => initWeights(mlpSpec([784, 1024, 256, 128, 10]), 0), steps: 30 },
  {
    model: 'convnet',
    label: 'convnet 16-32-64 (BatchNorm)',
    weights: () => initWeights({ name: 'convnet', inChannels: 1, widths: [16, 32, 64], numClasses: 10 }, 0),
    steps: 10,
  },
];
const rows = [];
for (const m of models) {
  const plan = prepareFinetune(m.weights(), { kind: 'classification', numClasses: 10, inputShape: [1, 28, 28], mode: { kind: 'full' }, seed: 0 });
  const config = { optimizer: 'sgd', lr: 0.01, momentum: 0.9, batchSize: BATCH, steps: 1, seed: 0 };
  const session = new TrainSession(plan, config, [1, 28, 28]);
  for (let i = 0; i < 3; i++) session.step(batch);
  let best = Infinity;
  for (let r = 0; r < 3; r++) {
    const t = performance.now();
    for (let i = 0; i < m.steps; i++) session.step(batch);
    best = Math.min(best, (performance.now() - t) / 1000 / m.steps);
  }
  session.dispose();
  rows.push({ model: m.model, label: m.label, engine: 'neural-lineage trainer (tfjs-wasm 4.22, 1 thread)', stepsPerSecond: 1 / best });
  for (const t of torch.results.filter((x) => x.model === m.model)) {
    rows.push({ model: m.model, label: m.label, engine: `${torch.engine}, ${t.threads} thread${t.threads > 1 ? 's' : ''}`, stepsPerSecond: t.stepsPerSecond });
  }
}
const machine = `${cpus().length} x ${cpus()[0].model}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}; load average at the end ${loadavg()[0].toFixed(1)} (other jobs shared the cores: read ratios, not absolute times)`;
const lines = [
  '# bench:train — training steps per second (batch 64, 1x28x28, float32, CPU)',
  '',
  `Machine: ${machine}. Command: \`npm run bench:train\`. Took ${((Date.now() - started) / 1000).toFixed(0)} s.`,
  'One step = forward, cross-entropy, backward, SGD (momentum 0.9) update; BatchNorm in train mode (batch statistics,',
  'running statistics updated). Best of 3 timed runs after a warm-up. tfjs-wasm runs single-threaded under Node.',
  '',
  '| model | engine | steps/s | ms/step | images/s |',
  '|---|---|---:|---:|---:|',
  ...rows.map(
    (r) => `| ${r.label} | ${r.engine} | ${r.stepsPerSecond.toFixed(2)} | ${(1000 / r.stepsPerSecond).toFixed(1)} | ${(r.stepsPerSecond * BATCH).toFixed(0)} |`,
  ),
  '',
];
mkdirSync(new URL('results/', import.meta.url), { recursive: true });
writeFileSync(new URL('results/train.md', import.meta.url), lines.join('\n'));
writeFileSync(new URL('results/train.json', import.meta.url), `${JSON.stringify({ machine, batch: BATCH, rows }, null, 2)}\n`);
process.stdout.write(lines.join('\n'));
