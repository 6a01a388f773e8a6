// npm run bench:formats: what opening a model file costs when only part of it is read. A
// safetensors file with a 16-byte tensor beside a 3 GB one (a sparse file: a hole, not 3 GB of
// disk) is opened, listed and its small tensor read, against the same header over a file holding
// only the small tensor; the time and the memory should not follow the big tensor's size.
// The unit test (test/formats/safetensors.test.ts) checks the result and the memory; the time is
// measured here, where a loaded machine cannot fail a test. Results: bench/results/formats.md.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, truncateSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { SafetensorsFile } from '../dist/index.js';

const started = Date.now();
const REPEATS = 20;
const BIG = 3_000_000_000;
const work = mkdtempSync(join(tmpdir(), 'lineage-bench-formats-'));

/** A safetensors file: 8-byte little-endian header length, the JSON header, then the data. */
function writeFile(path, header, data, size) {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  writeFileSync(path, out);
  truncateSync(path, size ?? out.length);
}

const small = new Uint8Array(Float32Array.from([1.5, -2, 0.25, 8]).buffer);
const smallEntry = { dtype: 'F32', shape: [4], data_offsets: [0, 16] };
const files = [
  { label: 'small tensor only', path: join(work, 'small.safetensors'), header: { small: smallEntry }, bigBytes: 0 },
  {
    label: 'small tensor beside a 3 GB one (sparse)',
    path: join(work, 'huge.safetensors'),
    header: { small: smallEntry, huge: { dtype: 'U8', shape: [BIG / 1000, 1000], data_offsets: [16, 16 + BIG] } },
    bigBytes: BIG,
  },
];
for (const f of files) {
  const headerBytes = new TextEncoder().encode(JSON.stringify(f.header)).length;
  writeFile(f.path, f.header, small, 8 + headerBytes + 16 + f.bigBytes);
}

async function openListRead(path) {
  const st = await SafetensorsFile.open(path);
  try {
    if (st.tensors.length === 0) throw new Error(`${path}: no tensors listed`);
    const t = await st.read('small');
    if (t.data[0] !== 1.5) throw new Error(`${path}: read ${t.data[0]}, expected 1.5`);
  } finally {
    await st.close();
  }
}

const rows = [];
for (const f of files) {
  await openListRead(f.path); // warm-up: module code and file-system caches
  const times = [];
  let peakArrayBuffers = 0;
  let peakRss = 0;
  for (let i = 0; i < REPEATS; i++) {
    const before = process.memoryUsage();
    const t = performance.now();
    await openListRead(f.path);
    times.push(performance.now() - t);
    const after = process.memoryUsage();
    peakArrayBuffers = Math.max(peakArrayBuffers, after.arrayBuffers - before.arrayBuffers);
    peakRss = Math.max(peakRss, after.rss - before.rss);
  }
  times.sort((a, b) => a - b);
  rows.push({ label: f.label, median: times[Math.floor(REPEATS / 2)], best: times[0], peakArrayBuffers, peakRss });
}
rmSync(work, { recursive: true, force: true });

const mib = (bytes) => (Math.max(0, bytes) / 2 ** 20).toFixed(2);
const machine = `${cpus().length} x ${cpus()[0].model}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}; load average at the end ${loadavg()[0].toFixed(1)} (other jobs may share the cores: read ratios, not absolute times)`;
const md = [
  '# bench:formats — opening a safetensors file and reading one small tensor',
  '',
  `Machine: ${machine}. Command: \`npm run bench:formats\`. Took ${((Date.now() - started) / 1000).toFixed(0)} s. ${REPEATS} runs per file after a warm-up.`,
  '',
  'Each run: `SafetensorsFile.open`, list the tensors, read the 16-byte tensor `small`, close. The growth columns are the largest increase over one run (0 when memory was freed meanwhile).',
  '',
  '| file | median ms | best ms | ArrayBuffer growth, MiB | RSS growth, MiB |',
  '| --- | ---: | ---: | ---: | ---: |',
  ...rows.map((r) => `| ${r.label} | ${r.median.toFixed(2)} | ${r.best.toFixed(2)} | ${mib(r.peakArrayBuffers)} | ${mib(r.peakRss)} |`),
  '',
];
const resultsDir = new URL('results/', import.meta.url).pathname;
mkdirSync(resultsDir, { recursive: true });
writeFileSync(join(resultsDir, 'formats.md'), md.join('\n'));
console.log(md.join('\n'));
