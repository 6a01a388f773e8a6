// One measurement in a fresh process, so peak memory belongs to it alone. Prints one JSON line.
import { readFileSync } from 'node:fs';
import { scoreMatrix, syntheticStateDict, makeTensor } from '../dist/index.js';

const [candidates, probeRows, method] = [Number(process.argv[2] ?? 1), Number(process.argv[3] ?? 1024), process.argv[4] ?? 'taylor-l1'];
const keys = JSON.parse(readFileSync(new URL('../fixtures/archs/resnet18.json', import.meta.url), 'utf8')).keys;
const model = (id, seed) => ({ id, file: id, metadata: {}, weights: syntheticStateDict(keys, seed) });
const probe = makeTensor('float32', [probeRows, 1, 28, 28], new Float32Array(probeRows * 784).map((_, i) => Math.sin(i * 0.37)));
const child = model('child', 2);
// Candidates are created when the scorer asks for them, as files would be read, so memory stays bounded.
const parents = Array.from({ length: candidates }, (_, i) => async () => model(`candidate${i}`, 100 + i));
parents[0] = async () => model('parent', 1);
const t0 = performance.now();
let firstDone;
const result = await scoreMatrix([child], parents, {
  probe,
  methods: [method],
  onProgress: (done) => {
    if (done === 1) firstDone = performance.now();
  },
});
const t1 = performance.now();
process.stdout.write(
  `${JSON.stringify({
    engine: 'neural-lineage forward-mode (ONNX Runtime)',
    candidates,
    probeRows,
    method,
    secondsTotal: (t1 - t0) / 1000,
    secondsFirstPair: (firstDone - t0) / 1000,
    secondsPerPairAfterFirst: candidates > 1 ? (t1 - firstDone) / 1000 / (candidates - 1) : null,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    best: result[0].children[0].parent,
  })}\n`,
);
