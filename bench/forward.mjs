// npm run bench:forward: ResNet-18 forward throughput, ONNX Runtime vs tfjs-wasm (our interpreter)
// vs PyTorch CPU, same machine, one command. Writes bench/results/forward.{md,json}.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { cpus, totalmem, loadavg } from 'node:os';
import { syntheticStateDict, buildGraph, resolveLayer, CompiledGraph, makeTensor } from '../dist/index.js';
import { initTfjs } from '../dist/runtime/tfjs/backend.js';
import { TfjsGraph } from '../dist/runtime/tfjs/interpreter.js';
import { toTf } from '../dist/runtime/tfjs/convert.js';

const here = new URL('.', import.meta.url).pathname;
const started = Date.now();
const torch = JSON.parse(
  execFileSync('/usr/bin/python3', [`${here}forward_torch.py`], { encoding: 'utf8', env: { ...process.env, THREADS: '2' } })
    .trim()
    .split('\n')
    .pop(),
);
const keysOf = (file) => JSON.parse(readFileSync(new URL(`../fixtures/archs/${file}.json`, import.meta.url), 'utf8')).keys;
const torchvisionKeys = JSON.parse(readFileSync(new URL('../fixtures/archs/torchvision_keys.json', import.meta.url), 'utf8')).resnet18.map((k) =>
  k.name.startsWith('fc.') ? { ...k, shape: k.name === 'fc.weight' ? [10, 512] : [10] } : k,
);
const configs = [
  { config: '1x28x28', batch: 1024, shape: [1, 28, 28], keys: keysOf('resnet18') },
  { config: '3x64x64', batch: 256, shape: [3, 64, 64], keys: torchvisionKeys },
];
const best = async (fn, repeats = 3) => {
  await fn();
  let min = Infinity;
  for (let i = 0; i < repeats; i++) {
    const t = performance.now();
    await fn();
    min = Math.min(min, (performance.now() - t) / 1000);
  }
  return min;
};
const tf = await initTfjs('wasm');
const rows = [];
for (const c of configs) {
  const flops = torch.results.find((r) => r.config === c.config).flops;
  const { graph } = buildGraph(syntheticStateDict(c.keys, 1), { inputShape: c.shape });
  const logits = resolveLayer(graph, 'logits');
  const n = c.batch;
  const x = makeTensor(
    'float32',
    [n, ...c.shape],
    new Float32Array(n * c.shape.reduce((a, b) => a * b)).map((_, i) => Math.sin(i)),
  );
  const session = await CompiledGraph.create(graph, [logits]);
  const ortSeconds = await best(() => session.run({ [graph.inputs[0].name]: x }));
  await session.release();
  const tg = TfjsGraph.for(graph);
  const input = toTf(x);
  const tfjsSeconds = await best(async () => {
    const out = tg.run({ [graph.inputs[0].name]: input }, [logits]);
    await out[logits].data();
    tf.dispose(Object.values(out));
  }, 1);
  input.dispose();
  tg.dispose();
  const t = torch.results.find((r) => r.config === c.config);
  for (const [engine, s] of [
    ['ONNX Runtime 1.30 (ours)', ortSeconds],
    ['tfjs-wasm 4.22 interpreter (ours)', tfjsSeconds],
    [`${torch.engine}, ${torch.threads} threads`, t.seconds],
  ]) {
    rows.push({ config: c.config, batch: n, engine, seconds: s, imagesPerSecond: n / s, gflops: flops / s / 1e9 });
  }
}
const machine = `${cpus().length} x ${cpus()[0].model}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}; load average at the end ${loadavg()[0].toFixed(1)} (other jobs shared the cores: read ratios, not absolute times)`;
const lines = [
  '# bench:forward — ResNet-18 forward pass (logits), float32, CPU',
  '',
  `Machine: ${machine}. Command: \`npm run bench:forward\`. Took ${((Date.now() - started) / 1000).toFixed(0)} s. Best of 3 runs after a warm-up (tfjs: 1 run).`,
  'FLOPs counted by PyTorch hooks (2 per multiply-add, convolutions and linear layers).',
  '',
  '| input | batch | engine | seconds | images/s | GFLOP/s |',
  '|---|---|---|---|---|---|',
  ...rows.map((r) => `| ${r.config} | ${r.batch} | ${r.engine} | ${r.seconds.toFixed(3)} | ${r.imagesPerSecond.toFixed(0)} | ${r.gflops.toFixed(1)} |`),
];
mkdirSync(`${here}results`, { recursive: true });
writeFileSync(`${here}results/forward.md`, `${lines.join('\n')}\n`);
writeFileSync(`${here}results/forward.json`, `${JSON.stringify({ machine, command: 'npm run bench:forward', rows }, null, 2)}\n`);
process.stdout.write(`${lines.join('\n')}\n`);
