// npm run bench:weights: `lineage compare` on two synthetic Llama-shaped bf16 sharded checkpoints
// (1.26B parameters, about 2.5 GB each) and on a smaller pair (about 1/8 the size), against a
// numpy-memmap reference (bench/weights_numpy.py) that reads the same files and computes the same
// per-tensor float64 sums. Measures seconds and peak RSS of each reader as its own process; the
// memory of ours should not follow the model's size. Results: bench/results/weights.{md,json}.
// The checkpoints are written under bench/tmp/ and deleted at the end.
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const work = join(root, 'bench', 'tmp', `weights-${process.pid}`);
const resultsDir = join(root, 'bench', 'results');
const SHARDS = 4;
const CHUNK_BYTES = 8 << 20;
/** The numbers ours must meet (issue 15). */
const MAX_RSS_BYTES = 600e6;
const MIN_THROUGHPUT_RATIO = 0.8;

const ALL_SIZES = [
  { label: 'small', hidden: 1024, layers: 11, intermediate: 2816, vocab: 16000 },
  { label: 'llama-1.3B', hidden: 2048, layers: 22, intermediate: 5632, vocab: 32000 },
];
// BENCH_WEIGHTS_SIZES=small runs the small pair only (for profiling); the results need both.
const only = process.env.BENCH_WEIGHTS_SIZES?.split(',');
const SIZES = only === undefined ? ALL_SIZES : ALL_SIZES.filter((s) => only.includes(s.label));

/** Hugging Face Llama tensor names and shapes, in the order transformers saves them. */
function llamaTensors({ hidden, layers, intermediate, vocab }) {
  const t = [['model.embed_tokens.weight', [vocab, hidden]]];
  for (let i = 0; i < layers; i++) {
    const p = `model.layers.${i}`;
    for (const proj of ['q', 'k', 'v', 'o']) t.push([`${p}.self_attn.${proj}_proj.weight`, [hidden, hidden]]);
    t.push([`${p}.mlp.gate_proj.weight`, [intermediate, hidden]]);
    t.push([`${p}.mlp.up_proj.weight`, [intermediate, hidden]]);
    t.push([`${p}.mlp.down_proj.weight`, [hidden, intermediate]]);
    t.push([`${p}.input_layernorm.weight`, [hidden]]);
    t.push([`${p}.post_attention_layernorm.weight`, [hidden]]);
  }
  t.push(['model.norm.weight', [hidden]]);
  t.push(['lm_head.weight', [vocab, hidden]]);
  return t.map(([name, shape]) => ({ name, shape, elements: shape.reduce((x, y) => x * y, 1) }));
}

/** Consecutive tensors grouped into `count` shards of about equal bytes. */
function shardsOf(tensors, count) {
  const total = tensors.reduce((s, t) => s + 2 * t.elements, 0);
  const shards = [[]];
  let filled = 0;
  for (const t of tensors) {
    if (filled >= (total / count) * shards.length && shards.length < count) shards.push([]);
    shards.at(-1).push(t);
    filled += 2 * t.elements;
  }
  return shards;
}

function headerBytes(tensors) {
  const header = { __metadata__: { format: 'pt' } };
  let offset = 0;
  for (const t of tensors) {
    header[t.name] = { dtype: 'BF16', shape: t.shape, data_offsets: [offset, offset + 2 * t.elements] };
    offset += 2 * t.elements;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8); // keep the data 8-byte aligned, as safetensors writers do
  const out = Buffer.alloc(8 + json.length);
  out.writeBigUInt64LE(BigInt(json.length), 0);
  out.write(json, 8, 'latin1');
  return out;
}

/**
 * Fills `a` with random bf16 pairs in [-1/64, 1/64] (sign and 7 mantissa bits random, exponent
 * fixed at 2^-7) and `b` with the same values with their two lowest mantissa bits flipped at
 * random: a relative change under 3%, so B reads as a small fine-tune of A. xorshift32 keeps it
 * fast enough that writing, not generating, sets the pace.
 */
function fillPair(a, b, state) {
  let s = state.s;
  let t = state.t;
  for (let i = 0; i < a.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    t ^= t << 13;
    t ^= t >>> 17;
    t ^= t << 5;
    const v = (s & 0x807f807f) | 0x3c003c00;
    a[i] = v;
    b[i] = v ^ (t & 0x00030003);
  }
  state.s = s;
  state.t = t;
}

/** Writes checkpoints A and B of one size, streamed in chunks; returns their index paths and counts. */
function writePair(size) {
  const tensors = llamaTensors(size);
  const shards = shardsOf(tensors, SHARDS);
  const state = { s: 0x9e3779b9, t: 0x85ebca6b };
  const bufA = new Uint32Array(CHUNK_BYTES / 4);
  const bufB = new Uint32Array(CHUNK_BYTES / 4);
  const dirs = ['A', 'B'].map((side) => join(work, `${size.label}-${side}`));
  const weightMap = {};
  for (const dir of dirs) mkdirSync(dir, { recursive: true });
  shards.forEach((group, k) => {
    const file = `model-${String(k + 1).padStart(5, '0')}-of-${String(SHARDS).padStart(5, '0')}.safetensors`;
    const fds = dirs.map((dir) => openSync(join(dir, file), 'w'));
    const header = headerBytes(group);
    for (const fd of fds) writeSync(fd, header);
    // Tensor byte counts are even and tensors follow each other, so one stream of pairs fills them all.
    let left = group.reduce((s, t) => s + 2 * t.elements, 0);
    while (left > 0) {
      const n = Math.min(CHUNK_BYTES, left);
      fillPair(bufA, bufB, state);
      writeSync(fds[0], new Uint8Array(bufA.buffer, 0, n));
      writeSync(fds[1], new Uint8Array(bufB.buffer, 0, n));
      left -= n;
    }
    for (const fd of fds) closeSync(fd);
    for (const t of group) weightMap[t.name] = file;
  });
  const parameters = tensors.reduce((s, t) => s + t.elements, 0);
  const indexes = dirs.map((dir) => {
    const path = join(dir, 'model.safetensors.index.json');
    writeFileSync(path, JSON.stringify({ metadata: { total_size: 2 * parameters }, weight_map: weightMap }));
    return path;
  });
  return { indexes, parameters, tensors: tensors.length, bytesPerModel: 2 * parameters };
}

/** Runs a command under /usr/bin/time -f %M; returns its stdout, wall seconds and peak RSS. */
function measured(command, args) {
  const started = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', command, ...args], { cwd: root, maxBuffer: 256 << 20, encoding: 'utf8' });
  const seconds = (performance.now() - started) / 1000;
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${r.status}):\n${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  return { stdout: r.stdout, seconds, peakRssBytes: Number(lines.at(-1)) * 1024 };
}

const OURS = ['--max-old-space-size=4096', 'bin/lineage.js', 'compare'];

// BENCH_WEIGHTS_BASELINE=<another checkout's bin/lineage.js> also times that build (say, before a
// change) on the same files in the same run, as a "baseline" column.
const BASELINE = process.env.BENCH_WEIGHTS_BASELINE;
/** What the baseline is, for the report (say, "commit 21258de"). */
const BASELINE_LABEL = process.env.BENCH_WEIGHTS_BASELINE_LABEL ?? BASELINE;

function runOurs(pair, bin = 'bin/lineage.js') {
  const m = measured(process.execPath, [OURS[0], bin, ...OURS.slice(2), ...pair.indexes, '--json']);
  const json = JSON.parse(m.stdout);
  return { seconds: m.seconds, innerSeconds: json.seconds, peakRssBytes: m.peakRssBytes, distance: json.distance, tensors: json.tensors };
}

function runNumpy(pair) {
  const m = measured('/usr/bin/python3', ['bench/weights_numpy.py', ...pair.indexes]);
  const json = JSON.parse(m.stdout);
  return { seconds: m.seconds, innerSeconds: json.seconds, peakRssBytes: m.peakRssBytes, distance: json.distance, tensors: json.tensors };
}

function relativeGap(x, y) {
  return Math.abs(x - y) / Math.max(Math.abs(x), Math.abs(y));
}

/** Same distance overall and per tensor (to 1e-6 relative), or the benchmark stops. */
function checkAgreement(label, ours, numpy) {
  if (!(relativeGap(ours.distance, numpy.distance) <= 1e-6)) throw new Error(`${label}: distance ${ours.distance} (ours) vs ${numpy.distance} (numpy)`);
  const theirs = new Map(numpy.tensors.map((t) => [t.name, t]));
  if (ours.tensors.length !== numpy.tensors.length)
    throw new Error(`${label}: ${ours.tensors.length} tensors compared (ours) vs ${numpy.tensors.length} (numpy)`);
  for (const t of ours.tensors) {
    const n = theirs.get(t.a_name);
    if (n === undefined || t.b_name !== t.a_name) throw new Error(`${label}: ours paired ${t.a_name} with ${t.b_name}`);
    if (!(relativeGap(t.rel_l2, n.rel_l2) <= 1e-6 && relativeGap(t.cos, n.cos) <= 1e-6))
      throw new Error(`${label}: ${t.a_name} differs: ${JSON.stringify([t, n])}`);
  }
}

const GB = 1e9;
const MB = 1e6;
const rows = [];
const benchStarted = Date.now();
try {
  for (const size of SIZES) {
    const generated = performance.now();
    const pair = writePair(size);
    const writeSeconds = (performance.now() - generated) / 1000;
    console.log(`${size.label}: ${pair.parameters} parameters, ${(pair.bytesPerModel / GB).toFixed(2)} GB per model, written in ${writeSeconds.toFixed(1)} s`);
    // The first run of each reader warms the page cache (both models fit in memory here); the
    // second is the one reported, so both readers read from cache, not from disk.
    const runs = { ours: [], numpy: [] };
    for (let round = 0; round < 2; round++) {
      runs.ours.push(runOurs(pair));
      if (BASELINE !== undefined) runs.baseline = runOurs(pair, BASELINE);
      runs.numpy.push(runNumpy(pair));
      console.log(`  round ${round + 1}: ours ${runs.ours.at(-1).seconds.toFixed(2)} s, numpy ${runs.numpy.at(-1).seconds.toFixed(2)} s`);
    }
    const ours = runs.ours[1];
    const numpy = runs.numpy[1];
    checkAgreement(size.label, ours, numpy);
    const readBytes = 2 * pair.bytesPerModel;
    rows.push({
      size: size.label,
      shape: size,
      parameters: pair.parameters,
      tensors: pair.tensors,
      gbPerModel: pair.bytesPerModel / GB,
      distance: ours.distance,
      distanceNumpy: numpy.distance,
      ours: { seconds: ours.seconds, firstRunSeconds: runs.ours[0].seconds, gbPerSecond: readBytes / GB / ours.seconds, peakRssMb: ours.peakRssBytes / MB },
      numpy: {
        seconds: numpy.seconds,
        firstRunSeconds: runs.numpy[0].seconds,
        gbPerSecond: readBytes / GB / numpy.seconds,
        peakRssMb: numpy.peakRssBytes / MB,
      },
      throughputRatio: numpy.seconds / ours.seconds,
      baseline:
        runs.baseline === undefined
          ? undefined
          : {
              bin: BASELINE,
              label: BASELINE_LABEL,
              seconds: runs.baseline.seconds,
              gbPerSecond: readBytes / GB / runs.baseline.seconds,
              peakRssMb: runs.baseline.peakRssBytes / MB,
              sameDistance: relativeGap(runs.baseline.distance, ours.distance) <= 1e-12,
            },
    });
    rmSync(work, { recursive: true, force: true });
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

const machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', memoryGb: totalmem() / GB, loadAverage: loadavg(), node: process.version };
const numpyVersion = execFileSync('/usr/bin/python3', ['-c', 'import numpy; print(numpy.__version__)'], { encoding: 'utf8' }).trim();
const big = rows.at(-1);
const verdict = {
  peakRssUnder600Mb: rows.every((r) => r.ours.peakRssMb <= MAX_RSS_BYTES / MB),
  throughputAtLeast80PercentOfNumpy: big.throughputRatio >= MIN_THROUGHPUT_RATIO,
};
const command = `node ${OURS.join(' ')} <A>/model.safetensors.index.json <B>/model.safetensors.index.json --json`;
mkdirSync(resultsDir, { recursive: true });
if (only === undefined)
  writeFileSync(
    join(resultsDir, 'weights.json'),
    `${JSON.stringify({ date: new Date().toISOString(), machine, numpy: numpyVersion, command, rows, verdict }, null, 2)}\n`,
  );

const f = (x, d = 2) => x.toFixed(d);
const baselineLines = rows
  .filter((r) => r.baseline !== undefined)
  .map(
    (r) =>
      `- Baseline ${r.baseline.label} (second of two runs, warm cache) on ${r.size}: ${f(r.baseline.seconds)} s, ${f(r.baseline.gbPerSecond)} GB/s, peak RSS ${f(r.baseline.peakRssMb, 0)} MB, ${f(r.baseline.seconds / r.ours.seconds, 1)}x the time of this build (same distance: ${r.baseline.sameDistance ? 'yes' : 'no'}).\n`,
  )
  .join('');
const table = rows.map(
  (r) =>
    `| ${r.size} (hidden ${r.shape.hidden}, ${r.shape.layers} layers, MLP ${r.shape.intermediate}, vocab ${r.shape.vocab}) | ${(r.parameters / 1e9).toFixed(3)} B | ${f(r.gbPerModel)} | ${f(r.ours.seconds)} (${f(r.ours.firstRunSeconds)}) | ${f(r.ours.gbPerSecond)} | ${f(r.ours.peakRssMb, 0)} | ${f(r.numpy.seconds)} (${f(r.numpy.firstRunSeconds)}) | ${f(r.numpy.gbPerSecond)} | ${f(r.numpy.peakRssMb, 0)} | ${f(r.throughputRatio)} |`,
);
const md = `# Weight comparison at scale (\`npm run bench:weights\`)

Two synthetic Llama-shaped bf16 checkpoints in Hugging Face naming, sharded in ${SHARDS} safetensors
files with \`model.safetensors.index.json\`; B is A with the two lowest mantissa bits of every value
flipped at random (a small fine-tune). Ours: \`${command}\` under \`/usr/bin/time -f %M\`.
Reference: \`bench/weights_numpy.py\` (numpy ${numpyVersion}): np.memmap of the same shards, bf16 decoded by
\`(u16.astype(np.uint32) << 16).view(np.float32)\` in 16 MiB row blocks, the same four float64 sums
per tensor by \`np.dot\`. Both give the same overall distance and per-tensor rel L2 and cos (checked
to 1e-6 relative). Seconds are whole-process wall time (Node or Python start-up included) of the
second run; the first run is in parentheses. Both models fit in the page cache and were just
written, so both runs read from memory: no cold-disk numbers are measured here. GB/s counts the
bf16 bytes of both models.

| size | parameters | GB per model | ours s (first run) | ours GB/s | ours peak RSS MB | numpy s (first run) | numpy GB/s | numpy peak RSS MB | ours/numpy throughput |
|---|---|---|---|---|---|---|---|---|---|
${table.join('\n')}

- Peak RSS of ours at most 600 MB at both sizes: **${verdict.peakRssUnder600Mb ? 'yes' : 'no'}**; from the small to the large pair it went
  from ${f(rows[0].ours.peakRssMb, 0)} MB to ${f(big.ours.peakRssMb, 0)} MB while the models grew ${f(big.parameters / rows[0].parameters, 1)}x.
${baselineLines}- Throughput of ours at least 80% of numpy's on the 1.3B pair: **${verdict.throughputAtLeast80PercentOfNumpy ? 'yes' : 'no'}** (${f(100 * big.throughputRatio, 0)}%).
- numpy's peak RSS counts the memory-mapped file pages it touched (shared page cache, not private memory).

Machine: ${machine.cpus} CPUs (${machine.cpuModel}), ${f(machine.memoryGb, 0)} GB memory, load average at the end ${machine.loadAverage.map((x) => f(x)).join(' / ')}, Node ${machine.node}.
Other work was running on the machine at the same time (see the load average); each timing is one run.
Whole benchmark: ${f((Date.now() - benchStarted) / 1000, 0)} s.
`;
// A subset run (BENCH_WEIGHTS_SIZES) prints its numbers but keeps the recorded results.
if (only === undefined) writeFileSync(join(resultsDir, 'weights.md'), md);
console.log(md);
