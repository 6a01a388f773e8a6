#!/usr/bin/env node
/**
 * Makes the Fashion-MNIST subset shipped in data/fashion-mnist-mini (the `fashion-mini` base
 * dataset) from the official IDX files, so the demo and the tests need no system package.
 *
 *   node scripts/make_fashion_subset.mjs [--from DIR] [--out DIR] [--train-per-class N] [--test-per-class N] [--seed S]
 *
 * Defaults: --from /usr/share/datasets/fashion-mnist (Debian's dataset-fashion-mnist), --out
 * data/fashion-mnist-mini, 600 training and 100 test images per class, seed 0.
 *
 * Selection (stratified and seeded, so anyone with the official files gets the same bytes): one
 * mulberry32 stream (the algorithm of src/base/random.ts) seeded with `seed` shuffles, for the
 * training split and then the test split, each class's indices (class 0 to 9, indices in file order)
 * with Fisher-Yates; the first N of each class are kept, and the kept examples are written in their
 * original file order. selection.json records the indices and the SHA-256 of the decompressed
 * source files. The gzip headers carry mtime 0 and OS 255, so the output does not depend on when or
 * where it was made. Self-contained on purpose: a later change in src/ cannot change the subset.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';

const CLASSES = 10;
const SPLITS = [
  { name: 'train', images: 'train-images-idx3-ubyte', labels: 'train-labels-idx1-ubyte', perClassOption: '--train-per-class' },
  { name: 'test', images: 't10k-images-idx3-ubyte', labels: 't10k-labels-idx1-ubyte', perClassOption: '--test-per-class' },
];

function fail(message) {
  process.stderr.write(`make_fashion_subset: ${message}\n`);
  process.exit(1);
}

function parseArgs(argv) {
  const options = {
    '--from': '/usr/share/datasets/fashion-mnist',
    '--out': 'data/fashion-mnist-mini',
    '--train-per-class': '600',
    '--test-per-class': '100',
    '--seed': '0',
  };
  for (let i = 0; i < argv.length; i += 2) {
    if (!(argv[i] in options) || argv[i + 1] === undefined)
      fail(
        `usage: node scripts/make_fashion_subset.mjs [${Object.keys(options)
          .map((k) => `${k} X`)
          .join('] [')}]; got '${argv[i]}'`,
      );
    options[argv[i]] = argv[i + 1];
  }
  const count = (key) => {
    const n = Number(options[key]);
    if (!Number.isSafeInteger(n) || n < 0) fail(`${key} must be a non-negative integer, got '${options[key]}'`);
    return n;
  };
  return {
    from: options['--from'],
    out: options['--out'],
    perClass: { train: count('--train-per-class'), test: count('--test-per-class') },
    seed: count('--seed'),
  };
}

/** The decompressed bytes of `<base>.gz` (or `<base>`) in dir. */
function readSource(dir, base) {
  for (const [name, decode] of [
    [`${base}.gz`, gunzipSync],
    [base, (b) => b],
  ]) {
    let raw;
    try {
      raw = readFileSync(join(dir, name));
    } catch {
      continue;
    }
    try {
      return { file: join(dir, name), bytes: decode(raw) };
    } catch (err) {
      fail(`${join(dir, name)}: corrupt gzip data (${err.message})`);
    }
  }
  fail(`${join(dir, `${base}.gz`)}: not found (the official Fashion-MNIST files; on Debian: apt-get install dataset-fashion-mnist)`);
}

/** Dimensions and data offset of an unsigned-byte IDX file with the expected rank. */
function idxHeader(bytes, file, rank) {
  if (bytes.length < 4 + 4 * rank || bytes[0] !== 0 || bytes[1] !== 0 || bytes[2] !== 0x08 || bytes[3] !== rank)
    fail(`${file}: not an unsigned-byte IDX file of rank ${rank}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i));
  const offset = 4 + 4 * rank;
  if (bytes.length !== offset + dims.reduce((a, b) => a * b, 1)) fail(`${file}: size does not match its dimensions [${dims.join(', ')}]`);
  return { dims, offset };
}

function idxBytes(dims, payload) {
  const out = new Uint8Array(4 + 4 * dims.length + payload.length);
  out.set([0, 0, 0x08, dims.length]);
  const view = new DataView(out.buffer);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d));
  out.set(payload, 4 + 4 * dims.length);
  return out;
}

/** gzip with the header's mtime and OS fields fixed, so equal input gives equal files anywhere. */
function deterministicGzip(bytes) {
  const out = gzipSync(bytes, { level: 9 });
  out.fill(0, 4, 8); // MTIME
  out[9] = 255; // OS: unknown
  return out;
}

/** mulberry32, as src/base/random.ts's Rng. */
function mulberry32(seed) {
  let state = seed >>> 0;
  const nextUint32 = () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  return { int: (n) => Math.floor((nextUint32() / 4294967296) * n) };
}

function shuffle(values, rng) {
  for (let i = values.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [values[i], values[j]] = [values[j], values[i]];
  }
  return values;
}

const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

const { from, out, perClass, seed } = parseArgs(process.argv.slice(2));
const rng = mulberry32(seed);
const selection = { source: { folder: from, sha256: {} }, seed, perClass, train: [], test: [] };
const outputs = [];
for (const split of SPLITS) {
  const images = readSource(from, split.images);
  const labels = readSource(from, split.labels);
  const { dims: imageDims, offset: imageOffset } = idxHeader(images.bytes, images.file, 3);
  const { dims: labelDims, offset: labelOffset } = idxHeader(labels.bytes, labels.file, 1);
  if (labelDims[0] !== imageDims[0]) fail(`${labels.file}: ${labelDims[0]} labels for ${imageDims[0]} images`);
  selection.source.sha256[split.images] = sha256(images.bytes);
  selection.source.sha256[split.labels] = sha256(labels.bytes);

  const byClass = Array.from({ length: CLASSES }, () => []);
  for (let i = 0; i < labelDims[0]; i++) {
    const y = labels.bytes[labelOffset + i];
    if (y >= CLASSES) fail(`${labels.file}: label ${y} at index ${i} is outside 0..${CLASSES - 1}`);
    byClass[y].push(i);
  }
  const wanted = perClass[split.name];
  const kept = [];
  byClass.forEach((indices, c) => {
    if (indices.length < wanted) fail(`${labels.file}: class ${c} has ${indices.length} examples, fewer than ${split.perClassOption} ${wanted}`);
    kept.push(...shuffle(indices, rng).slice(0, wanted));
  });
  kept.sort((a, b) => a - b);

  const pixels = imageDims[1] * imageDims[2];
  const imagePayload = new Uint8Array(kept.length * pixels);
  const labelPayload = new Uint8Array(kept.length);
  kept.forEach((k, i) => {
    imagePayload.set(images.bytes.subarray(imageOffset + k * pixels, imageOffset + (k + 1) * pixels), i * pixels);
    labelPayload[i] = labels.bytes[labelOffset + k];
  });
  selection[split.name] = kept;
  outputs.push([`${split.images}.gz`, deterministicGzip(idxBytes([kept.length, imageDims[1], imageDims[2]], imagePayload))]);
  outputs.push([`${split.labels}.gz`, deterministicGzip(idxBytes([kept.length], labelPayload))]);
}

mkdirSync(out, { recursive: true });
for (const [name, bytes] of outputs) writeFileSync(join(out, name), bytes);
// One line per key: the index lists stay readable in a diff without one line per number.
const json = `{\n${Object.entries(selection)
  .map(([k, v]) => `  ${JSON.stringify(k)}: ${JSON.stringify(v)}`)
  .join(',\n')}\n}\n`;
writeFileSync(join(out, 'selection.json'), json);
process.stdout.write(
  `wrote ${out}: ${selection.train.length} training and ${selection.test.length} test images (${perClass.train} and ${perClass.test} per class, seed ${seed}) from ${from}\n`,
);
