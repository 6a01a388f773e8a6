/**
 * bench:aligned — do aligned methods place permuted-then-fine-tuned children as well as plain
 * methods place unpermuted ones? (issue 17)
 *
 * For each MLP zoo bench:tree built (bench/.cache/tree-zoos), every child of generation 1 is copied
 * with the hidden units of every layer permuted at random (rows of fc_i and its bias, columns of
 * fc_{i+1}: the same function; SGD is equivariant to unit permutations, so this is a
 * permuted-then-fine-tuned child). Parent detection among the roots: plain methods on the
 * unpermuted children, plain and aligned methods on the permuted ones. Writes
 * bench/results/aligned.md and aligned.json.
 */
import { mkdtempSync, readFileSync, existsSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { resolveModel } from '../dist/lineage/model.js';
import { writeSafetensors } from '../dist/formats/safetensors.js';
import { scoreMatrix } from '../dist/lineage/learning-free.js';
import { makeTensor } from '../dist/tensor.js';
import { Rng } from '../dist/base/random.js';

const ROOT = join(import.meta.dirname, '..');
const CACHE = join(ROOT, 'bench', '.cache', 'tree-zoos');
const ZOOS = (process.env.BENCH_ALIGNED_ZOOS ?? 'demo,paper-fc,generations-fc').split(',');

function shuffled(n, rng) {
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [p[i], p[j]] = [p[j], p[i]];
  }
  return p;
}

function permuteRows(t, p) {
  const cols = t.shape.length > 1 ? t.shape[1] : 1;
  const out = new Float32Array(t.data.length);
  for (let i = 0; i < p.length; i++) out.set(t.data.subarray(p[i] * cols, (p[i] + 1) * cols), i * cols);
  return makeTensor('float32', t.shape, out);
}

function permuteCols(t, p) {
  const [rows, cols] = t.shape;
  const out = new Float32Array(t.data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[r * cols + c] = t.data[r * cols + p[c]];
  return makeTensor('float32', t.shape, out);
}

/** fc1..fcK: the hidden units between fc_i and fc_{i+1} permuted, the output layer's units (classes) kept. */
function permutedMlp(weights, seed) {
  const out = new Map(weights);
  const layers = [...weights.keys()].filter((k) => /^fc\d+\.weight$/.test(k)).sort((a, b) => Number(a.slice(2, -7)) - Number(b.slice(2, -7)));
  const rng = new Rng(seed);
  for (let i = 0; i + 1 < layers.length; i++) {
    const name = layers[i].slice(0, -'.weight'.length);
    const next = layers[i + 1];
    const p = shuffled(out.get(layers[i]).shape[0], rng);
    out.set(layers[i], permuteRows(out.get(layers[i]), p));
    if (out.has(`${name}.bias`)) out.set(`${name}.bias`, permuteRows(out.get(`${name}.bias`), p));
    out.set(next, permuteCols(out.get(next), p));
  }
  return out;
}

/** Every method in one pass: the aligned ones share one alignment per pair. */
async function detect(children, roots, methods) {
  const t = performance.now();
  const results = await scoreMatrix(children, roots, { methods, independence: false });
  return { results, seconds: (performance.now() - t) / 1000 };
}

/** Children measured per zoo at most (alignment of 1024-unit layers costs about a second per pair). */
const MAX_CHILDREN = 15;

async function benchZoo(name) {
  const dir = join(CACHE, name);
  if (!existsSync(join(dir, 'manifest.json'))) return { zoo: name, skipped: 'not built (run npm run bench:tree first)' };
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  const roots = manifest.models.filter((m) => m.parent === null).map((m) => ({ id: m.id, path: join(dir, m.file) }));
  const children = manifest.models.filter((m) => m.generation === 1).slice(0, MAX_CHILDREN);
  const work = mkdtempSync(join(tmpdir(), `aligned-${name}-`));
  const plain = children.map((m) => ({ id: m.id, path: join(dir, m.file) }));
  const permuted = [];
  for (const [i, m] of children.entries()) {
    const path = join(work, `${m.id}.safetensors`);
    await writeSafetensors(path, permutedMlp((await resolveModel(join(dir, m.file))).weights, 1000 + i));
    permuted.push({ id: m.id, path });
  }
  const truth = new Map(children.map((m) => [m.id, m.parent]));
  const rows = [];
  for (const [label, refs, methods] of [
    ['unpermuted', plain, ['weights-cos', 'weights-l2']],
    ['permuted', permuted, ['weights-cos', 'weights-l2', 'weights-aligned-cos', 'weights-aligned-l2']],
  ]) {
    const { results, seconds } = await detect(refs, roots, methods);
    for (const result of results) {
      const correct = result.children.filter((c) => c.parent === truth.get(c.child)).length;
      rows.push({ children: label, method: result.method, correct, total: result.children.length, seconds });
      console.log(`${name}: ${label} ${result.method}: ${correct}/${result.children.length}`);
    }
  }
  return { zoo: name, roots: roots.length, children: children.length, rows };
}

const started = performance.now();
const results = [];
for (const zoo of ZOOS) results.push(await benchZoo(zoo));
const lines = [
  '# bench:aligned: permuted-then-fine-tuned children, plain against aligned weight methods',
  '',
  `Machine: ${cpus().length} x ${cpus()[0]?.model ?? 'CPU'}, Node ${process.version}. Command: \`npm run bench:aligned\`. Took ${((performance.now() - started) / 1000).toFixed(0)} s.`,
  '',
  "Zoos from bench:tree's cache. Children: generation 1 (fine-tuned from a root), the first 15 per zoo; candidates: the roots. Permuted: every hidden layer's units shuffled at random (rows of fc_i and its bias, columns of fc_{i+1}; the same function). Top-1 parent found.",
  '',
];
for (const r of results) {
  lines.push(`## ${r.zoo}`, '');
  if (r.skipped) {
    lines.push(`Skipped: ${r.skipped}.`, '');
    continue;
  }
  lines.push(`${r.roots} roots, ${r.children} children.`, '', '| children | method | parent found | seconds (whole pass) |', '|---|---|---:|---:|');
  for (const row of r.rows) lines.push(`| ${row.children} | ${row.method} | ${row.correct}/${row.total} | ${row.seconds.toFixed(2)} |`);
  lines.push('');
}
const out = join(ROOT, 'bench', 'results');
writeFileSync(join(out, 'aligned.json.tmp'), JSON.stringify(results, null, 2));
renameSync(join(out, 'aligned.json.tmp'), join(out, 'aligned.json'));
writeFileSync(join(out, 'aligned.md.tmp'), `${lines.join('\n')}\n`);
renameSync(join(out, 'aligned.md.tmp'), join(out, 'aligned.md'));
console.log('wrote bench/results/aligned.md');
