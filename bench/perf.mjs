// npm run bench:perf: the performance record, bench/results/perf.md, assembled from the committed
// results of bench:forward, bench:detect, bench:train and bench:paper (each of which ran ours and
// the PyTorch reference in one command on one machine). Run those first to refresh the numbers.
import { readFileSync, writeFileSync, existsSync } from 'node:fs';

const dir = new URL('results/', import.meta.url);
const read = (name) => (existsSync(new URL(name, dir)) ? JSON.parse(readFileSync(new URL(name, dir), 'utf8')) : undefined);
const forward = read('forward.json');
const detect = read('detect.json');
const train = read('train.json');
const paper = read('paper.json');
const f = (x, d = 2) => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(d) : 'n/a');
const lines = [
  '# Performance record',
  '',
  'Each row comes from a benchmark that ran ours and the PyTorch reference in the same command on the same machine (2 shared CPU cores; see each file for the machine, its load and the command). Regenerate with the command in the first column, then `npm run bench:perf`.',
  '',
];
if (forward) {
  lines.push(
    '## Forward throughput (`npm run bench:forward`, ResNet-18 logits)',
    '',
    '| input | batch | engine | images/s | GFLOP/s |',
    '|---|---|---|---|---|',
  );
  for (const r of forward.rows) lines.push(`| ${r.config} | ${r.batch} | ${r.engine} | ${f(r.imagesPerSecond, 0)} | ${f(r.gflops, 1)} |`);
  lines.push('');
}
if (detect) {
  const mib = (b) => f(b / 2 ** 20, 0);
  lines.push(
    '## Taylor scoring per pair (`npm run bench:detect`, taylor-l1, ResNet-18)',
    '',
    '| input | probe | engine | s per pair | working memory (MiB) |',
    '|---|---|---|---|---|',
  );
  lines.push(`| 1x28x28 | 1024 | ours (forward-mode, ONNX Runtime) | ${f(detect.oursWarm.secondsPerPairAfterFirst)} | ${mib(detect.oursWarm.workingBytes)} |`);
  if (!detect.torch.error) lines.push(`| 1x28x28 | 1024 | ${detect.torch.engine} | ${f(detect.torch.secondsPerPair)} | ${mib(detect.torch.workingBytes)} |`);
  if (detect.big) lines.push(`| 3x64x64 | 512 | ours | ${f(detect.big.secondsPerPairAfterFirst)} | ${mib(detect.big.workingBytes)} |`);
  if (detect.torchBig && !detect.torchBig.error)
    lines.push(`| 3x64x64 | 512 | ${detect.torchBig.engine} | ${f(detect.torchBig.secondsPerPair)} | ${mib(detect.torchBig.workingBytes)} |`);
  lines.push('');
}
if (train) {
  lines.push('## Zoo training (`npm run bench:train`, batch 64)', '', '| model | engine | steps/s |', '|---|---|---|');
  for (const r of train.rows ?? []) lines.push(`| ${r.label ?? r.model} | ${r.engine} | ${f(r.stepsPerSecond)} |`);
  lines.push('');
}
if (paper) {
  const d = paper.results?.['paper-fc']?.detectorTraining;
  lines.push('## Detector training (`npm run bench:paper`, paper-fc zoo)', '');
  if (d)
    lines.push(
      `${d.counts.train} training children, ${d.epochs} epochs: ${f(d.prepareSeconds, 0)} s reading models and computing inputs, ${f(d.trainSeconds, 0)} s training (${f(d.trainSeconds / d.epochs, 1)} s per epoch, evaluation of all splits included). No PyTorch reference run: the paper's detector code is not available here; our detector's forward and gradients are checked against a PyTorch twin in the tests (fixtures/detector).`,
    );
  else lines.push('not run yet');
  lines.push('');
}
writeFileSync(new URL('perf.md', dir), `${lines.join('\n')}\n`);
process.stdout.write(`${lines.join('\n')}\n`);
