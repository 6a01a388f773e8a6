// npm run bench:detect: taylor-l1 on one ResNet-18 (parent, child) pair with a 1024 x 1 x 28 x 28 probe,
// ours (forward-mode JVP in ONNX Runtime) vs the paper's reverse-mode form in PyTorch, same machine,
// one command; then time per pair as the number of candidates grows. Writes bench/results/detect.{md,json}.
import { execFileSync } from 'node:child_process';
import { writeFileSync, mkdirSync } from 'node:fs';
import { cpus, totalmem, loadavg } from 'node:os';

const here = new URL('.', import.meta.url).pathname;
const runNode = (...args) =>
  JSON.parse(
    execFileSync('node', [`${here}detect-worker.mjs`, ...args.map(String)], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .pop(),
  );
const started = Date.now();
const runTorch = (config, rows) => {
  try {
    return JSON.parse(
      execFileSync('/usr/bin/python3', [`${here}detect_torch.py`], {
        encoding: 'utf8',
        env: { ...process.env, THREADS: '2', CONFIG: config, PROBE: String(rows) },
      })
        .trim()
        .split('\n')
        .pop(),
    );
  } catch (err) {
    return { error: `PyTorch reference not run: ${err.message.split('\n')[0]}` };
  }
};
const ours = runNode(1, 1024, 'taylor-l1', '1x28x28');
const oursWarm = runNode(2, 1024, 'taylor-l1', '1x28x28');
const torch = runTorch('1x28x28', 1024);
// Larger inputs, where stored activations (reverse mode) dominate memory.
const big = runNode(2, 512, 'taylor-l1', '3x64x64');
const torchBig = runTorch('3x64x64', 512);
const scaling = [1, 8, 64].map((k) => runNode(k, 256));
const mib = (b) => (b / 2 ** 20).toFixed(0);
const machine = `${cpus().length} x ${cpus()[0].model}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}; load average at the end ${loadavg()[0].toFixed(1)} (other jobs shared the cores: read ratios, not absolute times)`;
const lines = [
  '# bench:detect — learning-free taylor-l1, ResNet-18 (1-channel stem), penultimate features',
  '',
  `Machine: ${machine}. Command: \`npm run bench:detect\`. Took ${((Date.now() - started) / 1000).toFixed(0)} s.`,
  '',
  '| engine | probe | time per pair (s) | peak RSS (MiB) | working memory above the loaded models (MiB) |',
  '|---|---|---|---|---|',
  `| ours, first pair (includes loading ONNX Runtime's kernels) | 1024 | ${ours.secondsFirstPair.toFixed(2)} | ${mib(ours.peakRssBytes)} | ${mib(ours.workingBytes)} |`,
  `| ours, second pair | 1024 | ${oursWarm.secondsPerPairAfterFirst.toFixed(2)} | ${mib(oursWarm.peakRssBytes)} | ${mib(oursWarm.workingBytes)} |`,
  torch.error
    ? `| PyTorch | 1024 | ${torch.error} | | |`
    : `| ${torch.engine}, ${torch.threads} threads | 1024 | ${torch.secondsPerPair.toFixed(2)} | ${mib(torch.peakRssBytes)} | ${mib(torch.workingBytes)} |`,
  `| ours, 3x64x64 (torchvision stem), second pair | 512 | ${big.secondsPerPairAfterFirst.toFixed(2)} | ${mib(big.peakRssBytes)} | ${mib(big.workingBytes)} |`,
  torchBig.error
    ? `| PyTorch 3x64x64 | 512 | ${torchBig.error} | | |`
    : `| ${torchBig.engine}, 3x64x64 | 512 | ${torchBig.secondsPerPair.toFixed(2)} | ${mib(torchBig.peakRssBytes)} | ${mib(torchBig.workingBytes)} |`,
  '',
  torchBig.error
    ? ''
    : `3x64x64 ratios (ours / PyTorch): time ${(big.secondsPerPairAfterFirst / torchBig.secondsPerPair).toFixed(2)}x, working memory ${(big.workingBytes / torchBig.workingBytes).toFixed(2)}x.`,
  torch.error
    ? ''
    : `1x28x28 ratios (ours / PyTorch): time ${(oursWarm.secondsPerPairAfterFirst / torch.secondsPerPair).toFixed(2)}x per pair; peak RSS ${(oursWarm.peakRssBytes / torch.peakRssBytes).toFixed(2)}x; working memory ${(oursWarm.workingBytes / torch.workingBytes).toFixed(2)}x. Peak RSS includes each runtime's libraries (importing torch alone takes a few hundred MiB); working memory is the peak above what was held before scoring (for us that includes each candidate's weights, read in turn, the weight delta and the ONNX Runtime session that embeds them; for PyTorch, the stored activations and gradients). Each pair builds its own ONNX Runtime session with the weights as constants, so ORT can prepack its convolutions.`,
  '',
  '## Time per pair as candidates grow (probe 256 rows)',
  '',
  '| candidates | total (s) | per pair after the first (s) | peak RSS (MiB) |',
  '|---|---|---|---|',
  ...scaling.map(
    (s) =>
      `| ${s.candidates} | ${s.secondsTotal.toFixed(2)} | ${s.secondsPerPairAfterFirst === null ? '-' : s.secondsPerPairAfterFirst.toFixed(3)} | ${mib(s.peakRssBytes)} |`,
  ),
  '',
  'Candidates are generated when the scorer asks for them (as files are read), one at a time, so peak memory does not grow with their number.',
];
mkdirSync(`${here}results`, { recursive: true });
writeFileSync(`${here}results/detect.md`, `${lines.join('\n')}\n`);
writeFileSync(
  `${here}results/detect.json`,
  `${JSON.stringify({ machine, command: 'npm run bench:detect', ours, oursWarm, torch, big, torchBig, scaling }, null, 2)}\n`,
);
process.stdout.write(`${lines.join('\n')}\n`);
