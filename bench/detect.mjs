// npm run bench:detect: taylor-l1 on one ResNet-18 (parent, child) pair with a 1024 x 1 x 28 x 28 probe,
// ours (forward-mode JVP in ONNX Runtime) vs the paper's reverse-mode form in PyTorch, same machine,
// one command; then time per pair as the number of candidates grows. Writes bench/results/detect.{md,json}.
import { execFileSync } from 'node:child_process';
import { writeFileSync, mkdirSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';

const here = new URL('.', import.meta.url).pathname;
const runNode = (...args) => JSON.parse(execFileSync('node', [`${here}detect-worker.mjs`, ...args.map(String)], { encoding: 'utf8' }).trim().split('\n').pop());
const started = Date.now();
const ours = runNode(1, 1024);
const oursWarm = runNode(2, 1024); // second pair shows the steady-state cost once the session exists
let torch;
try {
  torch = JSON.parse(execFileSync('/usr/bin/python3', [`${here}detect_torch.py`], { encoding: 'utf8', env: { ...process.env, THREADS: '2' } }).trim().split('\n').pop());
} catch (err) {
  torch = { error: `PyTorch reference not run: ${err.message.split('\n')[0]}` };
}
const scaling = [1, 8, 64].map((k) => runNode(k, 256));
const mib = (b) => (b / 2 ** 20).toFixed(0);
const machine = `${cpus().length} x ${cpus()[0].model}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
const lines = [
  '# bench:detect — learning-free taylor-l1, ResNet-18 (1-channel stem), penultimate features',
  '',
  `Machine: ${machine}. Command: \`npm run bench:detect\`. Took ${((Date.now() - started) / 1000).toFixed(0)} s.`,
  '',
  '| engine | probe | time per pair (s) | peak RSS (MiB) |',
  '|---|---|---|---|',
  `| ours, first pair (includes session creation) | 1024 | ${ours.secondsFirstPair.toFixed(2)} | ${mib(ours.peakRssBytes)} |`,
  `| ours, next pair (session reused) | 1024 | ${oursWarm.secondsPerPairAfterFirst.toFixed(2)} | ${mib(oursWarm.peakRssBytes)} |`,
  torch.error ? `| PyTorch | 1024 | ${torch.error} | |` : `| ${torch.engine}, ${torch.threads} threads | 1024 | ${torch.secondsPerPair.toFixed(2)} | ${mib(torch.peakRssBytes)} |`,
  '',
  torch.error ? '' : `Ratios: time ${(oursWarm.secondsPerPairAfterFirst / torch.secondsPerPair).toFixed(2)}x PyTorch (steady state), peak memory ${(oursWarm.peakRssBytes / torch.peakRssBytes).toFixed(2)}x. Peak RSS includes each runtime's own libraries and the model weights held in memory.`,
  '',
  '## Time per pair as candidates grow (probe 256 rows)',
  '',
  '| candidates | total (s) | per pair after the first (s) | peak RSS (MiB) |',
  '|---|---|---|---|',
  ...scaling.map((s) => `| ${s.candidates} | ${s.secondsTotal.toFixed(2)} | ${s.secondsPerPairAfterFirst === null ? '-' : s.secondsPerPairAfterFirst.toFixed(3)} | ${mib(s.peakRssBytes)} |`),
  '',
  'Candidates are generated when the scorer asks for them (as files are read), one at a time, so peak memory does not grow with their number.',
];
mkdirSync(`${here}results`, { recursive: true });
writeFileSync(`${here}results/detect.md`, `${lines.join('\n')}\n`);
writeFileSync(`${here}results/detect.json`, `${JSON.stringify({ machine, command: 'npm run bench:detect', ours, oursWarm, torch, scaling }, null, 2)}\n`);
process.stdout.write(`${lines.join('\n')}\n`);
