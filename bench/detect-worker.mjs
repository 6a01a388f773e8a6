// One measurement in a fresh process, so peak memory belongs to it alone. Prints one JSON line.
import { readFileSync } from 'node:fs';
import { scoreMatrix, syntheticStateDict, makeTensor } from '../dist/index.js';

const [candidates, probeRows, method, config] = [
  Number(process.argv[2] ?? 1),
  Number(process.argv[3] ?? 1024),
  process.argv[4] ?? 'taylor-l1',
  process.argv[5] ?? '1x28x28',
];
// 1x28x28: the 1-channel-stem ResNet-18 of our fixtures; 3x64x64: torchvision's resnet18(num_classes=10).
const keys =
  config === '1x28x28'
    ? JSON.parse(readFileSync(new URL('../fixtures/archs/resnet18.json', import.meta.url), 'utf8')).keys
    : JSON.parse(readFileSync(new URL('../fixtures/archs/torchvision_keys.json', import.meta.url), 'utf8')).resnet18.map((k) =>
        k.name === 'fc.weight' ? { ...k, shape: [10, 512] } : k.name === 'fc.bias' ? { ...k, shape: [10] } : k,
      );
const [channels, size] = config === '1x28x28' ? [1, 28] : [3, 64];
const model = (id, seed) => ({ id, file: id, metadata: { input_shape: `${channels},${size},${size}` }, weights: syntheticStateDict(keys, seed) });
const probe = makeTensor(
  'float32',
  [probeRows, channels, size, size],
  new Float32Array(probeRows * channels * size * size).map((_, i) => Math.sin(i * 0.37)),
);
const child = model('child', 2);
// Memory held before scoring (runtime, the child's weights, the probe): the scoring's working
// memory is the peak above it (it includes each candidate's weights, loaded in turn).
const baselineRssBytes = process.memoryUsage().rss;
// Candidates are created when the scorer asks for them, as files would be read, so memory stays bounded.
const parents = Array.from({ length: candidates }, (_, i) => async () => model(`candidate${i}`, 100 + i));
parents[0] = async () => model('parent', 1);
const t0 = performance.now();
let firstDone;
const result = await scoreMatrix([child], parents, {
  probe,
  methods: [method],
  ...(process.env.BATCH_ROWS ? { batchRows: Number(process.env.BATCH_ROWS) } : {}),
  onProgress: (done) => {
    if (done === 1) firstDone = performance.now();
  },
});
const t1 = performance.now();
process.stdout.write(
  `${JSON.stringify({
    engine: 'neural-lineage forward-mode (ONNX Runtime)',
    config,
    candidates,
    probeRows,
    method,
    secondsTotal: (t1 - t0) / 1000,
    secondsFirstPair: (firstDone - t0) / 1000,
    secondsPerPairAfterFirst: candidates > 1 ? (t1 - firstDone) / 1000 / (candidates - 1) : null,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    baselineRssBytes,
    workingBytes: process.resourceUsage().maxRSS * 1024 - baselineRssBytes,
    best: result[0].children[0].parent,
  })}\n`,
);
